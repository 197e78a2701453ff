package token

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	dcontext "github.com/docker/distribution/context"
	v2auth "github.com/docker/distribution/registry/auth"
	v2token "github.com/docker/distribution/registry/auth/token"
	"github.com/docker/libtrust"
)

// Tests in this file check our tokens with registry 2.8's own verifier
// (docker/distribution v2.8.3 registry/auth/token, built on libtrust).

// v2TrustedKeys builds VerifyOptions.TrustedKeys the way registry 2.8's
// newAccessController does: rootcertbundle keys by libtrust key ID.
func v2TrustedKeys(t *testing.T, roots []*x509.Certificate) map[string]libtrust.PublicKey {
	t.Helper()
	keys := map[string]libtrust.PublicKey{}
	for _, c := range roots {
		k, err := libtrust.FromCryptoPublicKey(c.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		keys[k.KeyID()] = k
	}
	return keys
}

func TestRegistryV2Verify(t *testing.T) {
	rsaKey, ecKey, es384Key := testKey(t, RS256), testKey(t, ES256), testKey(t, ES384)
	rsaCert, ecCert, es384Cert := selfSigned(t, rsaKey), selfSigned(t, ecKey), selfSigned(t, es384Key)
	root, inter, leaf := testChain(t, rsaKey)
	certs := func(c ...*x509.Certificate) []*x509.Certificate { return c }

	tests := []struct {
		name     string
		signer   *Signer
		roots    []*x509.Certificate // registry's rootcertbundle
		wantFail bool
	}{
		{name: "RS256 libtrust kid, no x5c", signer: mustSigner(t, rsaKey, nil, KIDLibtrust), roots: certs(rsaCert)},
		{name: "ES256 libtrust kid, no x5c", signer: mustSigner(t, ecKey, nil, KIDLibtrust), roots: certs(ecCert)},
		{name: "RS256 libtrust kid, certificate but x5c off", signer: kidOnly(t, mustSigner(t, rsaKey, certs(rsaCert), KIDLibtrust)), roots: certs(rsaCert)},
		{name: "ES384 libtrust kid, no x5c", signer: mustSigner(t, es384Key, nil, KIDLibtrust), roots: certs(es384Cert)},
		{name: "RS256 x5c, thumbprint kid ignored", signer: mustSigner(t, rsaKey, certs(rsaCert), KIDThumbprint), roots: certs(rsaCert)},
		{name: "ES256 x5c", signer: mustSigner(t, ecKey, certs(ecCert), ""), roots: certs(ecCert)},
		{name: "RS256 x5c chain to root", signer: mustSigner(t, rsaKey, certs(leaf, inter), ""), roots: certs(root)},
		// PROTOCOL.md's trap: registry 2.8 knows only libtrust key IDs.
		{name: "thumbprint kid without x5c fails on v2.8", signer: mustSigner(t, rsaKey, nil, KIDThumbprint), roots: certs(rsaCert), wantFail: true},
		{name: "x5c not in rootcertbundle fails", signer: mustSigner(t, rsaKey, certs(rsaCert), KIDLibtrust), roots: certs(ecCert), wantFail: true},
	}
	access := []ResourceActions{
		{Type: "repository", Name: "library/alpine", Actions: []string{"pull", "push"}},
		{Type: "repository", Name: "library/empty"}, // nil actions: must still parse
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := NewIssuer(tt.signer, testIssuer, testService, 5*time.Minute).Issue("alice", access)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := v2token.NewToken(tok.Raw)
			if err != nil {
				t.Fatalf("registry v2.8 cannot parse our token: %v", err)
			}
			opts := v2token.VerifyOptions{
				TrustedIssuers:    []string{testIssuer},
				AcceptedAudiences: []string{testService},
				Roots:             certPool(tt.roots),
				TrustedKeys:       v2TrustedKeys(t, tt.roots),
			}
			_, keyErr := parsed.VerifySigningKey(opts)
			err = parsed.Verify(opts)
			if tt.wantFail {
				if err == nil || keyErr == nil {
					t.Fatalf("registry v2.8 accepted the token (key err %v)", keyErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("registry v2.8 rejected the token: %v (key: %v)", err, keyErr)
			}
			c := parsed.Claims
			if c.Audience != testService || c.Issuer != testIssuer || c.Subject != "alice" || c.Expiration-c.IssuedAt != 300 {
				t.Errorf("claims = %+v", c)
			}
			if len(c.Access) != 2 || len(c.Access[0].Actions) != 2 || c.Access[1].Actions == nil {
				t.Errorf("access = %+v", c.Access)
			}
		})
	}
}

// TestRegistryV2AccessController runs registry 2.8's token access controller
// with a rootcertbundle file, as `docker-registry serve` does.
func TestRegistryV2AccessController(t *testing.T) {
	rsaKey, ecKey := testKey(t, RS256), testKey(t, ES256)
	dir := t.TempDir()
	rsaCert, ecCert := selfSigned(t, rsaKey), selfSigned(t, ecKey)
	bundle := writeFile(t, dir, "bundle.crt", CertBundlePEM(rsaCert, ecCert))
	pull := v2auth.Access{Resource: v2auth.Resource{Type: "repository", Name: "library/alpine"}, Action: "pull"}
	push := pull
	push.Action = "push"
	granted := []ResourceActions{{Type: "repository", Name: "library/alpine", Actions: []string{"pull"}}}

	tests := []struct {
		name    string
		signer  *Signer
		subject string
		access  []ResourceActions
		ask     []v2auth.Access
		wantErr string
	}{
		{name: "RS256 libtrust kid pull", signer: mustSigner(t, rsaKey, nil, KIDLibtrust), subject: "alice", access: granted, ask: []v2auth.Access{pull}},
		{name: "ES256 libtrust kid pull", signer: mustSigner(t, ecKey, nil, KIDLibtrust), subject: "alice", access: granted, ask: []v2auth.Access{pull}},
		{name: "RS256 x5c pull", signer: mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, ""), subject: "alice", access: granted, ask: []v2auth.Access{pull}},
		{name: "anonymous login token", signer: mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, ""), subject: "", access: nil},
		{name: "push not granted", signer: mustSigner(t, rsaKey, nil, KIDLibtrust), subject: "alice", access: granted,
			ask: []v2auth.Access{push}, wantErr: v2token.ErrInsufficientScope.Error()},
		{name: "thumbprint kid without x5c", signer: mustSigner(t, rsaKey, nil, KIDThumbprint), subject: "alice", access: granted,
			ask: []v2auth.Access{pull}, wantErr: v2token.ErrInvalidToken.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ac, err := v2auth.GetAccessController("token", map[string]any{
				"realm": "http://localhost:5001/service/token", "issuer": testIssuer, "service": testService, "rootcertbundle": bundle,
			})
			if err != nil {
				t.Fatal(err)
			}
			req := bearer(t, tt.signer, tt.subject, tt.access, "http://localhost:5000/v2/library/alpine/manifests/latest")
			ctx, err := ac.Authorized(dcontext.WithRequest(context.Background(), req), tt.ask...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("registry v2.8 denied: %v", err)
			}
			user, _ := ctx.Value(v2auth.UserKey).(v2auth.UserInfo)
			if user.Name != tt.subject {
				t.Errorf("user = %q, want %q", user.Name, tt.subject)
			}
		})
	}
}
