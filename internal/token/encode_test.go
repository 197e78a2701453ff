package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

// TestClaimsJSON: the hand-written encoder writes exactly what
// json.Marshal writes for the claims, escapes included, with nil actions
// and nil access as [].
func TestClaimsJSON(t *testing.T) {
	tests := []struct {
		name string
		c    claims
	}{
		{name: "anonymous, no access", c: claims{Iss: "iss", Aud: "registry", Exp: 1800, Nbf: 1, Iat: 1, Jti: "abc"}},
		{name: "one entry", c: claims{Iss: "https://auth.example.org", Sub: "dev", Aud: "harbor-registry", Exp: 1700001800,
			Nbf: 1700000000, Iat: 1700000000, Jti: "Xy_-12", Access: []ResourceActions{{Type: "repository", Name: "team/app", Actions: []string{"pull", "push"}}}}},
		{name: "nil and empty actions", c: claims{Access: []ResourceActions{{Type: "repository", Name: "a/b"}, {Type: "registry", Name: "catalog", Actions: []string{}}}}},
		{name: "escapes", c: claims{Iss: `q"uote\back<>&`, Sub: "ünïcode\u2028\x01", Aud: "tab\t", Jti: "\xff",
			Access: []ResourceActions{{Type: "repository", Name: "h:5000/p/<x>", Actions: []string{"*"}}}}},
		{name: "negative dates", c: claims{Exp: -5, Nbf: -6, Iat: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.c
			want.Access = make([]ResourceActions, 0, len(tt.c.Access))
			for _, ra := range tt.c.Access {
				if ra.Actions == nil {
					ra.Actions = []string{}
				}
				want.Access = append(want.Access, ra)
			}
			w, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.c.appendJSON(nil); string(got) != string(w) {
				t.Fatalf("appendJSON\n got %s\nwant %s", got, w)
			}
		})
	}
}

// TestECDSAJWSPadding: R || S is always 2 × the field size, whatever the
// length of R and S in the DER (about 1 in 128 signatures has one shorter
// than the field): every signature of many verifies.
func TestECDSAJWSPadding(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		key, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSignerFromKey(key, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		size := (curve.Params().BitSize + 7) / 8
		n := 600
		if curve != elliptic.P256() {
			n = 100
		}
		for i := range n {
			raw, err := s.Sign([]byte(`{"i":` + string(rune('0'+i%10)) + `}`))
			if err != nil {
				t.Fatal(err)
			}
			dot := strings.LastIndexByte(raw, '.')
			sig, err := base64.RawURLEncoding.DecodeString(raw[dot+1:])
			if err != nil || len(sig) != 2*size {
				t.Fatalf("%s: signature of %d bytes (%v), want %d", curve.Params().Name, len(sig), err, 2*size)
			}
			h := hashFor(s.Algorithm()).New()
			h.Write([]byte(raw[:dot]))
			r, ss := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
			if !ecdsa.Verify(&key.PublicKey, h.Sum(nil), r, ss) {
				t.Fatalf("%s: signature %d does not verify", curve.Params().Name, i)
			}
		}
	}
	if _, err := ecdsaJWS([]byte{0x30, 0x03, 0x02, 0x01, 0x80}, 32); err == nil {
		t.Fatal("a negative INTEGER was accepted")
	}
	if _, err := ecdsaJWS([]byte{0x30, 0x00}, 32); err == nil {
		t.Fatal("an empty SEQUENCE was accepted")
	}
}
