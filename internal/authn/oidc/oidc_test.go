package oidc

import (
	"slices"
	"strings"
	"testing"
)

func TestClaimGroups(t *testing.T) {
	tests := []struct {
		name    string
		claim   any
		want    []string
		wantErr string
	}{
		{name: "absent", claim: nil, want: nil},
		{name: "list, sorted, deduplicated, blanks dropped", claim: []any{"devs", "ops", "devs", " ", "/platform/sre"},
			want: []string{"/platform/sre", "devs", "ops"}},
		{name: "one string", claim: "devs", want: []string{"devs"}},
		{name: "a number in the list", claim: []any{"devs", 3.0}, wantErr: "list of strings"},
		{name: "an object", claim: map[string]any{"a": 1}, wantErr: "list of strings"},
		{name: "control characters", claim: []any{"de\nvs"}, wantErr: "control"},
		{name: "too long", claim: []any{strings.Repeat("g", 256)}, wantErr: "longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]any{}
			if tt.claim != nil {
				claims["groups"] = tt.claim
			}
			got, err := claimGroups(claims, "groups")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("= %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestValidUsername(t *testing.T) {
	for _, ok := range []string{"alice", "alice@example.org", "a.b-c_d", "Ünïcode"} {
		if err := validUsername(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "robot$x", "a:b", "a#1", "a/b", "tab\there", strings.Repeat("x", 256)} {
		if err := validUsername(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSeal(t *testing.T) {
	s, err := newSealer("client-secret")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.seal("provider-refresh-token")
	if err != nil || strings.Contains(string(sealed), "provider-refresh") {
		t.Fatalf("seal = %q, %v", sealed, err)
	}
	if again, _ := s.seal("provider-refresh-token"); string(again) == string(sealed) {
		t.Error("two seals of one token are equal (nonce reused)")
	}
	if got, err := s.open(sealed); err != nil || got != "provider-refresh-token" {
		t.Fatalf("open = %q, %v", got, err)
	}
	other, _ := newSealer("another-secret")
	if _, err := other.open(sealed); err == nil {
		t.Error("opened with the key of another client secret")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.open(sealed); err == nil {
		t.Error("a tampered seal opened")
	}
	if _, err := s.open([]byte{1, 2}); err == nil {
		t.Error("a short seal opened")
	}
}

func TestUserCodes(t *testing.T) {
	for range 100 {
		uc := newUserCode()
		if n, ok := NormalizeUserCode(strings.ToLower(FormatUserCode(uc))); !ok || n != uc {
			t.Fatalf("user code %q does not read back: %q, %t", uc, n, ok)
		}
	}
	for _, bad := range []string{"", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ1"} {
		if _, ok := NormalizeUserCode(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if n, ok := NormalizeUserCode("bcdf ghjk"); !ok || n != "BCDFGHJK" {
		t.Errorf("spaces and case: %q, %t", n, ok)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/": "/", "/device?user_code=BCDF-GHJK": "/device?user_code=BCDF-GHJK", "": "/",
		"//evil.example/": "/", "/\\evil.example": "/", "https://evil.example/": "/", "/a\r\nSet-Cookie: x": "/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
