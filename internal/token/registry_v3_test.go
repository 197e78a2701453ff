package token

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/auth"
	v3token "github.com/distribution/distribution/v3/registry/auth/token"
	"github.com/go-jose/go-jose/v4"
)

// Tests in this file check our tokens with registry 3.x's own verifier
// (distribution/v3 registry/auth/token).

const (
	testIssuer  = "harbor-token-issuer"
	testService = "harbor-registry"
)

var v3Algs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.ES512}

// v3TrustedKeys builds VerifyOptions.TrustedKeys the way registry 3.x's
// newAccessController does: rootcertbundle keys by JWK thumbprint, then
// jwks entries by their kid.
func v3TrustedKeys(t *testing.T, roots []*x509.Certificate, jwks []byte) map[string]crypto.PublicKey {
	t.Helper()
	keys := map[string]crypto.PublicKey{}
	for _, c := range roots {
		keys[v3token.GetJWKThumbprint(c.PublicKey)] = c.PublicKey
	}
	if jwks != nil {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(jwks, &set); err != nil {
			t.Fatal(err)
		}
		for _, k := range set.Keys {
			keys[k.KeyID] = k.Public()
		}
	}
	return keys
}

func TestRegistryV3Verify(t *testing.T) {
	rsaKey, ecKey, es384Key := testKey(t, RS256), testKey(t, ES256), testKey(t, ES384)
	rsaCert, ecCert, es384Cert := selfSigned(t, rsaKey), selfSigned(t, ecKey), selfSigned(t, es384Key)
	root, inter, leaf := testChain(t, rsaKey)
	strangerCert := selfSigned(t, freshKey(t, ES256))
	certs := func(c ...*x509.Certificate) []*x509.Certificate { return c }
	jwksOf := func(s *Signer) []byte {
		b, err := JWKS(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	tests := []struct {
		name     string
		signer   *Signer
		roots    []*x509.Certificate // registry's rootcertbundle
		jwks     []byte              // registry's jwks file
		issuer   string              // registry's issuer, default testIssuer
		service  string              // registry's service, default testService
		wantFail string              // "" ok, "key": no trusted signing key, "claims": iss/aud
	}{
		{name: "RS256 x5c self-signed", signer: mustSigner(t, rsaKey, certs(rsaCert), ""), roots: certs(rsaCert)},
		{name: "RS256 x5c chain to root", signer: mustSigner(t, rsaKey, certs(leaf, inter), ""), roots: certs(root)},
		{name: "RS256 x5c with libtrust kid (kid ignored)", signer: mustSigner(t, rsaKey, certs(rsaCert), KIDLibtrust), roots: certs(rsaCert)},
		{name: "ES256 x5c", signer: mustSigner(t, ecKey, certs(ecCert), ""), roots: certs(ecCert)},
		{name: "ES384 x5c", signer: mustSigner(t, es384Key, certs(es384Cert), ""), roots: certs(es384Cert)},
		{name: "RS256 kid, key from rootcertbundle", signer: mustSigner(t, rsaKey, nil, ""), roots: certs(rsaCert)},
		{name: "ES256 kid, key from rootcertbundle", signer: mustSigner(t, ecKey, nil, ""), roots: certs(ecCert)},
		{name: "RS256 kid, key from our JWKS", signer: mustSigner(t, rsaKey, nil, ""), jwks: jwksOf(mustSigner(t, rsaKey, nil, ""))},
		{name: "ES256 kid, key from our JWKS", signer: mustSigner(t, ecKey, nil, ""), jwks: jwksOf(mustSigner(t, ecKey, certs(ecCert), ""))},
		{name: "libtrust kid fails on v3", signer: mustSigner(t, rsaKey, nil, KIDLibtrust), roots: certs(rsaCert), wantFail: "key"},
		{name: "x5c not in rootcertbundle fails, no fallback to a trusted kid", signer: mustSigner(t, rsaKey, certs(rsaCert), ""),
			roots: certs(strangerCert), jwks: jwksOf(mustSigner(t, rsaKey, nil, "")), wantFail: "key"},
		{name: "x5c with jwks-only registry fails", signer: mustSigner(t, rsaKey, certs(rsaCert), ""),
			jwks: jwksOf(mustSigner(t, rsaKey, nil, "")), wantFail: "key"},
		{name: "unknown key fails", signer: mustSigner(t, rsaKey, nil, ""), roots: certs(ecCert), wantFail: "key"},
		{name: "wrong issuer fails", signer: mustSigner(t, rsaKey, certs(rsaCert), ""), roots: certs(rsaCert), issuer: "other", wantFail: "claims"},
		{name: "wrong service fails", signer: mustSigner(t, rsaKey, certs(rsaCert), ""), roots: certs(rsaCert), service: "other", wantFail: "claims"},
	}
	access := []ResourceActions{
		{Type: "repository", Name: "library/alpine", Actions: []string{"pull", "push"}},
		{Type: "registry", Name: "catalog", Actions: []string{"*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := NewIssuer(tt.signer, testIssuer, testService, 5*time.Minute).Issue("alice", access)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := v3token.NewToken(tok.Raw, v3Algs)
			if err != nil {
				t.Fatalf("registry v3 cannot parse our token: %v", err)
			}
			issuer, service := tt.issuer, tt.service
			if issuer == "" {
				issuer = testIssuer
			}
			if service == "" {
				service = testService
			}
			opts := v3token.VerifyOptions{
				TrustedIssuers:    []string{issuer},
				AcceptedAudiences: []string{service},
				Roots:             certPool(tt.roots),
				TrustedKeys:       v3TrustedKeys(t, tt.roots, tt.jwks),
			}
			_, keyErr := parsed.VerifySigningKey(opts)
			claims, err := parsed.Verify(opts)
			switch {
			case tt.wantFail == "key" && keyErr == nil:
				t.Fatal("registry v3 found a trusted signing key")
			case tt.wantFail == "claims" && keyErr != nil:
				t.Fatalf("registry v3 found no signing key: %v", keyErr)
			case tt.wantFail != "" && err == nil:
				t.Fatal("registry v3 accepted the token")
			case tt.wantFail != "":
				return
			}
			if err != nil {
				t.Fatalf("registry v3 rejected the token: %v", err)
			}
			if claims.Issuer != testIssuer || claims.Subject != "alice" || !reflect.DeepEqual([]string(claims.Audience), []string{testService}) {
				t.Errorf("claims iss %q sub %q aud %v", claims.Issuer, claims.Subject, claims.Audience)
			}
			if claims.Expiration-claims.IssuedAt != 300 || claims.JWTID != tok.ID {
				t.Errorf("claims exp %d iat %d jti %q", claims.Expiration, claims.IssuedAt, claims.JWTID)
			}
			if len(claims.Access) != 2 || claims.Access[0].Name != "library/alpine" ||
				!reflect.DeepEqual(claims.Access[0].Actions, []string{"pull", "push"}) || claims.Access[1].Type != "registry" {
				t.Errorf("access = %+v", claims.Access)
			}
		})
	}
}

// TestRegistryV3AccessController runs the registry's whole token access
// controller (configuration files, kid derivation, access check) on our
// tokens, the way `registry serve` does for each request.
func TestRegistryV3AccessController(t *testing.T) {
	rsaKey, ecKey := testKey(t, RS256), testKey(t, ES256)
	dir := t.TempDir()
	keyPath, certPath, jwksPath, err := GenerateKeyPair(filepath.Join(dir, "gen"), ES256, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	genWithCert, err := NewSigner(keyPath, certPath, "")
	if err != nil {
		t.Fatal(err)
	}
	genNoCert, err := NewSigner(keyPath, "", "")
	if err != nil {
		t.Fatal(err)
	}
	rsaCert := selfSigned(t, rsaKey)
	rsaBundle := writeFile(t, dir, "rsa-bundle.crt", CertBundlePEM(rsaCert))
	ecCert := selfSigned(t, ecKey)
	ecBundle := writeFile(t, dir, "ec-bundle.crt", CertBundlePEM(ecCert))
	repo := func(name, action string) auth.Access {
		return auth.Access{Resource: auth.Resource{Type: "repository", Name: name}, Action: action}
	}
	granted := []ResourceActions{{Type: "repository", Name: "localhost:5000/library/alpine", Actions: []string{"pull"}}}

	tests := []struct {
		name       string
		signer     *Signer
		options    map[string]any // rootcertbundle / jwks
		subject    string
		access     []ResourceActions
		ask        []auth.Access
		wantDenied error // nil = authorized; else the challenge's wrapped error
	}{
		{name: "RS256 x5c pull", signer: mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, ""),
			options: map[string]any{"rootcertbundle": rsaBundle}, subject: "alice", access: granted,
			ask: []auth.Access{repo("localhost:5000/library/alpine", "pull")}},
		{name: "RS256 x5c push not granted", signer: mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, ""),
			options: map[string]any{"rootcertbundle": rsaBundle}, subject: "alice", access: granted,
			ask: []auth.Access{repo("localhost:5000/library/alpine", "push")}, wantDenied: v3token.ErrInsufficientScope},
		{name: "ES256 kid via rootcertbundle", signer: mustSigner(t, ecKey, nil, ""),
			options: map[string]any{"rootcertbundle": ecBundle}, subject: "bob", access: granted,
			ask: []auth.Access{repo("localhost:5000/library/alpine", "pull")}},
		{name: "login token, anonymous, GET /v2/", signer: mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, ""),
			options: map[string]any{"rootcertbundle": rsaBundle}, subject: "", access: nil},
		{name: "keygen cert as rootcertbundle, x5c", signer: genWithCert,
			options: map[string]any{"rootcertbundle": certPath}, subject: "carol", access: granted,
			ask: []auth.Access{repo("localhost:5000/library/alpine", "pull")}},
		{name: "keygen jwks.json, no x5c", signer: genNoCert,
			options: map[string]any{"jwks": jwksPath}, subject: "carol", access: granted,
			ask: []auth.Access{repo("localhost:5000/library/alpine", "pull")}},
		{name: "keygen jwks.json, certificate configured, x5c off", signer: kidOnly(t, genWithCert),
			options: map[string]any{"jwks": jwksPath}, subject: "carol", access: granted,
			ask: []auth.Access{repo("localhost:5000/library/alpine", "pull")}},
		{name: "keygen jwks.json, x5c present fails", signer: genWithCert,
			options: map[string]any{"jwks": jwksPath}, subject: "carol", access: granted, wantDenied: v3token.ErrInvalidToken},
		{name: "libtrust kid fails", signer: mustSigner(t, rsaKey, nil, KIDLibtrust),
			options: map[string]any{"rootcertbundle": rsaBundle}, subject: "alice", access: granted, wantDenied: v3token.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := map[string]any{"realm": "http://localhost:5001/service/token", "issuer": testIssuer, "service": testService}
			for k, v := range tt.options {
				opts[k] = v
			}
			ac, err := auth.GetAccessController("token", opts)
			if err != nil {
				t.Fatal(err)
			}
			req := bearer(t, tt.signer, tt.subject, tt.access, "http://localhost:5000/v2/")
			grant, err := ac.Authorized(req, tt.ask...)
			if tt.wantDenied != nil {
				var ch auth.Challenge
				if err == nil || !errors.As(err, &ch) {
					t.Fatalf("err = %v, want a challenge", err)
				}
				if !errors.Is(err, tt.wantDenied) && err.Error() != tt.wantDenied.Error() {
					t.Errorf("err = %v, want %v", err, tt.wantDenied)
				}
				return
			}
			if err != nil {
				t.Fatalf("registry v3 denied: %v", err)
			}
			if grant.User.Name != tt.subject {
				t.Errorf("grant user = %q, want %q", grant.User.Name, tt.subject)
			}
			if len(grant.Resources) != len(tt.access) {
				t.Errorf("grant resources = %+v, want %d", grant.Resources, len(tt.access))
			}
		})
	}
}
