package authz

import (
	"context"
	"fmt"
	"testing"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
)

// benchScopeValues is a typical docker push of an image built on a base
// from another project: the scope values of one GET, as the query string
// gives them (two values, one of which holds two space-separated scopes,
// with a duplicate to merge).
var benchScopeValues = []string{
	"repository:team/app:pull,push",
	"repository:base/golang:pull repository:team/app:pull",
	"repository:pub/tools:pull",
}

// BenchmarkParseScopes parses the scope values of one multi-scope request.
func BenchmarkParseScopes(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s, err := ParseScopes(benchScopeValues)
		if err != nil || len(s) != 3 {
			b.Fatalf("ParseScopes: %v, %d scopes", err, len(s))
		}
	}
}

// benchScopes are the three scopes of benchScopeValues, parsed.
func benchScopes(b *testing.B) []Scope {
	b.Helper()
	s, err := ParseScopes(benchScopeValues)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// checkDecisions fails unless the developer got pull,push on team/app,
// pull on base/golang (guest) and pull on pub/tools (public).
func checkDecisions(b *testing.B, d []Decision, err error) {
	if err != nil || len(d) != 3 || len(d[0].Granted) != 2 || len(d[1].Granted) != 1 || len(d[2].Granted) != 1 {
		b.Fatalf("Authorize: %v, %+v", err, d)
	}
}

// BenchmarkAuthorize is the whole authorization decision for a developer
// asking for three scopes in three projects (developer, guest, public).
//
// sqlite runs the real permission query (one indexed query) against a
// SQLite store holding 1,000 users, 100 projects and 5,000 memberships;
// memory answers from a map, isolating the decision logic's CPU cost.
func BenchmarkAuthorize(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, b.TempDir()+"/db.sqlite")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		devID := seedBenchStore(b, st)
		a := New(st)
		subj := Subject{Name: "dev", UserID: devID}
		scopes := benchScopes(b)
		d, err := a.Authorize(ctx, subj, scopes)
		checkDecisions(b, d, err)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			d, err := a.Authorize(ctx, subj, scopes)
			checkDecisions(b, d, err)
		}
	})
	b.Run("memory", func(b *testing.B) {
		f := &fakeAccess{projects: map[string]store.ProjectAccess{
			"team": {Name: "team", Grants: []store.Grant{{Role: store.RoleDeveloper}}},
			"base": {Name: "base", Grants: []store.Grant{{Role: store.RoleGuest}}},
			"pub":  {Name: "pub", Public: true},
		}}
		a := New(f)
		subj := Subject{Name: "dev", UserID: 1}
		scopes := benchScopes(b)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			d, err := a.Authorize(ctx, subj, scopes)
			checkDecisions(b, d, err)
		}
	})
}

// seedBenchStore fills st with the three projects of benchScopeValues, the
// user "dev" (developer in team, guest in base), and filler users,
// projects and memberships so the query runs against non-trivial tables.
// It returns dev's ID.
func seedBenchStore(b *testing.B, st *sqlite.Store) int64 {
	b.Helper()
	ctx := context.Background()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
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
