package admin_test

import (
	"fmt"
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// tokens gives user two refresh tokens and two personal access tokens.
func (f *fixture) tokens(t *testing.T, user string) {
	t.Helper()
	ctx := t.Context()
	u, err := f.st.GetUser(ctx, user)
	f.must(t, err)
	for i := range 2 {
		f.must(t, f.st.CreateRefreshToken(ctx, &store.RefreshToken{UserID: u.ID, Hash: fmt.Sprintf("%s-rt-%d", user, i), Service: "registry"}))
		_, _, err := f.adm.CreatePAT(ctx, root, admin.NewPAT{User: user, Name: fmt.Sprintf("pat-%d", i)})
		f.must(t, err)
	}
}

// tokenCounts is how many refresh and personal access tokens user holds.
func (f *fixture) tokenCounts(t *testing.T, user string) (refresh, pats int) {
	t.Helper()
	rs, err := f.st.ListRefreshTokens(t.Context(), user)
	f.must(t, err)
	ps, err := f.st.ListPersonalTokens(t.Context(), user)
	f.must(t, err)
	return len(rs), len(ps)
}

// TestRevocation: a password reset by an administrator and a disable
// revoke the user's refresh and personal access tokens; a user changing
// their own password loses their refresh tokens and keeps their PATs;
// other changes keep both; nobody else's tokens are touched.
func TestRevocation(t *testing.T) {
	const pw = "Bob-pass-1"
	bob := admin.Actor{Name: "bob"}
	tests := []struct {
		name              string
		call              func(f *fixture) error
		refresh, personal int // left afterwards, of 2 each
	}{
		{name: "sysadmin resets the password (API)", call: func(f *fixture) error {
			return f.adm.ChangePassword(t.Context(), root, "bob", "", "Reset-pass-2")
		}},
		{name: "user passwd (CLI)", call: func(f *fixture) error {
			_, err := f.adm.UpdateUser(t.Context(), root, "bob", admin.UserChange{Password: ptr("Reset-pass-2")})
			return err
		}},
		{name: "an import sets a hash", call: func(f *fixture) error {
			h := "harbor-pbkdf2-sha256$4096$salt$0123456789abcdef0123456789abcdef"
			_, err := f.adm.UpdateUser(t.Context(), root, "bob", admin.UserChange{PasswordHash: &h})
			return err
		}},
		{name: "user disable", call: func(f *fixture) error {
			_, err := f.adm.UpdateUser(t.Context(), root, "bob", admin.UserChange{Disabled: ptr(true)})
			return err
		}},
		{name: "own password change", personal: 2, call: func(f *fixture) error {
			return f.adm.ChangePassword(t.Context(), bob, "bob", pw, "Bob-pass-2")
		}},
		{name: "email change", refresh: 2, personal: 2, call: func(f *fixture) error {
			_, err := f.adm.UpdateUser(t.Context(), root, "bob", admin.UserChange{Email: ptr("bob@example.org")})
			return err
		}},
		{name: "user enable", refresh: 2, personal: 2, call: func(f *fixture) error {
			_, err := f.adm.UpdateUser(t.Context(), root, "bob", admin.UserChange{Disabled: ptr(false)})
			return err
		}},
		{name: "refused change revokes nothing", refresh: 2, personal: 2, call: func(f *fixture) error {
			err := f.adm.ChangePassword(t.Context(), bob, "bob", "Wrong-pass-1", "Bob-pass-2")
			if err == nil {
				return fmt.Errorf("a wrong old password was accepted")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			for _, u := range []string{"bob", "carol"} {
				_, err := f.adm.CreateUser(t.Context(), root, admin.NewUser{Name: u, Password: pw})
				f.must(t, err)
				f.tokens(t, u)
			}
			f.must(t, tt.call(f))
			if r, p := f.tokenCounts(t, "bob"); r != tt.refresh || p != tt.personal {
				t.Errorf("bob keeps %d refresh and %d personal tokens, want %d and %d", r, p, tt.refresh, tt.personal)
			}
			if r, p := f.tokenCounts(t, "carol"); r != 2 || p != 2 {
				t.Errorf("carol's tokens touched: %d refresh, %d personal", r, p)
			}
		})
	}
}
