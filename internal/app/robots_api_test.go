package app_test

import (
	"fmt"
	"net/url"
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/config"
)

// TestSystemRobotOnProjects: a system robot on two projects, made as
// terraform-provider-harbor makes one (level system, one permission per
// project, each with its own actions), reads back as Harbor shows it and
// gets at /service/token exactly those actions: its actions on each named
// project, nothing on a third. A PUT replacing the permissions is seen by
// the next token request; a plain user may not make a system robot.
func TestSystemRobotOnProjects(t *testing.T) {
	apiBackends(t, func(t *testing.T, useStore func(*config.Config)) {
		s := newAPIServer(t, useStore)
		for _, p := range []string{"team", "web", "other"} {
			want(t, s.do("root", "POST", "/api/v2.0/projects", map[string]any{"project_name": p}), 201, "project "+p)
		}
		access := func(actions ...string) []any {
			out := []any{}
			for _, a := range actions {
				out = append(out, map[string]any{"resource": "repository", "action": a})
			}
			return out
		}
		perm := func(project string, actions ...string) map[string]any {
			return map[string]any{"kind": "project", "namespace": project, "access": access(actions...)}
		}
		body := map[string]any{"name": "deployer", "description": "terraform", "level": "system", "duration": -1,
			"permissions": []any{perm("team", "pull", "push"), perm("web", "pull")}}
		want(t, s.do("dev", "POST", "/api/v2.0/robots", body), 403, "system robot by a plain user")

		r := s.do("root", "POST", "/api/v2.0/robots", body)
		want(t, r, 201, "create")
		var created struct {
			ID     int64  `json:"id"`
			Name   string `json:"name"`
			Secret string `json:"secret"`
		}
		r.json(t, &created)
		if created.Name != "robot$deployer" || created.Secret == "" {
			t.Fatalf("created %+v", created)
		}
		var got map[string]any
		s.do("root", "GET", fmt.Sprintf("/api/v2.0/robots/%d", created.ID), nil).json(t, &got)
		if got["level"] != "system" || !reflect.DeepEqual(got["permissions"], jsonOf(t, body["permissions"])) {
			t.Fatalf("GET: level %v, permissions %v", got["level"], got["permissions"])
		}

		token := func(scopes ...string) []any {
			t.Helper()
			q := url.Values{"service": {s.app.Config.Token.Service}, "scope": scopes}
			status, raw := s.call("GET", "/service/token?"+q.Encode(), created.Name, created.Secret, "")
			if status != 200 {
				t.Fatalf("token: status %d: %s", status, raw)
			}
			var claims struct{ Access []any }
			tokenClaims(t, raw, &claims)
			return claims.Access
		}
		grant := func(name string, actions ...string) any {
			acts := []any{}
			for _, a := range actions {
				acts = append(acts, a)
			}
			return map[string]any{"type": "repository", "name": name, "actions": acts}
		}
		scopes := []string{"repository:team/app:pull,push,delete", "repository:web/site:pull,push", "repository:other/x:pull"}
		if a := token(scopes...); !reflect.DeepEqual(a, []any{grant("team/app", "pull", "push"), grant("web/site", "pull"), grant("other/x")}) {
			t.Fatalf("token access %v", a)
		}

		// PUT (terraform's update) replaces the permissions at once.
		body["permissions"] = []any{perm("web", "pull", "push", "delete")}
		want(t, s.do("root", "PUT", fmt.Sprintf("/api/v2.0/robots/%d", created.ID), body), 200, "PUT")
		if a := token(scopes...); !reflect.DeepEqual(a, []any{grant("team/app"), grant("web/site", "pull", "push"), grant("other/x")}) {
			t.Fatalf("token access after PUT %v", a)
		}
	})
}
