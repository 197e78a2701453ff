// Package oidctest runs a real OIDC issuer on loopback for tests: a
// discovery document and a JWKS over HTTP (or HTTPS), keys generated on
// the spot, JWTs shaped like those of GitHub Actions, GitLab CI and
// Kubernetes, and (HandleToken) a token endpoint the test answers, for the
// negative cases of an authorization-code flow a real provider will not
// produce.
package oidctest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Issuer is an OIDC issuer serving /.well-known/openid-configuration and
// /jwks on a loopback port. Only its current keys are published; Rotate
// adds one, Stop and Start take it off and back on the network.
type Issuer struct {
	t    testing.TB
	addr string
	// URL is the issuer URL, the iss of minted JWTs.
	URL string
	tls *tls.Config // nil: plain http

	mu        sync.Mutex
	keys      []jose.JSONWebKey // private, current first
	srv       *http.Server
	discovery map[string]any    // fields replacing the discovery document's
	redirects map[string]string // request URI → Location of a 302
	token     TokenHandler      // answers POST /token; nil: 404
	JWKSFetch atomic.Int64      // JWKS requests answered
}

// TokenHandler answers the token endpoint (POST /token) of an
// authorization-code flow: form is the request's form (grant_type, code,
// code_verifier, refresh_token, redirect_uri; the client's credentials,
// Basic or in the form, are in form as client_id and client_secret). It
// returns the status and the JSON body.
type TokenHandler func(form url.Values) (status int, body map[string]any)

// HandleToken makes the issuer a provider for the authorization-code flow:
// its discovery document names /authorize (which the test never needs to
// call: it reads state, nonce and code_challenge from the URL it was sent
// to) and /token, answered by fn. nil takes the token endpoint away.
func (is *Issuer) HandleToken(fn TokenHandler) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.token = fn
}

// Options say where an issuer listens; the zero value is New's.
type Options struct {
	// Host is the loopback address to listen on (default 127.0.0.1; any
	// of 127.0.0.0/8 works without configuration: another host).
	Host string
	// TLS serves https with a certificate of the issuer's own for Host;
	// Client trusts it.
	TLS bool
	// Like, with TLS, shares the certificate of another TLS issuer (made
	// for its host, 127.0.0.2 and localhost): either's Client trusts both.
	Like *Issuer
}

// New starts an issuer with one RSA key on http://127.0.0.1:PORT; it
// stops with the test.
func New(t testing.TB) *Issuer {
	t.Helper()
	return NewWith(t, Options{})
}

// NewWith starts an issuer as o says.
func NewWith(t testing.TB, o Options) *Issuer {
	t.Helper()
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, "0"))
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	is := &Issuer{t: t, addr: ln.Addr().String()}
	is.URL = "http://" + is.addr
	if o.TLS {
		is.tls = o.Like.sharedTLS(t, o.Host)
		is.URL = "https://" + is.addr
	}
	is.Rotate("RS256")
	is.serve(ln)
	t.Cleanup(is.Stop)
	return is
}

// Client is an HTTP client that trusts the issuer's certificate (any
// client does for a plain http issuer).
func (is *Issuer) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if is.tls != nil {
		pool := x509.NewCertPool()
		pool.AddCert(is.tls.Certificates[0].Leaf)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// CertPEM is the issuer's certificate (nil for a plain http issuer), for a
// process that trusts the file SSL_CERT_FILE names.
func (is *Issuer) CertPEM() []byte {
	if is.tls == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.tls.Certificates[0].Leaf.Raw})
}

// SetDiscovery replaces fields of the discovery document it serves, e.g.
// {"jwks_uri": "http://..."} or another "issuer"; nil serves its own again.
func (is *Issuer) SetDiscovery(fields map[string]any) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.discovery = fields
}

// Redirect answers GET requestURI ("/jwks") with a 302 to location; an
// empty location serves it again.
func (is *Issuer) Redirect(requestURI, location string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.redirects == nil {
		is.redirects = map[string]string{}
	}
	if location == "" {
		delete(is.redirects, requestURI)
	} else {
		is.redirects[requestURI] = location
	}
}

// sharedTLS is the TLS configuration of an issuer on host: like's when
// like is set, else a new one.
func (like *Issuer) sharedTLS(t testing.TB, host string) *tls.Config {
	if like == nil {
		return selfSigned(t, host)
	}
	if like.tls == nil || like.tls.Certificates[0].Leaf.VerifyHostname(host) != nil {
		t.Fatalf("oidctest: Like: that issuer has no certificate for %s", host)
	}
	return like.tls
}

// selfSigned is a TLS configuration with a new self-signed certificate for
// host (an IP address), 127.0.0.2 (another host, for Like) and localhost.
func selfSigned(t testing.TB, host string) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "oidctest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(host), net.ParseIP("127.0.0.2")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("oidctest: certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}, MinVersion: tls.VersionTLS12}
}

