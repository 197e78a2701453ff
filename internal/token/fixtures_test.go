package token

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// Keys are expensive (RSA); tests share one per algorithm.
var (
	keysMu sync.Mutex
	keys   = map[string]crypto.Signer{}
)

func testKey(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keys[alg]; ok {
		return k
	}
	k, err := newKey(alg, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys[alg] = k
	return k
}

// freshKey generates a key not shared with other tests.
func freshKey(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	k, err := newKey(alg, 0)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func selfSigned(t testing.TB, key crypto.Signer) *x509.Certificate {
	t.Helper()
	c, err := SelfSignedCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issueCert signs a certificate for pub with parent/parentKey (a CA).
func issueCert(t testing.TB, cn string, pub crypto.PublicKey, isCA bool, parent *x509.Certificate, parentKey crypto.Signer, notAfter time.Time) *x509.Certificate {
	t.Helper()
	return createCert(t, certTemplate(cn, isCA, notAfter), parent, pub, parentKey)
}

// certTemplate is a certificate for cn valid until notAfter; a CA may
// sign certificates.
func certTemplate(cn string, isCA bool, notAfter time.Time) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-2 * time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	return tmpl
}

// createCert signs tmpl for pub with parent/parentKey and parses the result.
func createCert(t testing.TB, tmpl *x509.Certificate, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testChain returns root, intermediate and a leaf certificate for leafKey.
func testChain(t testing.TB, leafKey crypto.Signer) (root, inter, leaf *x509.Certificate) {
	t.Helper()
	rootKey, interKey := testKey(t, ES256), freshKey(t, ES256)
	far := time.Now().Add(24 * time.Hour)
	rootTmpl := issueCertSelf(t, "test root", rootKey, far)
	inter = issueCert(t, "test intermediate", interKey.Public(), true, rootTmpl, rootKey, far)
	leaf = issueCert(t, "test leaf", leafKey.Public(), false, inter, interKey, far)
	return rootTmpl, inter, leaf
}

// issueCertSelf is a self-signed CA certificate for key.
func issueCertSelf(t testing.TB, cn string, key crypto.Signer, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := certTemplate(cn, true, notAfter)
	return createCert(t, tmpl, tmpl, key.Public(), key)
}

// endsInError checks err against want, the text a failing case's error
// contains ("" for a case that succeeds), and fails t on a mismatch. It
// reports whether the case ended in the error it wanted.
func endsInError(t testing.TB, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
	return true
}

func mustSigner(t testing.TB, key crypto.Signer, certs []*x509.Certificate, mode KIDMode) *Signer {
	t.Helper()
	s, err := NewSignerFromKey(key, certs, mode)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// kidOnly is s with tokens that carry kid but no x5c.
func kidOnly(t testing.TB, s *Signer) *Signer {
	t.Helper()
	k, err := s.WithoutX5C()
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Certificates()) != len(s.Certificates()) || len(k.JWK().X5c) != len(s.JWK().X5c) {
		t.Fatal("WithoutX5C dropped the certificates, not just the header")
	}
	return k
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// segment decodes part i (0 header, 1 payload) of a compact JWS into raw
// JSON members.
func segment(t testing.TB, raw string, i int) map[string]json.RawMessage {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	return m
}

// verifyWith checks raw's signature with the signer whose kid the header
// names (go-jose, the library registry 3.x verifies with).
func verifyWith(raw string, signers ...*Signer) error {
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.ES512})
	if err != nil {
		return err
	}
	for _, s := range signers {
		if s.KID() == tok.Headers[0].KeyID {
			var m map[string]any
			return tok.Claims(s.PublicKey(), &m)
		}
	}
	return fmt.Errorf("token signed with unknown kid %q", tok.Headers[0].KeyID)
}
