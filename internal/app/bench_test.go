package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
	"github.com/authserver/authserver/internal/token"
)

// benchHandler is the whole stack (internal/app) over a real SQLite store
// and an RSA-2048 key (alg "ES256": a P-256 key), as serve builds it
// (robots → PATs → local users with the credential cache, metrics on,
// cache.public_projects at its default; throttling off; audit off, or in
// auditMode), with token reuse for reuseWindow (0: every token is signed).
// The store holds the user "dev" (password "dev-secret", bcrypt cost 10,
// developer in project team) and the public project pub.
func benchHandler(b *testing.B, reuseWindow time.Duration, alg, auditMode string) http.Handler {
	b.Helper()
	ctx := context.Background()
	must := func(err error) { mustOK(b, err) }
	cfg := apptest.Config(b)
	cfg.Token.Issuer, cfg.Token.Service = "bench-issuer", "bench-registry"
	cfg.Token.ReuseWindow = config.Duration(reuseWindow)
	if alg == token.ES256 {
		var err error
		cfg.Token.Key, cfg.Token.Certificate, _, err = token.GenerateKeyPair(b.TempDir(), alg, 0, false)
		must(err)
	}
	if auditMode != "" {
		cfg.Audit.Enabled, cfg.Audit.Mode = true, auditMode
	}
	cfg.Passwords.BcryptCost = 10
	cfg.Cache = config.Defaults().Cache
	a := apptest.New(b, cfg, app.Options{Version: "bench"})
	st := a.Store
	hash, err := secret.HashPassword("dev-secret", 10)
	must(err)
	must(st.CreateUser(ctx, &store.User{Name: "dev", PasswordHash: hash, Source: store.SourceLocal}))
	must(st.CreateProject(ctx, &store.Project{Name: "team"}))
	must(st.CreateProject(ctx, &store.Project{Name: "pub", Public: true}))
	must(st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleDeveloper}))
	return a.Handler
}

