package token

import (
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/token/zotverify"
)

// TestZotVerify checks our tokens with zot's rules (zotverify): one trusted
// key whatever kid and x5c say, exp/nbf/iat checked, aud/iss not, exact
// type and name, actions taken literally.
func TestZotVerify(t *testing.T) {
	rsaKey, ecKey := testKey(t, RS256), testKey(t, ES256)
	rsaCert := selfSigned(t, rsaKey)
	zot := zotverify.New(rsaKey.Public())
	repo := func(name, action string) zotverify.Access {
		return zotverify.Access{Type: "repository", Name: name, Action: action}
	}
	granted := []ResourceActions{{Type: "repository", Name: "team/app", Actions: []string{"delete", "pull", "push"}}}
	issue := func(s *Signer, service string, access []ResourceActions) string {
		tok, err := NewIssuer(s, testIssuer, service, time.Minute).Issue("alice", access)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Raw
	}
	// signed signs hand-written claims, for what our issuer never emits.
	signed := func(claims string) string {
		raw, err := mustSigner(t, rsaKey, nil, "").Sign([]byte(claims))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	now := time.Now().Unix()
	dates := func(exp, nbf, iat int64) string {
		return fmt.Sprintf(`{"iss":"x","aud":"y","exp":%d,"nbf":%d,"iat":%d,"access":[{"type":"repository","name":"team/app","actions":["pull"]}]}`, exp, nbf, iat)
	}
	tests := []struct {
		name    string
		raw     string
		want    zotverify.Access
		wantErr error // nil, zotverify.ErrInvalid or zotverify.ErrDenied
	}{
		{name: "x5c token", raw: issue(mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, ""), testService, granted), want: repo("team/app", "push")},
		{name: "kid only", raw: issue(kidOnly(t, mustSigner(t, rsaKey, []*x509.Certificate{rsaCert}, "")), testService, granted), want: repo("team/app", "delete")},
		{name: "libtrust kid ignored", raw: issue(mustSigner(t, rsaKey, nil, KIDLibtrust), testService, granted), want: repo("team/app", "pull")},
		{name: "aud not checked: any zot trusting the key accepts it", raw: issue(mustSigner(t, rsaKey, nil, ""), "another-registry", granted), want: repo("team/app", "pull")},
		{name: "login token for /v2/", raw: issue(mustSigner(t, rsaKey, nil, ""), testService, nil)},
		{name: "other key", raw: issue(mustSigner(t, ecKey, nil, ""), testService, granted), want: repo("team/app", "pull"), wantErr: zotverify.ErrInvalid},
		{name: "other repository", raw: issue(mustSigner(t, rsaKey, nil, ""), testService, granted), want: repo("team/app2", "pull"), wantErr: zotverify.ErrDenied},
		{name: "host prefix is part of the name", raw: issue(mustSigner(t, rsaKey, nil, ""), testService, granted), want: repo("localhost:5000/team/app", "pull"), wantErr: zotverify.ErrDenied},
		{name: "star is not a wildcard", raw: issue(mustSigner(t, rsaKey, nil, ""), testService,
			[]ResourceActions{{Type: "repository", Name: "team/app", Actions: []string{"*"}}}), want: repo("team/app", "delete"), wantErr: zotverify.ErrDenied},
		{name: "catalog as zot asks it", raw: issue(mustSigner(t, rsaKey, nil, ""), testService,
			[]ResourceActions{{Type: "repository", Name: "", Actions: []string{"pull"}}}), want: repo("", "pull")},
		{name: "registry:catalog:* does not serve zot's catalog", raw: issue(mustSigner(t, rsaKey, nil, ""), testService,
			[]ResourceActions{{Type: "registry", Name: "catalog", Actions: []string{"*"}}}), want: repo("", "pull"), wantErr: zotverify.ErrDenied},
		{name: "expired", raw: signed(dates(now-1, now-120, now-120)), want: repo("team/app", "pull"), wantErr: zotverify.ErrInvalid},
		{name: "not yet valid", raw: signed(dates(now+120, now+60, now)), want: repo("team/app", "pull"), wantErr: zotverify.ErrInvalid},
		{name: "issued in the future", raw: signed(dates(now+120, now, now+60)), want: repo("team/app", "pull"), wantErr: zotverify.ErrInvalid},
		{name: "no exp", raw: signed(`{"access":[]}`), wantErr: zotverify.ErrInvalid},
		{name: "hand-made valid", raw: signed(dates(now+60, now, now)), want: repo("team/app", "pull")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := zot.Verify(tt.raw, tt.want)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
