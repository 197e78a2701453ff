package app_test

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
)

// TestScopeRepositoryGrammar: a repository name outside distribution's
// reference grammar is a malformed request (400, errcode INVALID_REQUEST)
// at the token endpoint, by GET and by POST, before any password check;
// "team/../secret/app" was granted as a repository of project team. The
// names real clients send still get their grants.
func TestScopeRepositoryGrammar(t *testing.T) {
	var logins *countingLogins
	f, _ := newFixtureWith(t, func(_ *config.Config, o *app.Options) {
		o.Passwords = func(p authn.PasswordAuthenticator) authn.PasswordAuthenticator {
			logins = &countingLogins{next: p}
			return logins
		}
	})
	for _, repo := range []string{"team/../secret/app", "Team/app", "team//app", "team/app/", "/team/app", "localhost:5000/../app"} {
		t.Run(repo, func(t *testing.T) {
			scope := "repository:" + repo + ":pull,push"
			before := logins.calls.Load()
			for _, r := range []reply{
				f.get("GET", "/service/token", scopeQuery(scope), "dev", f.users["dev"]),
				f.post("/service/token", f.passwordForm("dev", url.Values{"scope": {scope}}), ""),
			} {
				if r.status != 400 || errcodeOf(r) != "INVALID_REQUEST" || r.body["token"] != nil {
					t.Fatalf("status %d, errcode %q: want 400 INVALID_REQUEST", r.status, errcodeOf(r))
				}
			}
			if n := logins.calls.Load() - before; n != 0 {
				t.Fatalf("%d password checks ran before the scope was refused", n)
			}
		})
	}
	tests := []struct {
		name  string
		scope string
		want  []any
	}{
		{name: "two components", scope: "repository:team/app:pull,push", want: []any{access("repository", "team/app", "pull", "push")}},
		{name: "nested", scope: "repository:team/base/img:pull,push", want: []any{access("repository", "team/base/img", "pull", "push")}},
		{name: "separators", scope: "repository:team/my-app_v2.x__y:pull", want: []any{access("repository", "team/my-app_v2.x__y", "pull")}},
		{name: "host and port", scope: "repository:localhost:5000/team/app:push", want: []any{access("repository", "localhost:5000/team/app", "push")}},
		{name: "zot's catalog (empty name)", scope: "repository::pull", want: []any{access("repository", "")}},
		{name: "unknown type", scope: "plugin:Any/../Thing:x", want: []any{access("plugin", "Any/../Thing")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.get("GET", "/service/token", scopeQuery(tt.scope), "dev", f.users["dev"])
			if r.status != 200 {
				t.Fatalf("status %d: %v", r.status, r.body)
			}
			if got := r.claims["access"]; !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("access %v, want %v", got, tt.want)
			}
		})
	}
}

// errcodeOf is the first errcode of an error reply's body.
func errcodeOf(r reply) string {
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	code, _ := e["code"].(string)
	return code
}