// benchGet serves one GET /service/token and fails unless it issued a
// token.
func benchGet(b *testing.B, h http.Handler, target, user, pass string) {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"token"`) {
		b.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
}

// BenchmarkTokenRequest is a whole GET /service/token through the handler
// (routing, middleware, parsing, authentication, the permission query,
// signing, JSON), without the network, with an RSA-2048 key and, under
// es256/, a P-256 key:
//
//   - anonymous: pull on a public project; one signature (the project's
//     visibility from cache.public_projects).
//   - basic-cached: Basic credentials of a local user, verified-credential
//     cache warm (no bcrypt), reuse off; the cost of authenticating on top
//     of the anonymous request.
//   - basic-reuse: the same request with token.reuse_window 30s: the
//     identical grant is answered with the token already signed.
//   - anonymous-audit-async, anonymous-audit-sync: anonymous with the
//     audit trail on (audit.mode async, sync), on the same SQLite store.
//   - basic-cached-audit-sync, basic-reuse-audit-sync: basic-cached and
//     basic-reuse with audit.mode sync, the default as shipped.
//
// The allocations per request are the figure to read on a shared machine.
func BenchmarkTokenRequest(b *testing.B) {
	q := func(scope string) string {
		return "/service/token?" + url.Values{
			"service": {"bench-registry"}, "client_id": {"docker"}, "scope": {scope},
		}.Encode()
	}
	anon := q("repository:pub/tools:pull")
	dev := q("repository:team/app:pull,push") + "&account=dev"
	cases := []struct {
		name       string
		reuse      time.Duration
		target     string
		user, pass string
		audit      string
	}{
		{"anonymous", 0, anon, "", "", ""},
		{"basic-cached", 0, dev, "dev", "dev-secret", ""},
		{"basic-reuse", 30 * time.Second, dev, "dev", "dev-secret", ""},
		{"es256/anonymous", 0, anon, "", "", ""},
		{"es256/basic-cached", 0, dev, "dev", "dev-secret", ""},
		{"es256/basic-reuse", 30 * time.Second, dev, "dev", "dev-secret", ""},
		{"es256/anonymous-audit-async", 0, anon, "", "", config.AuditAsync},
		{"es256/anonymous-audit-sync", 0, anon, "", "", config.AuditSync},
		{"es256/basic-cached-audit-sync", 0, dev, "dev", "dev-secret", config.AuditSync},
		{"es256/basic-reuse-audit-sync", 30 * time.Second, dev, "dev", "dev-secret", config.AuditSync},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			alg := token.RS256
			if strings.HasPrefix(c.name, "es256/") {
				alg = token.ES256
			}
			h := benchHandler(b, c.reuse, alg, c.audit)
			benchGet(b, h, c.target, c.user, c.pass) // warms the credential cache (one bcrypt) and the reuse cache
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				benchGet(b, h, c.target, c.user, c.pass)
			}
		})
	}
}

// BenchmarkAuthorize/sqlite is internal/authz's BenchmarkAuthorize (a
// developer asking for pull,push on team/app, pull on base/golang as a
// guest and pull on pub/tools, public) through the real permission query
// (one indexed query) against a SQLite store holding 1,000 users, 100
// projects and 5,000 memberships.
//
// sqlite-rules is the same with 200 repository rules in team, base and pub
// about other users and one deny rule about dev that matches none of the
// repositories asked for: still one query (issue 24).
func BenchmarkAuthorize(b *testing.B) {
	for _, rules := range []bool{false, true} {
		name := "sqlite"
		if rules {
			name = "sqlite-rules"
		}
		b.Run(name, func(b *testing.B) { benchAuthorize(b, rules) })
	}
}

func benchAuthorize(b *testing.B, rules bool) {
	ctx := context.Background()
	st := sqlitetest.Open(b)
	devID := seedBenchStore(b, st)
	if rules {
		for i := range 200 {
			r := store.Rule{Project: []string{"team", "base", "pub"}[i%3], Repos: fmt.Sprintf("r%d-*", i), Subject: store.RuleUser,
				Name: fmt.Sprintf("u%04d", i), Actions: []string{"pull", "push"}}
			mustOK(b, st.CreateRule(ctx, &r))
		}
		mustOK(b, st.CreateRule(ctx, &store.Rule{Project: "team", Repos: "release/*", Subject: store.RuleUser, Name: "dev",
			Actions: []string{"push"}, Deny: true}))
	}
	a := authz.New(st)
	subj := authz.Subject{Name: "dev", UserID: devID}
	scopes, err := authz.ParseScopes([]string{"repository:team/app:pull,push",
		"repository:base/golang:pull repository:team/app:pull", "repository:pub/tools:pull"})
	if err != nil {
		b.Fatal(err)
	}
	check := func(d []authz.Decision, err error) {
		if err != nil || len(d) != 3 || len(d[0].Granted) != 2 || len(d[1].Granted) != 1 || len(d[2].Granted) != 1 {
			b.Fatalf("Authorize: %v, %+v", err, d)
		}
	}
	check(a.Authorize(ctx, subj, scopes))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		check(a.Authorize(ctx, subj, scopes))
	}
}

// seedBenchStore fills st with the three projects of benchScopeValues, the
// user "dev" (developer in team, guest in base), and filler users,
// projects and memberships so the query runs against non-trivial tables.
// It returns dev's ID.
func seedBenchStore(b *testing.B, st store.Store) int64 {
	b.Helper()
	ctx := context.Background()
	must := func(err error) { mustOK(b, err) }
	const users, projects, perUser = 1000, 100, 5
	for i := range projects {
		must(st.CreateProject(ctx, &store.Project{Name: fmt.Sprintf("p%03d", i)}))
	}
	must(st.CreateProject(ctx, &store.Project{Name: "team"}))
	must(st.CreateProject(ctx, &store.Project{Name: "base"}))
	must(st.CreateProject(ctx, &store.Project{Name: "pub", Public: true}))
	for i := range users {
		name := fmt.Sprintf("u%04d", i)
		must(st.CreateUser(ctx, &store.User{Name: name, PasswordHash: "x", Source: store.SourceLocal}))
		for k := range perUser {
			must(st.SetMember(ctx, store.Member{Project: fmt.Sprintf("p%03d", (i+k)%projects),
				Kind: store.MemberUser, Name: name, Role: store.RoleGuest}))
		}
	}
	dev := &store.User{Name: "dev", PasswordHash: "x", Source: store.SourceLocal}
	must(st.CreateUser(ctx, dev))
	must(st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleDeveloper}))
	must(st.SetMember(ctx, store.Member{Project: "base", Kind: store.MemberUser, Name: "dev", Role: store.RoleGuest}))
	return dev.ID
}

// mustOK fails the benchmark on err.
func mustOK(b testing.TB, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
