package api_test

import (
	"fmt"
	"reflect"
	"testing"
)

// TestSystemRobotKindSystem: a system robot's permissions as Harbor (and
// terraform's harbor_robot_account) send them, entries of kind system
// (namespace "/") beside the projects, are kept and read back after the
// project entries, replaced by PUT, and grant nothing at the token
// endpoint; kind system on a project robot, or with another namespace, is
// 400.
func TestSystemRobotKindSystem(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		want(t, f.do("root", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"}), 201, "project")
		system := func(actions ...string) map[string]any {
			acc := []map[string]string{}
			for _, a := range actions {
				acc = append(acc, map[string]string{"resource": "audit-log", "action": a})
			}
			return map[string]any{"kind": "system", "namespace": "/", "access": acc}
		}
		team := map[string]any{"kind": "project", "namespace": "team", "access": []map[string]string{{"resource": "repository", "action": "pull"}}}
		r := f.do("root", "POST", "/api/v2.0/robots", map[string]any{"name": "auditor", "level": "system", "duration": -1,
			"permissions": []any{system("list"), team}})
		want(t, r, 201, "system robot with kind system")
		var created struct {
			ID     int64
			Secret string
		}
		r.json(t, &created)
		type perm struct {
			Kind, Namespace string
			Access          []struct{ Resource, Action, Effect string }
		}
		read := func() []perm {
			var rb struct{ Permissions []perm }
			f.do("root", "GET", fmt.Sprintf("/api/v2.0/robots/%d", created.ID), nil).json(t, &rb)
			return rb.Permissions
		}
		got := read()
		if len(got) != 2 || got[0].Namespace != "team" || got[1].Kind != "system" || got[1].Namespace != "/" ||
			!reflect.DeepEqual(got[1].Access, []struct{ Resource, Action, Effect string }{{"audit-log", "list", ""}}) {
			t.Errorf("read back: %+v", got)
		}
		want(t, f.do("root", "PUT", fmt.Sprintf("/api/v2.0/robots/%d", created.ID), map[string]any{"name": "auditor", "level": "system",
			"duration": -1, "permissions": []any{team, system("list", "read")}}), 200, "put")
		if got := read(); len(got) != 2 || len(got[1].Access) != 2 {
			t.Errorf("after PUT: %+v", got)
		}
		want(t, f.do("root", "PUT", fmt.Sprintf("/api/v2.0/robots/%d", created.ID), map[string]any{"name": "auditor", "level": "system",
			"duration": -1, "permissions": []any{team}}), 200, "put without kind system")
		if got := read(); len(got) != 1 {
			t.Errorf("after a PUT without kind system entries: %+v", got)
		}
		tr := f.doPw("robot$auditor", created.Secret, "GET", "/service/token?service=test-registry&scope=repository:team/app:pull,push", nil)
		want(t, tr, 200, "token")
		var tok map[string]any
		tr.json(t, &tok)
		if access := fmt.Sprint(claims(t, tok["token"].(string))["access"]); access != "[map[actions:[pull] name:team/app type:repository]]" {
			t.Errorf("token access %s", access)
		}
		for _, body := range []map[string]any{
			{"name": "bad1", "level": "project", "permissions": []any{system("list")}},
			{"name": "bad2", "level": "system", "permissions": []any{team, map[string]any{"kind": "system", "namespace": "team",
				"access": []map[string]string{{"resource": "audit-log", "action": "list"}}}}},
			{"name": "bad3", "level": "system", "permissions": []any{team, map[string]any{"kind": "cluster", "namespace": "/",
				"access": []map[string]string{{"resource": "audit-log", "action": "list"}}}}},
		} {
			if r := f.do("root", "POST", "/api/v2.0/robots", body); r.status != 400 {
				t.Errorf("%v: %d %s, want 400", body, r.status, r.body)
			}
		}
	})
}
