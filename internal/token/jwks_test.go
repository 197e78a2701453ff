package token

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestJWKS(t *testing.T) {
	rsaKey, ecKey, oldKey := testKey(t, RS256), testKey(t, ES256), freshKey(t, ES384)
	rsaCert, ecCert, oldCert := selfSigned(t, rsaKey), selfSigned(t, ecKey), selfSigned(t, oldKey)
	tp := func(k crypto.Signer) string { s, _ := ThumbprintKID(k.Public()); return s }
	lt := func(k crypto.Signer) string { s, _ := LibtrustKID(k.Public()); return s }

	type want struct {
		kid, kty, alg, crv string
		certs              int
	}
	tests := []struct {
		name   string
		signer *Signer
		extra  []*x509.Certificate
		want   []want
	}{
		{name: "RSA with cert", signer: mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, ""),
			want: []want{{kid: tp(rsaKey), kty: "RSA", alg: RS256, certs: 1}}},
		{name: "EC without cert", signer: mustSigner(t, ecKey, nil, ""),
			want: []want{{kid: tp(ecKey), kty: "EC", alg: ES256, crv: "P-256"}}},
		{name: "libtrust kid", signer: mustSigner(t, rsaKey, nil, KIDLibtrust),
			want: []want{{kid: lt(rsaKey), kty: "RSA", alg: RS256}}},
		{name: "rotated-out certificates follow, duplicates once",
			signer: mustSigner(t, ecKey, []*x509.Certificate{ecCert}, ""),
			extra:  []*x509.Certificate{oldCert, ecCert, rsaCert},
			want: []want{
				{kid: tp(ecKey), kty: "EC", alg: ES256, crv: "P-256", certs: 1},
				{kid: tp(oldKey), kty: "EC", alg: ES384, crv: "P-384", certs: 1},
				{kid: tp(rsaKey), kty: "RSA", alg: RS256, certs: 1},
			}},
		{name: "rotated-out certificates use the libtrust mode too",
			signer: mustSigner(t, rsaKey, nil, KIDLibtrust),
			extra:  []*x509.Certificate{oldCert},
			want:   []want{{kid: lt(rsaKey), kty: "RSA", alg: RS256}, {kid: lt(oldKey), kty: "EC", alg: ES384, crv: "P-384", certs: 1}}},
		{name: "no signer", signer: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := NewIssuer(tt.signer, "i", "s", time.Hour).JWKS(tt.extra...)
			if err != nil {
				t.Fatal(err)
			}
			var raw struct{ Keys []map[string]any }
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			if raw.Keys == nil {
				t.Fatalf("keys is null or missing: %s", data)
			}
			var set jose.JSONWebKeySet // the parser registry 3.x uses for auth.token.jwks
			if err := json.Unmarshal(data, &set); err != nil {
				t.Fatalf("go-jose rejects our JWKS: %v\n%s", err, data)
			}
			if len(set.Keys) != len(tt.want) {
				t.Fatalf("%d keys, want %d: %s", len(set.Keys), len(tt.want), data)
			}
			for i, w := range tt.want {
				k, r := set.Keys[i], raw.Keys[i]
				if k.KeyID != w.kid || r["kty"] != w.kty || k.Algorithm != w.alg || k.Use != "sig" || len(k.Certificates) != w.certs {
					t.Errorf("key %d = %v, want %+v", i, r, w)
				}
				if w.crv != "" {
					size := map[string]int{"P-256": 32, "P-384": 48}[w.crv]
					x, _ := base64.RawURLEncoding.DecodeString(r["x"].(string))
					y, _ := base64.RawURLEncoding.DecodeString(r["y"].(string))
					if r["crv"] != w.crv || len(x) != size || len(y) != size {
						t.Errorf("key %d: crv %v, |x| %d |y| %d, want %s and %d", i, r["crv"], len(x), len(y), w.crv, size)
					}
				}
				if tp, _ := ThumbprintKID(k.Key); w.kid == tp {
					continue // thumbprint mode: the kid is the key's own thumbprint
				}
				if ltk, _ := LibtrustKID(k.Key); ltk != w.kid {
					t.Errorf("key %d: kid %q does not belong to its key", i, w.kid)
				}
			}
		})
	}
}

func TestJWKSOfSigners(t *testing.T) {
	a := mustSigner(t, testKey(t, RS256), nil, "")
	b := mustSigner(t, testKey(t, ES256), nil, "")
	data, err := JWKS(a, b, a)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 || set.Keys[0].KeyID != a.KID() || set.Keys[1].KeyID != b.KID() {
		t.Errorf("JWKS(a, b, a) = %s", data)
	}
	if data, _ := JWKS(); string(data) != `{"keys":[]}` {
		t.Errorf("JWKS() = %s", data)
	}
}

func TestNewJWKMismatchedCert(t *testing.T) {
	other := selfSigned(t, testKey(t, ES256))
	if _, err := NewJWK(testKey(t, RS256).Public(), "kid", []*x509.Certificate{other}); err == nil {
		t.Error("NewJWK accepted a certificate of another key")
	}
}