// Rotate adds a new current key for alg (RS256 or ES256) and returns its
// kid. Older keys stay published until Retire.
func (is *Issuer) Rotate(alg string) string {
	var priv crypto.Signer
	var err error
	switch alg {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		is.t.Fatalf("oidctest: key: %v", err)
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	kid := "key-" + strconv.Itoa(len(is.keys)+1)
	is.keys = append([]jose.JSONWebKey{{Key: priv, KeyID: kid, Algorithm: alg, Use: "sig"}}, is.keys...)
	return kid
}

// Retire stops publishing every key but the current one.
func (is *Issuer) Retire() {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = is.keys[:1]
}

// JWKS is the published key set (public keys), as served.
func (is *Issuer) JWKS() []byte {
	is.mu.Lock()
	defer is.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, k := range is.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	b, err := json.Marshal(set)
	if err != nil {
		is.t.Fatalf("oidctest: %v", err)
	}
	return b
}

// PublicKey is the current key's public key.
func (is *Issuer) PublicKey() crypto.PublicKey {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.keys[0].Public().Key
}

func (is *Issuer) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		doc := map[string]any{
			"issuer": is.URL, "jwks_uri": is.URL + "/jwks",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		}
		is.mu.Lock()
		if is.token != nil {
			doc["authorization_endpoint"], doc["token_endpoint"] = is.URL+"/authorize", is.URL+"/token"
			doc["response_types_supported"] = []string{"code"}
			doc["code_challenge_methods_supported"] = []string{"S256"}
		}
		maps.Copy(doc, is.discovery)
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		is.JWKSFetch.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(is.JWKS())
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		is.mu.Lock()
		fn := is.token
		is.mu.Unlock()
		if fn == nil || r.ParseForm() != nil {
			http.NotFound(w, r)
			return
		}
		form := r.PostForm
		if id, sec, ok := r.BasicAuth(); ok {
			form.Set("client_id", id)
			form.Set("client_secret", sec)
		}
		status, body := fn(form)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	})
	redirecting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.mu.Lock()
		to, ok := is.redirects[r.RequestURI]
		is.mu.Unlock()
		if ok {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		mux.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: redirecting, ReadHeaderTimeout: 5 * time.Second}
	if is.tls != nil {
		ln = tls.NewListener(ln, is.tls)
	}
	is.mu.Lock()
	is.srv = srv
	is.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			is.t.Errorf("oidctest: serve: %v", err)
		}
	}()
}

// Stop takes the issuer off the network (connections refused).
func (is *Issuer) Stop() {
	is.mu.Lock()
	srv := is.srv
	is.srv = nil
	is.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
}

// Start puts a stopped issuer back on its address.
func (is *Issuer) Start() {
	ln, err := net.Listen("tcp", is.addr)
	if err != nil {
		is.t.Fatalf("oidctest: restart on %s: %v", is.addr, err)
	}
	is.serve(ln)
}

// Mint signs claims with the current key. Standard claims it does not set
// are filled in: iss (the issuer), aud (audience), iat and nbf (now), exp
// (in 10 minutes), jti.
func (is *Issuer) Mint(audience string, claims map[string]any) string {
	is.mu.Lock()
	key := is.keys[0]
	is.mu.Unlock()
	return is.MintWith(key, audience, claims)
}

// MintWith signs with key (e.g. one the issuer does not publish, see
// NewKey); kid and alg come from key.
func (is *Issuer) MintWith(key jose.JSONWebKey, audience string, claims map[string]any) string {
	now := time.Now().Unix()
	c := map[string]any{"iss": is.URL, "aud": audience, "iat": now, "nbf": now, "exp": now + 600,
		"jti": strconv.FormatInt(time.Now().UnixNano(), 36)}
	maps.Copy(c, claims)
	for k, v := range c {
		if v == nil {
			delete(c, k) // a nil value removes a default claim
		}
	}
	payload, err := json.Marshal(c)
	if err != nil {
		is.t.Fatalf("oidctest: %v", err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", key.KeyID)
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key.Key}, opts)
	if err != nil {
		is.t.Fatalf("oidctest: signer: %v", err)
	}
	jws, err := sig.Sign(payload)
	if err != nil {
		is.t.Fatalf("oidctest: sign: %v", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		is.t.Fatalf("oidctest: %v", err)
	}
	return raw
}

// NewKey makes an RSA key that no issuer publishes, with the given kid.
func NewKey(t testing.TB, kid string) jose.JSONWebKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: "RS256", Use: "sig"}
}

// GitHub is the claims of a GitHub Actions job of repo ("org/app") on ref
// ("refs/heads/main"), as token.actions.githubusercontent.com mints them.
func GitHub(repo, ref string) map[string]any {
	owner, _, _ := strings.Cut(repo, "/")
	refType := "branch"
	if strings.HasPrefix(ref, "refs/tags/") {
		refType = "tag"
	}
	return map[string]any{
		"sub": "repo:" + repo + ":ref:" + ref, "repository": repo, "repository_owner": owner, "ref": ref,
		"ref_type": refType, "workflow": "build", "event_name": "push", "actor": "octocat",
		"job_workflow_ref": repo + "/.github/workflows/build.yml@" + ref, "runner_environment": "github-hosted",
	}
}

// GitLab is the claims of a GitLab CI job of project ("group/app") on a
// branch or tag, as gitlab.com mints id_tokens.
func GitLab(project, refType, ref string) map[string]any {
	ns, _, _ := strings.Cut(project, "/")
	return map[string]any{
		"sub":          fmt.Sprintf("project_path:%s:ref_type:%s:ref:%s", project, refType, ref),
		"project_path": project, "namespace_path": ns, "ref": ref, "ref_type": refType,
		"ref_protected": "true", "pipeline_source": "push", "user_login": "dev",
	}
}

// Kubernetes is the claims of a projected service-account token of
// namespace ns, service account sa, in a pod.
func Kubernetes(ns, sa string) map[string]any {
	return map[string]any{
		"sub": "system:serviceaccount:" + ns + ":" + sa,
		"kubernetes.io": map[string]any{
			"namespace":      ns,
			"serviceaccount": map[string]any{"name": sa, "uid": "6b9c1b6e-0000-4000-8000-000000000001"},
			"pod":            map[string]any{"name": sa + "-7d9f", "uid": "6b9c1b6e-0000-4000-8000-000000000002"},
		},
	}
}
