package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
)

// TestGuardRails: Harbor's guard rails through the API. Nobody deletes,
// demotes or disables themselves (403, saying why); a member added twice
// is 409 and PUT changes its role; a robot without duration (or 0) gets
// robots.default_duration, -1 never; api.max_projects_per_user and
// robots.max_per_project answer 409 past them.
func TestGuardRails(t *testing.T) {
	for _, b := range append([]backend{{"sqlite", sqliteStore}}, integrationBackends...) {
		t.Run(b.name, func(t *testing.T) {
			testGuardRails(t, newFixturePrefix(t, b.open(t), "robot$", func(o *admin.Options) {
				o.MaxProjectsPerUser, o.MaxRobotsPerProject = 2, 2
			}))
		})
	}
}

func testGuardRails(t *testing.T, f *fixture) {
	var me map[string]any
	f.do("root", "GET", "/api/v2.0/users/current", nil).json(t, &me)
	rootID := fmt.Sprint(me["user_id"])
	for _, c := range []struct {
		method, path string
		body         any
		msg          string
	}{
		{"DELETE", "/users/" + rootID, nil, "root may not delete themselves: ask another sysadmin"},
		{"PUT", "/users/" + rootID + "/sysadmin", map[string]any{"sysadmin_flag": false}, "root may not demote themselves: ask another sysadmin"},
	} {
		r := f.do("root", c.method, "/api/v2.0"+c.path, c.body)
		if r.status != 403 || !strings.Contains(string(r.body), c.msg) {
			t.Errorf("%s %s: %d %s, want 403 %q", c.method, c.path, r.status, r.body, c.msg)
		}
	}
	if u, err := f.st.GetUser(t.Context(), "root"); err != nil || !u.Admin {
		t.Fatalf("root after refusals: %+v, %v", u, err)
	}

	// Messages in the client's terms: no Go type names.
	for _, c := range []struct {
		user, method, path string
		body               any
		msg                string
	}{
		{"root", "POST", "/api/v2.0/projects", `{"project_name":7}`, "malformed JSON body: project_name: want a string, got number"},
		{"root", "POST", "/api/v2.0/projects", `{"colour":"red"}`, `malformed JSON body: unknown field "colour"`},
		{"root", "PUT", "/api/v2.0/users/" + rootID + "/password", map[string]string{"new_password": "New-pass-1"},
			"old_password is required: the current password, to change one's own"},
	} {
		r := f.do(c.user, c.method, c.path, c.body)
		var body struct{ Errors []struct{ Message string } }
		r.json(t, &body)
		if r.status != 400 || len(body.Errors) != 1 || body.Errors[0].Message != c.msg {
			t.Errorf("%s %s %v: %d %s, want 400 %q", c.method, c.path, c.body, r.status, r.body, c.msg)
		}
	}

	// Members: POST twice is 409, PUT changes the role.
	f.user("alice", false)
	f.user("bob", false)
	want(t, f.do("alice", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"}), 201, "team")
	add := map[string]any{"role_id": 3, "member_user": map[string]any{"username": "bob"}}
	r := f.do("alice", "POST", "/api/v2.0/projects/team/members", add)
	want(t, r, 201, "add bob")
	if r = f.do("alice", "POST", "/api/v2.0/projects/team/members", add); r.status != 409 || r.errcode() != "CONFLICT" {
		t.Errorf("bob again: %d %s, want 409", r.status, r.body)
	}
	loc := r.header.Get("Location")
	var ms []map[string]any
	f.do("alice", "GET", "/api/v2.0/projects/team/members?entityname=bob", nil).json(t, &ms)
	if len(ms) != 1 || ms[0]["role_id"] != float64(3) {
		t.Fatalf("members %v (Location %q)", ms, loc)
	}
	mid := fmt.Sprint(ms[0]["id"])
	want(t, f.do("alice", "PUT", "/api/v2.0/projects/team/members/"+mid, map[string]any{"role_id": 2}), 200, "PUT role")
	var m map[string]any
	f.do("alice", "GET", "/api/v2.0/projects/team/members/"+mid, nil).json(t, &m)
	if m["role_id"] != float64(2) || m["role_name"] != "developer" {
		t.Errorf("after PUT: %v", m)
	}

	// Robot lifetimes: none or 0 is robots.default_duration, -1 never.
	robot := func(name string, duration any) map[string]any {
		body := map[string]any{"name": name, "level": "project", "permissions": []any{map[string]any{"kind": "project",
			"namespace": "team", "access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}}
		if duration != nil {
			body["duration"] = duration
		}
		return body
	}
	month := time.Now().Add(30 * 24 * time.Hour).Unix()
	for _, c := range []struct {
		name     string
		duration any
		never    bool
	}{{"absent", nil, false}, {"zero", 0, false}, {"never", -1, true}} {
		r := f.do("alice", "POST", "/api/v2.0/robots", robot(c.name, c.duration))
		if c.name == "never" {
			// robots.max_per_project is 2: the third robot is refused.
			if r.status != 409 || !strings.Contains(string(r.body), "robots.max_per_project") {
				t.Errorf("third robot: %d %s, want 409", r.status, r.body)
			}
			want(t, f.do("root", "DELETE", "/api/v2.0/robots/"+lastID(t, f, "team"), nil), 200, "make room")
			r = f.do("alice", "POST", "/api/v2.0/robots", robot(c.name, c.duration))
		}
		want(t, r, 201, "robot "+c.name)
		var out map[string]any
		r.json(t, &out)
		exp := int64(out["expires_at"].(float64))
		if c.never && exp != -1 || !c.never && (exp < month-60 || exp > month+60) {
			t.Errorf("robot %s: expires_at %d, want %v", c.name, exp, map[bool]string{true: "-1", false: "in 30 days"}[c.never])
		}
	}

	// api.max_projects_per_user is 2: alice's third project is refused;
	// a sysadmin has no such limit.
	want(t, f.do("alice", "POST", "/api/v2.0/projects", map[string]any{"project_name": "second"}), 201, "second")
	r = f.do("alice", "POST", "/api/v2.0/projects", map[string]any{"project_name": "third"})
	if r.status != 409 || !strings.Contains(string(r.body), "api.max_projects_per_user") {
		t.Errorf("third project: %d %s, want 409", r.status, r.body)
	}
	for i := range 3 {
		want(t, f.do("root", "POST", "/api/v2.0/projects", map[string]any{"project_name": fmt.Sprintf("root%d", i)}), 201, "root's")
	}
}

// lastID is the id of the newest robot of project.
func lastID(t *testing.T, f *fixture, project string) string {
	t.Helper()
	rs, err := f.st.ListRobots(t.Context(), project)
	if err != nil || len(rs) == 0 {
		t.Fatalf("robots of %s: %v, %v", project, rs, err)
	}
	id := rs[0].ID
	for _, r := range rs {
		id = max(id, r.ID)
	}
	return fmt.Sprint(id)
}
