package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// TestStoreReadsHonourOtherWriters: with the token path's reads in memory
// (cache.store_reads, on by default) and the credential cache warm, every
// change another process makes (a second store on the same database, as
// the CLI or another replica) is honoured by the very next request: a
// user disabled, a password changed, a membership removed, a deny rule
// added, a user deleted. No sleep anywhere: there is no bound to wait for.
func TestStoreReadsHonourOtherWriters(t *testing.T) { storeReadsHonourOtherWriters(t, nil) }

// storeReadsHonourOtherWriters is TestStoreReadsHonourOtherWriters with
// the storage mod sets (nil: SQLite).
func storeReadsHonourOtherWriters(t *testing.T, mod func(*config.Config)) {
	ctx := context.Background()
	cfg := apptest.Config(t)
	if mod != nil {
		mod(&cfg)
	}
	cfg.Cache.CredentialsTTL, cfg.Cache.CredentialsMax = config.Duration(time.Minute), 100
	if cfg.Cache.StoreReads == 0 {
		t.Fatal("cache.store_reads is off by default: this test is about it on")
	}
	a := apptest.New(t, cfg, app.Options{})
	hash, err := secret.HashPassword("dev-secret", 4)
	mustOK(t, err)
	mustOK(t, a.Store.CreateUser(ctx, &store.User{Name: "dev", PasswordHash: hash, Source: store.SourceLocal}))
	mustOK(t, a.Store.CreateProject(ctx, &store.Project{Name: "team"}))
	mustOK(t, a.Store.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleDeveloper}))
	other, err := app.OpenStore(ctx, cfg)
	mustOK(t, err)
	t.Cleanup(func() { _ = other.Close() })

	// token asks for pull,push on team/app as dev with pass: the status
	// and the actions granted.
	token := func(pass string) (int, []string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/service/token?scope=repository:team/app:pull,push", nil)
		req.SetBasicAuth("dev", pass)
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return rec.Code, nil
		}
		var claims struct {
			Access []struct{ Actions []string }
		}
		tokenClaims(t, rec.Body.Bytes(), &claims)
		if len(claims.Access) != 1 {
			return rec.Code, nil
		}
		return rec.Code, claims.Access[0].Actions
	}
	want := func(what, pass string, status int, actions ...string) {
		t.Helper()
		for range 2 { // the second from memory
			code, got := token(pass)
			if code != status || !slices.Equal(got, actions) {
				t.Fatalf("%s: %d %v, want %d %v", what, code, got, status, actions)
			}
		}
	}
	modify := func(fn func(u store.User) store.User) {
		t.Helper()
		_, err := other.ModifyUser(ctx, "dev", func(u store.User) (store.User, error) { return fn(u), nil })
		mustOK(t, err)
	}

	want("warm", "dev-secret", http.StatusOK, "pull", "push")
	modify(func(u store.User) store.User { u.Disabled = true; return u })
	want("disabled by another process", "dev-secret", http.StatusUnauthorized)
	modify(func(u store.User) store.User { u.Disabled = false; return u })
	want("enabled again", "dev-secret", http.StatusOK, "pull", "push")

	mustOK(t, other.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleGuest}))
	want("made guest", "dev-secret", http.StatusOK, "pull")
	mustOK(t, other.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleDeveloper}))
	want("developer again", "dev-secret", http.StatusOK, "pull", "push")
	mustOK(t, other.CreateRule(ctx, &store.Rule{Project: "team", Repos: "app", Subject: store.RuleUser, Name: "dev",
		Actions: []string{"push"}, Deny: true}))
	want("deny rule on push", "dev-secret", http.StatusOK, "pull")
	mustOK(t, other.RemoveMember(ctx, "team", store.MemberUser, "dev"))
	want("membership removed", "dev-secret", http.StatusOK)

	newHash, err := secret.HashPassword("new-secret", 4)
	mustOK(t, err)
	modify(func(u store.User) store.User { u.PasswordHash = newHash; return u })
	want("old password after a change", "dev-secret", http.StatusUnauthorized)
	mustOK(t, other.DeleteUser(ctx, "dev"))
	want("deleted", "new-secret", http.StatusUnauthorized)
}

// tokenClaims decodes the claims of the token in a token answer's body
// into claims.
func tokenClaims(t testing.TB, body []byte, claims any) {
	t.Helper()
	var resp struct{ Token string }
	mustOK(t, json.Unmarshal(body, &resp))
	parts := strings.Split(resp.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("answer without a JWT: %s", body)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	mustOK(t, err)
	mustOK(t, json.Unmarshal(payload, claims))
}
