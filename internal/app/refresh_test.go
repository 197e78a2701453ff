package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// TestRefreshRevoked: a refresh token stops working after each of these,
// done as the CLI does (through internal/admin, or the store).
func TestRefreshRevoked(t *testing.T) {
	ctx := context.Background()
	cli := admin.Actor{Name: "cli", Admin: true, Method: admin.MethodCLI}
	tests := []struct {
		name   string
		revoke func(f *fixture, rt string)
	}{
		{name: "user passwd", revoke: func(f *fixture, _ string) {
			dev, err := f.st.GetUser(ctx, "dev")
			f.must(err)
			_, err = admin.New(f.st, admin.Options{BcryptCost: 4}).UpdateUser(ctx, cli, dev.ID, admin.UserChange{Password: ptr("New-secret-1")})
			f.must(err)
		}},
		{name: "user disable", revoke: func(f *fixture, _ string) {
			dev, err := f.st.GetUser(ctx, "dev")
			f.must(err)
			_, err = admin.New(f.st, admin.Options{BcryptCost: 4}).UpdateUser(ctx, cli, dev.ID, admin.UserChange{Disabled: ptr(true)})
			f.must(err)
		}},
		{name: "revoke all", revoke: func(f *fixture, _ string) {
			_, err := f.st.DeleteRefreshTokens(ctx, "dev")
			f.must(err)
		}},
		{name: "revoke one", revoke: func(f *fixture, rt string) {
			got, err := f.st.GetRefreshToken(ctx, secret.Hash(rt))
			f.must(err)
			f.must(f.st.DeleteRefreshToken(ctx, "dev", got.ID))
		}},
		{name: "delete user", revoke: func(f *fixture, _ string) { f.must(f.st.DeleteUser(ctx, "dev")) }},
		{name: "delete and re-create user", revoke: func(f *fixture, _ string) {
			f.must(f.st.DeleteUser(ctx, "dev"))
			f.addUser("dev", false, false)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rt := f.login("dev")
			wantAccess(t, f.post("/service/token", refreshForm(rt, nil), ""), []any{})
			tt.revoke(f, rt)
			r := f.post("/service/token", refreshForm(rt, url.Values{"scope": {"repository:team/app:pull"}}), "")
			if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic realm=") {
				t.Fatalf("after %s: %d %v, want 401", tt.name, r.status, r.body)
			}
		})
	}
}

// TestRefreshCurrentPermissions: a refresh grant gets what the user may do
// NOW, not what they could when the token was issued.
func TestRefreshCurrentPermissions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rt := f.login("dev")
	scope := url.Values{"scope": {"repository:team/app:pull,push registry:catalog:*"}}
	wantAccess(t, f.post("/service/token", refreshForm(rt, scope), ""),
		[]any{access("repository", "team/app", "pull", "push"), access("registry", "catalog")})

	f.must(f.st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleGuest}))
	wantAccess(t, f.post("/service/token", refreshForm(rt, scope), ""),
		[]any{access("repository", "team/app", "pull"), access("registry", "catalog")})

	u, err := f.st.GetUser(ctx, "dev")
	f.must(err)
	u.Admin = true
	f.must(f.st.UpdateUser(ctx, u))
	wantAccess(t, f.post("/service/token", refreshForm(rt, scope), ""),
		[]any{access("repository", "team/app", "pull", "push"), access("registry", "catalog", "*")})
}

// TestRefreshBinding: a refresh token is bound to its service and client_id.
func TestRefreshBinding(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dev, err := f.st.GetUser(ctx, "dev")
	f.must(err)
	// A token issued for another service (e.g. before token.service was
	// changed), planted in the store.
	foreign, err := secret.New(secret.RefreshPrefix, false)
	f.must(err)
	f.must(f.st.CreateRefreshToken(ctx, &store.RefreshToken{UserID: dev.ID, Hash: secret.Hash(foreign), Service: "other-registry", ClientID: "docker"}))

	viaGet := f.get("GET", "/token", url.Values{"service": {"test-registry"}, "offline_token": {"true"}, "client_id": {"crane"}}, "dev", f.users["dev"])
	craneRT, _ := viaGet.body["refresh_token"].(string)
	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{name: "foreign service", form: refreshForm(foreign, nil), status: 401},
		{name: "issued to crane, used by docker", form: refreshForm(craneRT, nil), status: 401},
		{name: "issued to crane, used by crane", form: refreshForm(craneRT, url.Values{"client_id": {"crane"}}), status: 200},
		{name: "no client_id", form: refreshForm(craneRT, url.Values{"client_id": {""}}), status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := f.post("/service/token", tt.form, ""); r.status != tt.status {
				t.Fatalf("status %d %v, want %d", r.status, r.body, tt.status)
			}
		})
	}
}

