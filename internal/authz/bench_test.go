package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/store"
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

// BenchmarkParseScopesLimits parses inputs at the pre-authentication
// limits, which an unauthenticated client may send:
//
//   - max: 100 scopes of 16 actions each, every name 255 bytes.
//   - post-1MiB-duplicates: the largest accepted POST body (1 MiB), one
//     scope value repeating a scope with 16 actions (all merged).
//   - post-1MiB-one-scope: 1 MiB of one scope's actions, all repeats of 16.
//   - post-1MiB-too-many: 1 MiB of distinct actions: refused at the 17th.
func BenchmarkParseScopesLimits(b *testing.B) {
	name := func(i int) string {
		p := fmt.Sprintf("p%03d/", i)
		return p + strings.Repeat("n", MaxNameLength-len(p))
	}
	acts16 := actionList(0, MaxActions)
	var max []string
	for i := range MaxScopes {
		max = append(max, "repository:"+name(i)+":"+acts16)
	}
	one := "repository:" + name(0) + ":" + acts16 + " "
	dups := strings.Repeat(one, (1<<20)/len(one))
	repeats := "repository:a/b:" + strings.Repeat(acts16+",", (1<<20)/(len(acts16)+1))
	distinct := "repository:a/b:" + actionList(0, 120000)
	cases := []struct {
		name   string
		values []string
		err    error
	}{
		{"max", max, nil},
		{"post-1MiB-duplicates", []string{dups}, nil},
		{"post-1MiB-one-scope", []string{repeats}, nil},
		{"post-1MiB-too-many", []string{distinct}, ErrTooManyActions},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseScopes(c.values); !errors.Is(err, c.err) {
					b.Fatalf("err = %v, want %v", err, c.err)
				}
			}
		})
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
// memory answers from a map, isolating the decision logic's CPU cost; the
// same decision through the real permission query on SQLite is
// internal/app's BenchmarkAuthorize/sqlite.
func BenchmarkAuthorize(b *testing.B) {
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
