//go:build integration

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpsTLS serves HTTPS from server.tls, refuses TLS below 1.2, and swaps
// the key pair on SIGHUP (refusing a broken one).
func TestOpsTLS(t *testing.T) {
	t.Parallel()
	o := newOpsServer(t, opsOptions{})
	certPath, keyPath := filepath.Join(o.dir, "tls.crt"), filepath.Join(o.dir, "tls.key")
	first := serverCert(t, "first")
	replaceFile(t, certPath, first.certPEM)
	replaceFile(t, keyPath, first.keyPEM)
	port := strings.TrimPrefix(o.addr, "127.0.0.1:")
	o.opts.server = fmt.Sprintf("  public_url: https://localhost:%s\n  tls:\n    cert: %s\n    key: %s\n", port, certPath, keyPath)
	o.url = "https://localhost:" + port
	o.client = first.client(0)
	o.start(t)

	get := func(c *http.Client, path string) (int, error) {
		resp, err := c.Get(o.url + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	t.Run("https with the first pair", func(t *testing.T) {
		if status, err := get(first.client(0), "/healthz"); err != nil || status != http.StatusOK {
			t.Fatalf("GET /healthz: %d %v", status, err)
		}
		tok := o.getTokenWith(t, first.client(0))
		if !strings.Contains(tok, ".") {
			t.Fatalf("no token over https: %q", tok)
		}
	})
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		if _, err := get(first.client(tls.VersionTLS11), "/healthz"); err == nil {
			t.Fatal("a TLS 1.1 client was served")
		}
	})
	t.Run("plain HTTP not served", func(t *testing.T) {
		status, err := get(http.DefaultClient, "/healthz")
		if err == nil && status == http.StatusOK {
			t.Fatal("plain HTTP answered 200 on the TLS listener")
		}
	})

	second := serverCert(t, "second")
	t.Run("SIGHUP loads a new pair", func(t *testing.T) {
		replaceFile(t, certPath, second.certPEM)
		replaceFile(t, keyPath, second.keyPEM)
		o.signal(t, syscall.SIGHUP)
		o.waitLog(t, "reload: TLS key pair loaded", 1)
		if status, err := get(second.client(0), "/healthz"); err != nil || status != http.StatusOK {
			t.Fatalf("new pair not served: %d %v", status, err)
		}
		if _, err := get(first.client(0), "/healthz"); err == nil {
			t.Fatal("a new connection still got the old certificate")
		}
	})
	t.Run("SIGHUP with a broken pair keeps the current one", func(t *testing.T) {
		replaceFile(t, keyPath, first.keyPEM) // does not match the second certificate
		o.signal(t, syscall.SIGHUP)
		o.waitLog(t, "new TLS key pair refused", 1)
		if status, err := get(second.client(0), "/healthz"); err != nil || status != http.StatusOK {
			t.Fatalf("current pair lost after a bad reload: %d %v", status, err)
		}
	})
}

// getTokenWith fetches an anonymous token through c and returns it.
func (o *opsServer) getTokenWith(t *testing.T, c *http.Client) string {
	t.Helper()
	r := send(t, c, newRequest(t, http.MethodGet, o.url+"/service/token?service=harbor-registry", nil))
	if r.status != http.StatusOK {
		t.Fatalf("token over https: %d %s", r.status, r.body)
	}
	return string(r.body)
}

// tlsPair is a self-signed server certificate for localhost and 127.0.0.1.
type tlsPair struct {
	cert            *x509.Certificate
	certPEM, keyPEM []byte
}

func serverCert(t *testing.T, cn string) tlsPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "e2e " + cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return tlsPair{
		cert:    cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// client trusts only this pair, opens a new connection per request, and
// caps the TLS version at maxVersion (0: no cap).
func (p tlsPair) client(maxVersion uint16) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(p.cert)
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: maxVersion},
		},
	}
}
