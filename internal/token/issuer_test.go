package token

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestIssueClaims(t *testing.T) {
	s := mustSigner(t, testKey(t, RS256), []*x509.Certificate{selfSigned(t, testKey(t, RS256))}, "")
	integer := regexp.MustCompile(`^[0-9]+$`)
	tests := []struct {
		name       string
		subject    string
		access     []ResourceActions
		wantAccess string
	}{
		{name: "login, nil access", subject: "alice", access: nil, wantAccess: `[]`},
		{name: "anonymous, empty access", subject: "", access: []ResourceActions{}, wantAccess: `[]`},
		{
			name:       "nil actions become []",
			subject:    "bob",
			access:     []ResourceActions{{Type: "repository", Name: "library/alpine"}},
			wantAccess: `[{"type":"repository","name":"library/alpine","actions":[]}]`,
		},
		{
			name:    "several entries",
			subject: "robot$ci",
			access: []ResourceActions{
				{Type: "repository", Name: "localhost:5000/p/app", Actions: []string{"pull", "push"}},
				{Type: "registry", Name: "catalog", Actions: []string{"*"}},
			},
			wantAccess: `[{"type":"repository","name":"localhost:5000/p/app","actions":["pull","push"]},{"type":"registry","name":"catalog","actions":["*"]}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := NewIssuer(s, "harbor-token-issuer", "harbor-registry", 5*time.Minute)
			tok, err := iss.Issue(tt.subject, tt.access)
			if err != nil {
				t.Fatal(err)
			}
			c := segment(t, tok.Raw, 1)
			want := []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "access"}
			if len(c) != len(want) {
				t.Errorf("claims %v, want exactly %v", keysOf(c), want)
			}
			for _, k := range []string{"exp", "nbf", "iat"} {
				if !integer.Match(c[k]) {
					t.Errorf("%s = %s, want a JSON integer", k, c[k])
				}
			}
			str := func(k string) string {
				var v string
				if err := json.Unmarshal(c[k], &v); err != nil {
					t.Errorf("%s = %s, want a JSON string", k, c[k])
				}
				return v
			}
			if got := str("aud"); got != "harbor-registry" {
				t.Errorf("aud = %q", got)
			}
			if got := str("iss"); got != "harbor-token-issuer" {
				t.Errorf("iss = %q", got)
			}
			if got := str("sub"); got != tt.subject {
				t.Errorf("sub = %q, want %q", got, tt.subject)
			}
			if jti, err := base64.RawURLEncoding.DecodeString(str("jti")); err != nil || len(jti) < 16 {
				t.Errorf("jti = %s: want >= 128 bits base64url (%v)", c["jti"], err)
			}
			if got := string(c["access"]); got != tt.wantAccess {
				t.Errorf("access = %s, want %s", got, tt.wantAccess)
			}
			var exp, iat, nbf int64
			_ = json.Unmarshal(c["exp"], &exp)
			_ = json.Unmarshal(c["iat"], &iat)
			_ = json.Unmarshal(c["nbf"], &nbf)
			if exp-iat != 300 || nbf > iat {
				t.Errorf("iat %d nbf %d exp %d: want exp-iat = 300, nbf <= iat", iat, nbf, exp)
			}
			if tok.IssuedAt.Unix() != iat || tok.ExpiresAt.Unix() != exp || tok.ExpiresIn() != 300 {
				t.Errorf("Token{IssuedAt %v ExpiresAt %v ExpiresIn %d} disagrees with claims", tok.IssuedAt, tok.ExpiresAt, tok.ExpiresIn())
			}
			if tok.ID != str("jti") {
				t.Errorf("Token.ID = %q, jti %s", tok.ID, c["jti"])
			}
			if d := time.Since(tok.IssuedAt); d < 0 || d > 5*time.Second {
				t.Errorf("IssuedAt %v is not now", tok.IssuedAt)
			}
		})
	}
}

func keysOf(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestIssueHeader(t *testing.T) {
	rsaKey, ecKey := testKey(t, RS256), testKey(t, ES256)
	rsaCert := selfSigned(t, rsaKey)
	tpRSA, _ := ThumbprintKID(rsaKey.Public())
	ltRSA, _ := LibtrustKID(rsaKey.Public())
	tpEC, _ := ThumbprintKID(ecKey.Public())
	_, inter, leaf := testChain(t, rsaKey)
	tests := []struct {
		name    string
		signer  *Signer
		wantAlg string
		wantKID string
		wantX5c []string
	}{
		{name: "RS256 x5c", signer: mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, ""), wantAlg: RS256, wantKID: tpRSA,
			wantX5c: []string{base64.StdEncoding.EncodeToString(rsaCert.Raw)}},
		{name: "RS256 chain", signer: mustSigner(t, rsaKey, []*x509.Certificate{leaf, inter}, ""), wantAlg: RS256, wantKID: tpRSA,
			wantX5c: []string{base64.StdEncoding.EncodeToString(leaf.Raw), base64.StdEncoding.EncodeToString(inter.Raw)}},
		{name: "RS256 libtrust no cert", signer: mustSigner(t, rsaKey, nil, KIDLibtrust), wantAlg: RS256, wantKID: ltRSA},
		{name: "ES256 no cert", signer: mustSigner(t, ecKey, nil, KIDThumbprint), wantAlg: ES256, wantKID: tpEC},
		{name: "RS256 cert without x5c", signer: kidOnly(t, mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, "")), wantAlg: RS256, wantKID: tpRSA},
		{name: "RS256 libtrust cert without x5c", signer: kidOnly(t, mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, KIDLibtrust)), wantAlg: RS256, wantKID: ltRSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := NewIssuer(tt.signer, "i", "s", time.Hour).Issue("u", nil)
			if err != nil {
				t.Fatal(err)
			}
			h := segment(t, tok.Raw, 0)
			var hdr struct {
				Typ, Alg, Kid string
				X5c           []string
			}
			raw, _ := json.Marshal(h)
			if err := json.Unmarshal(raw, &hdr); err != nil {
				t.Fatal(err)
			}
			if hdr.Typ != "JWT" || hdr.Alg != tt.wantAlg || hdr.Kid != tt.wantKID {
				t.Errorf("header = %+v, want typ JWT alg %s kid %s", hdr, tt.wantAlg, tt.wantKID)
			}
			if strings.Join(hdr.X5c, ",") != strings.Join(tt.wantX5c, ",") {
				t.Errorf("x5c = %v, want %v", hdr.X5c, tt.wantX5c)
			}
			if _, ok := h["x5c"]; !ok && tt.wantX5c != nil || ok && tt.wantX5c == nil {
				t.Errorf("x5c presence wrong: %s", h["x5c"])
			}
			if tt.signer.SendsX5C() != (tt.wantX5c != nil) {
				t.Errorf("SendsX5C() = %v", tt.signer.SendsX5C())
			}
		})
	}
}

func TestIssueUniqueJTI(t *testing.T) {
	iss := NewIssuer(mustSigner(t, testKey(t, ES256), nil, ""), "i", "s", time.Minute)
	seen := make(map[string]bool)
	for range 2000 {
		tok, err := iss.Issue("", nil)
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok.ID] {
			t.Fatalf("duplicate jti %q", tok.ID)
		}
		seen[tok.ID] = true
	}
}

func TestNewIssuerLifetime(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want time.Duration
	}{
		{name: "zero means default", in: 0, want: DefaultLifetime},
		{name: "negative means default", in: -time.Second, want: DefaultLifetime},
		{name: "too short raised", in: 10 * time.Second, want: MinLifetime},
		{name: "fraction truncated", in: 90*time.Second + 700*time.Millisecond, want: 90 * time.Second},
		{name: "kept", in: time.Hour, want: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := NewIssuer(nil, "i", "s", tt.in)
			if iss.Lifetime() != tt.want {
				t.Errorf("Lifetime = %v, want %v", iss.Lifetime(), tt.want)
			}
		})
	}
}

func TestIssueAccessors(t *testing.T) {
	s := mustSigner(t, testKey(t, RS256), nil, "")
	iss := NewIssuer(s, "harbor-token-issuer", "harbor-registry", time.Hour)
	if iss.Issuer() != "harbor-token-issuer" || iss.Service() != "harbor-registry" || iss.Signer() != s {
		t.Errorf("accessors: %q %q %p", iss.Issuer(), iss.Service(), iss.Signer())
	}
	if _, err := NewIssuer(nil, "i", "s", time.Hour).Issue("u", nil); err == nil {
		t.Error("Issue without a signer succeeded")
	}
}

// TestSetSignerConcurrent rotates keys while tokens are being issued: every
// token must be signed consistently by one of the two signers (run with
// -race to check the atomic swap).
func TestSetSignerConcurrent(t *testing.T) {
	a := mustSigner(t, testKey(t, ES256), nil, "")
	b := mustSigner(t, freshKey(t, ES256), nil, "")
	iss := NewIssuer(a, "i", "s", time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 200 {
				if w == 0 && n%10 == 0 {
					if n%20 == 0 {
						iss.SetSigner(b)
					} else {
						iss.SetSigner(a)
					}
				}
				tok, err := iss.Issue("u", nil)
				if err != nil {
					errs <- err
					return
				}
				if err := verifyWith(tok.Raw, a, b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
