package api_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestPolicyAPI covers the policy beyond Harbor's model under
// /api/authserver/v1: repository rules, a robot's policy, a user's
// networks, the internal visibility in Harbor's project metadata, and
// explain with a client address; each checked at the token endpoint.
func TestPolicyAPI(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		f.user("bob", false)
		want(t, f.do("root", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"}), 201, "create team")
		granted := func(user, pass, scope string) []any {
			t.Helper()
			r := f.doPw(user, pass, "GET", "/service/token?service=test-registry&scope="+scope, nil)
			want(t, r, 200, "token for "+user)
			var tok map[string]any
			r.json(t, &tok)
			access := claims(t, tok["token"].(string))["access"].([]any)
			return access[0].(map[string]any)["actions"].([]any)
		}
		if got := granted("bob", f.pw["bob"], "repository:team/app-1:pull,push"); len(got) != 0 {
			t.Fatalf("bob before any rule: %v", got)
		}

		// A rule lets bob, no member, push to app-*; the list shows it.
		r := f.do("root", "POST", "/api/authserver/v1/projects/team/rules", map[string]any{"repos": "app-*", "subject": "user",
			"name": "bob", "actions": []string{"push"}})
		want(t, r, 201, "add rule")
		var rule map[string]any
		r.json(t, &rule)
		if rule["effect"] != "allow" || !reflect.DeepEqual(rule["actions"], []any{"pull", "push"}) || r.header.Get("Location") == "" {
			t.Errorf("rule %v, Location %q", rule, r.header.Get("Location"))
		}
		if got := granted("bob", f.pw["bob"], "repository:team/app-1:pull,push"); !reflect.DeepEqual(got, []any{"pull", "push"}) {
			t.Errorf("bob on app-1: %v", got)
		}
		if got := granted("bob", f.pw["bob"], "repository:team/other:pull,push"); len(got) != 0 {
			t.Errorf("bob on other: %v", got)
		}
		want(t, f.do("bob", "POST", "/api/authserver/v1/projects/team/rules", map[string]any{"repos": "*", "subject": "authenticated",
			"actions": []string{"pull"}}), 404, "a non-member adds a rule") // a private project bob cannot read
		want(t, f.do("root", "POST", "/api/authserver/v1/projects/team/rules", map[string]any{"repos": "a b", "subject": "user",
			"name": "bob", "actions": []string{"pull"}}), 400, "a bad pattern")
		want(t, f.do("root", "POST", "/api/authserver/v1/projects/team/rules", map[string]any{"repos": "x", "subject": "user",
			"name": "bob", "actions": []string{"pull"}, "effect": "maybe"}), 400, "a bad effect")
		var rules []map[string]any
		want(t, f.do("root", "GET", "/api/authserver/v1/projects/team/rules", nil), 200, "list rules")
		f.do("root", "GET", "/api/authserver/v1/projects/team/rules", nil).json(t, &rules)
		if len(rules) != 1 || rules[0]["name"] != "bob" || rules[0]["repos"] != "app-*" {
			t.Errorf("rules %v", rules)
		}

		// explain names the rule.
		var e map[string]any
		r = f.do("root", "POST", "/api/authserver/v1/explain", map[string]any{"user": "bob", "scopes": []string{"repository:team/app-2:push"}})
		want(t, r, 200, "explain")
		r.json(t, &e)
		if !strings.Contains(fmt.Sprint(e["decisions"]), fmt.Sprintf("rule %v (allow user bob on app-*", rule["id"])) {
			t.Errorf("explain %v", e)
		}
		want(t, f.do("root", "DELETE", fmt.Sprintf("/api/authserver/v1/projects/team/rules/%v", rule["id"]), nil), 200, "remove rule")
		want(t, f.do("root", "DELETE", fmt.Sprintf("/api/authserver/v1/projects/team/rules/%v", rule["id"]), nil), 404, "remove again")
		if got := granted("bob", f.pw["bob"], "repository:team/app-1:pull,push"); len(got) != 0 {
			t.Errorf("bob after the rule went: %v", got)
		}

		// Internal visibility through Harbor's metadata: bob pulls.
		want(t, f.do("root", "PUT", "/api/v2.0/projects/team", map[string]any{"metadata": map[string]string{"visibility": "internal"}}), 200, "internal")
		var p map[string]any
		f.do("root", "GET", "/api/v2.0/projects/team", nil).json(t, &p)
		if md := p["metadata"].(map[string]any); md["visibility"] != "internal" || md["public"] != "false" {
			t.Errorf("metadata %v", md)
		}
		if got := granted("bob", f.pw["bob"], "repository:team/app:pull,push"); !reflect.DeepEqual(got, []any{"pull"}) {
			t.Errorf("bob on an internal project: %v", got)
		}
		want(t, f.do("bob", "GET", "/api/v2.0/projects/team", nil), 200, "bob reads an internal project")
		want(t, f.do("", "GET", "/api/v2.0/projects/team", nil), 404, "anonymous reads an internal project")
		var listed []map[string]any
		f.do("bob", "GET", "/api/v2.0/projects", nil).json(t, &listed)
		if len(listed) != 1 || listed[0]["name"] != "team" {
			t.Errorf("bob's project list: %v", listed)
		}
		want(t, f.do("root", "PUT", "/api/v2.0/projects/team", map[string]any{"metadata": map[string]string{"public": "true",
			"visibility": "internal"}}), 400, "public and visibility disagree")
		want(t, f.do("root", "POST", "/api/v2.0/projects", map[string]any{"project_name": "plain"}), 201, "create plain")
		f.do("root", "GET", "/api/v2.0/projects/plain", nil).json(t, &p)
		if md := p["metadata"].(map[string]any); len(md) != 1 || md["public"] != "false" {
			t.Errorf("a project using no new feature reads as in Harbor: %v", md)
		}

		// A robot's policy: limited to app-*, from one network, its own lifetime.
		r = f.do("root", "POST", "/api/v2.0/robots", map[string]any{"name": "ci", "level": "project", "duration": -1,
			"permissions": []any{map[string]any{"kind": "project", "namespace": "team",
				"access": []any{map[string]string{"resource": "repository", "action": "push"}}}}})
		want(t, r, 201, "create robot")
		var robot map[string]any
		r.json(t, &robot)
		path := fmt.Sprintf("/api/authserver/v1/robots/%v/policy", robot["id"])
		var pol map[string]any
		r = f.do("root", "PUT", path, map[string]any{"repos": []string{"app-*"}, "allow_from": []string{"127.0.0.1"}, "token_lifetime": 7200})
		want(t, r, 200, "set robot policy")
		r.json(t, &pol)
		if !reflect.DeepEqual(pol["allow_from"], []any{"127.0.0.1/32"}) || pol["token_lifetime"] != float64(7200) {
			t.Errorf("policy %v", pol)
		}
		want(t, f.do("root", "GET", path, nil), 200, "get robot policy")
		want(t, f.do("root", "PUT", path, map[string]any{"allow_from": []string{"nonsense"}}), 400, "a bad network")
		secret := robot["secret"].(string)
		if got := granted("robot$team+ci", secret, "repository:team/app-1:push"); !reflect.DeepEqual(got, []any{"push"}) {
			t.Errorf("robot on app-1: %v", got)
		}
		if got := granted("robot$team+ci", secret, "repository:team/web:push"); len(got) != 0 {
			t.Errorf("robot on web: %v", got)
		}
		tr := f.doPw("robot$team+ci", secret, "GET", "/service/token?service=test-registry&scope=repository:team/app-1:push", nil)
		var tok map[string]any
		tr.json(t, &tok)
		if tok["expires_in"] != float64(7200) {
			t.Errorf("robot's token expires_in %v, want its own 7200", tok["expires_in"])
		}

		// A user's networks: elsewhere is 401, and explain --from says why.
		var bob map[string]any
		f.do("root", "GET", "/api/v2.0/users/current", nil)
		var users []map[string]any
		f.do("root", "GET", "/api/v2.0/users?username=bob", nil).json(t, &users)
		bob = users[0]
		ap := fmt.Sprintf("/api/authserver/v1/users/%v/allow_from", bob["user_id"])
		want(t, f.do("bob", "PUT", ap, map[string]any{"allow_from": []string{"10.0.0.0/8"}}), 403, "bob limits himself")
		want(t, f.do("root", "PUT", ap, map[string]any{"allow_from": []string{"10.0.0.0/8"}}), 200, "limit bob")
		want(t, f.doPw("bob", f.pw["bob"], "GET", "/service/token?service=test-registry", nil), 401, "bob from 127.0.0.1")
		r = f.do("root", "POST", "/api/authserver/v1/explain", map[string]any{"user": "bob", "from": "192.0.2.1",
			"scopes": []string{"repository:team/app:pull"}})
		want(t, r, 200, "explain from")
		r.json(t, &e)
		if !strings.Contains(fmt.Sprint(e), "user bob may log in only from 10.0.0.0/8, not from 192.0.2.1") {
			t.Errorf("explain from: %v", e)
		}
		want(t, f.do("root", "PUT", ap, map[string]any{"allow_from": []string{}}), 200, "unlimit bob")
		want(t, f.doPw("bob", f.pw["bob"], "GET", "/service/token?service=test-registry", nil), 200, "bob again")
	})
}

