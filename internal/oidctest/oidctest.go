// Package oidctest runs a real OIDC issuer on loopback for tests: a
// discovery document and a JWKS over HTTP, keys generated on the spot, and
// JWTs shaped like those of GitHub Actions, GitLab CI and Kubernetes.
package oidctest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
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

	mu        sync.Mutex
	keys      []jose.JSONWebKey // private, current first
	srv       *http.Server
	JWKSFetch atomic.Int64 // JWKS requests answered
}

// New starts an issuer with one RSA key; it stops with the test.
func New(t testing.TB) *Issuer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	is := &Issuer{t: t, addr: ln.Addr().String()}
	is.URL = "http://" + is.addr
	is.Rotate("RS256")
	is.serve(ln)
	t.Cleanup(is.Stop)
	return is
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
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.URL, "jwks_uri": is.URL + "/jwks",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		is.JWKSFetch.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(is.JWKS())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
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