// TestRefreshExpiry drives the clock past max_idle (30d) and max_lifetime (90d).
func TestRefreshExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	day := 24 * time.Hour
	idle := f.login("dev")
	busy := f.login("dev")
	steps := []struct {
		name       string
		advance    time.Duration
		rt         string
		wantStatus int
	}{
		{name: "busy used at day 20", advance: 20 * day, rt: busy, wantStatus: 200},
		{name: "idle at day 29 still fine", advance: 9 * day, rt: idle, wantStatus: 200},
		{name: "busy at day 50", advance: 21 * day, rt: busy, wantStatus: 200},
		{name: "idle unused for 31 days", advance: 10 * day, rt: idle, wantStatus: 401},
		{name: "busy at day 80", advance: 20 * day, rt: busy, wantStatus: 200},
		{name: "busy at day 90", advance: 10 * day, rt: busy, wantStatus: 200},
		{name: "busy past max_lifetime", advance: day + time.Second, rt: busy, wantStatus: 401},
	}
	for _, st := range steps {
		f.clock.Advance(st.advance)
		r := f.post("/service/token", refreshForm(st.rt, nil), "")
		if r.status != st.wantStatus {
			t.Fatalf("%s: status %d %v, want %d", st.name, r.status, r.body, st.wantStatus)
		}
	}
	// Expired tokens are deleted, not just refused.
	if list, err := f.st.ListRefreshTokens(ctx, "dev"); err != nil || len(list) != 0 {
		t.Fatalf("expired tokens kept: %+v, %v", list, err)
	}
}

// TestRefreshLastUsed: a refresh grant records its use (at most once a
// minute), which is what max_idle counts from.
func TestRefreshLastUsed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rt := f.login("dev")
	start := f.clock.Now()
	f.clock.Advance(10 * time.Second)
	f.post("/service/token", refreshForm(rt, nil), "")
	got, err := f.st.GetRefreshToken(ctx, secret.Hash(rt))
	f.must(err)
	if !got.LastUsedAt.Equal(start) {
		t.Fatalf("last used %v written within a minute of issue (%v)", got.LastUsedAt, start)
	}
	f.clock.Advance(time.Hour)
	f.post("/service/token", refreshForm(rt, nil), "")
	got, err = f.st.GetRefreshToken(ctx, secret.Hash(rt))
	f.must(err)
	if !got.LastUsedAt.Equal(f.clock.Now()) || got.ClientID != "docker" || got.Service != "test-registry" {
		t.Fatalf("after use an hour later: %+v (now %v)", got, f.clock.Now())
	}
}

// TestRefreshUnbound: with bind_client_id off, any client may use a token,
// as crane, skopeo, regctl and oras do with the one `docker login` stored;
// service binding still holds.
func TestRefreshUnbound(t *testing.T) {
	f, a := newFixtureWith(t, func(cfg *config.Config, _ *app.Options) { cfg.RefreshTokens.BindClientID = false })
	ctx := context.Background()
	rt := f.login("dev") // issued to client_id docker
	r := a.Refresher
	tests := []struct {
		name, service, clientID string
		ok                      bool
	}{
		{name: "crane", service: "test-registry", clientID: "go-containerregistry", ok: true},
		{name: "no client_id", service: "test-registry", ok: true},
		{name: "other service", service: "other", clientID: "docker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok, err := r.Redeem(ctx, rt, tt.service, tt.clientID)
			if err != nil || ok != tt.ok || ok && (id.Name != "dev" || id.Method != authn.MethodRefresh) {
				t.Fatalf("Redeem = %+v, %v, %v; want ok %v", id, ok, err, tt.ok)
			}
		})
	}
}

// TestCredentialsStoreDown: a store that does not answer is 503 for every
// stored credential, never 401 (clients would drop a good credential).
func TestCredentialsStoreDown(t *testing.T) {
	f := newFixture(t)
	rt := f.login("dev")
	robot := f.addRobot("team", "ci", []string{"pull"}, time.Time{})
	pat := f.addPAT("dev", "laptop", time.Time{})
	f.st.Close()
	tests := []struct {
		name string
		send func() reply
	}{
		{name: "refresh grant", send: func() reply { return f.post("/service/token", refreshForm(rt, nil), "") }},
		{name: "robot", send: func() reply { return f.get("GET", "/service/token", scopeQuery(), "robot$team+ci", robot) }},
		{name: "PAT", send: func() reply { return f.get("GET", "/service/token", scopeQuery(), "dev", pat) }},
		{name: "password grant", send: func() reply { return f.post("/service/token", f.passwordForm("dev", nil), "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := tt.send(); r.status != 503 {
				t.Fatalf("status %d %v, want 503", r.status, r.body)
			}
		})
	}
}