// TestPolicyApplyAPI: apply and export over the API, as the CLI's.
func TestPolicyApplyAPI(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		f.user("bob", false)
		doc := map[string]any{"version": 1, "projects": []any{map[string]any{"name": "team", "visibility": "internal",
			"members": []any{map[string]any{"user": "bob", "role": "developer"}},
			"robots":  []any{map[string]any{"name": "ci", "actions": []string{"push"}, "repos": []string{"app-*"}}}}}}
		var res struct {
			Changes []map[string]string `json:"changes"`
			Secrets []map[string]string `json:"secrets"`
		}
		r := f.do("root", "POST", "/api/authserver/v1/apply?dry_run=true", doc)
		want(t, r, 200, "dry run")
		r.json(t, &res)
		if len(res.Changes) != 3 || len(res.Secrets) != 0 {
			t.Errorf("dry run %+v", res)
		}
		want(t, f.do("root", "GET", "/api/v2.0/projects/team", nil), 404, "team after the dry run")
		r = f.do("root", "POST", "/api/authserver/v1/apply", doc)
		want(t, r, 200, "apply")
		r.json(t, &res)
		if len(res.Changes) != 3 || len(res.Secrets) != 1 || res.Secrets[0]["name"] != "robot$team+ci" {
			t.Errorf("apply %+v", res)
		}
		r = f.do("root", "POST", "/api/authserver/v1/apply?prune=true", doc)
		r.json(t, &res)
		if r.status != 200 || len(res.Changes) != 0 {
			t.Errorf("again: %d %+v", r.status, res)
		}
		var exported map[string]any
		r = f.do("root", "GET", "/api/authserver/v1/export", nil)
		want(t, r, 200, "export")
		r.json(t, &exported)
		if strings.Contains(string(r.body), "secret") || !strings.Contains(string(r.body), `"repos":["app-*"]`) {
			t.Errorf("export %s", r.body)
		}
		want(t, f.do("bob", "GET", "/api/authserver/v1/export", nil), 403, "export by a non-sysadmin")
		want(t, f.do("root", "POST", "/api/authserver/v1/apply", map[string]any{"version": 1, "projcts": []any{}}), 400, "a misspelt key")
		want(t, f.do("root", "POST", "/api/authserver/v1/apply", map[string]any{"version": 2}), 400, "another version")
		want(t, f.do("root", "POST", "/api/authserver/v1/apply?prune=maybe", doc), 400, "a bad flag")
	})
}
