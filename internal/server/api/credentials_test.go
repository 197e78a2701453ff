package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

// projectRobot creates project and, as user (who becomes its projectAdmin),
// a pull robot named name in it; it returns the robot's id.
func (f *fixture) projectRobot(user, project, name string) string {
	f.t.Helper()
	want(f.t, f.do(user, "POST", "/api/v2.0/projects", map[string]any{"project_name": project}), 201, "create "+project)
	r := f.do(user, "POST", "/api/v2.0/robots", map[string]any{"name": name, "level": "project", "duration": -1,
		"permissions": []any{map[string]any{"kind": "project", "namespace": project,
			"access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}})
	want(f.t, r, 201, "create robot "+name)
	var robot map[string]any
	r.json(f.t, &robot)
	return fmt.Sprint(robot["id"])
}

// TestRobotSecretNoOracle: a project admin setting their own robot's
// secret learns nothing about other robots' secrets. With a unique secret
// hash, PATCH answered 409 exactly when some robot in the system had the
// candidate secret.
func TestRobotSecretNoOracle(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		const secret = "Victim-Secret-1"
		want(t, f.do("root", "POST", "/api/v2.0/robots", map[string]any{"name": "victim", "level": "system", "secret": secret,
			"duration": -1, "permissions": []any{map[string]any{"kind": "project", "namespace": "*",
				"access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}}), 201, "system robot")
		f.user("mallory", false)
		id := f.projectRobot("mallory", "mine", "ci")
		r := f.do("mallory", "PATCH", "/api/v2.0/robots/"+id, map[string]string{"secret": secret})
		want(t, r, 200, "PATCH with the victim's secret")
		// Both robots log in, each found by its name.
		for _, login := range []string{"robot$victim", "robot$mine+ci"} {
			want(t, f.doPw(login, secret, "GET", "/service/token?service=test-registry", nil), 200, login+" with the shared secret")
		}
	})
}

// TestPATMayNotManageCredentials: a caller authenticated by a personal
// access token gets 403 for creating or revoking tokens and for changing
// a password; with the password the same calls work. Admin records name
// the caller's login method.
func TestPATMayNotManageCredentials(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		f.user("erin", false)
		r := f.do("erin", "POST", "/api/authserver/v1/users/current/tokens", map[string]any{"name": "laptop"})
		want(t, r, 201, "PAT with the password")
		var pat map[string]any
		r.json(t, &pat)
		secret := pat["secret"].(string)
		var me map[string]any
		f.doPw("erin", secret, "GET", "/api/v2.0/users/current", nil).json(t, &me)
		u, err := f.st.GetUser(t.Context(), "erin")
		if err != nil {
			t.Fatal(err)
		}
		rt := store.RefreshToken{UserID: u.ID, Hash: "erin-rt", Service: "test-registry"} // as docker login makes one
		if err := f.st.CreateRefreshToken(t.Context(), &rt); err != nil {
			t.Fatal(err)
		}
		rtID := fmt.Sprint(rt.ID)
		calls := []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/authserver/v1/users/current/tokens", map[string]any{"name": "more"}},
			{"DELETE", "/api/authserver/v1/users/current/tokens/laptop", nil},
			{"DELETE", "/api/authserver/v1/users/current/refresh_tokens/" + rtID, nil},
			{"PUT", fmt.Sprintf("/api/v2.0/users/%v/password", me["user_id"]), map[string]string{"old_password": f.pw["erin"], "new_password": "Erin-new-pass-2"}},
		}
		for _, c := range calls {
			r := f.doPw("erin", secret, c.method, c.path, c.body)
			if r.status != 403 || r.errcode() != "FORBIDDEN" || !strings.Contains(string(r.body), "log in with the password") {
				t.Errorf("%s %s with a PAT: %d %s, want 403 saying to log in with the password", c.method, c.path, r.status, r.body)
			}
		}
		// The PAT still works for what is not credential management, and the
		// admin record says it was a PAT.
		want(t, f.doPw("erin", secret, "POST", "/api/v2.0/projects", map[string]any{"project_name": "erins"}), 201, "project with a PAT")
		var trail []map[string]any
		f.do("root", "GET", "/api/authserver/v1/audit?kind=admin&user=erin", nil).json(t, &trail)
		methods := map[string]string{}
		for _, rec := range trail {
			methods[fmt.Sprint(rec["action"])] = fmt.Sprint(rec["method"])
		}
		if methods["project.create"] != "pat" || methods["pat.create"] != "password" || len(trail) != 2 {
			t.Errorf("erin's admin records: %v; want project.create by pat, pat.create by password, nothing else", trail)
		}
		// With the password, each works.
		for _, c := range calls {
			if r := f.do("erin", c.method, c.path, c.body); r.status >= 300 {
				t.Errorf("%s %s with the password: %d %s", c.method, c.path, r.status, r.body)
			}
		}
	})
}

// TestPasswordPolicyAPI: a password the policy refuses is a 400 with the
// reason, on user creation, password change and reset, and a chosen robot
// secret; a password longer than bcrypt's 72 bytes is one of them (it was
// a 503: the hashing error was not an admin error).
func TestPasswordPolicyAPI(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		f.user("erin", false)
		var me map[string]any
		f.do("erin", "GET", "/api/v2.0/users/current", nil).json(t, &me)
		pwPath := fmt.Sprintf("/api/v2.0/users/%v/password", me["user_id"])
		robot := f.projectRobot("root", "team", "ci")
		long := "Aa1" + strings.Repeat("x", 72) // 75 bytes
		for _, bad := range []struct{ pw, why string }{{long, "bcrypt reads only the first 72"}, {"password1", "no upper-case letter"}, {"Pw-1", "at least 8 characters"}} {
			calls := []struct {
				name, user, method, path string
				body                     any
			}{
				{"user create", "root", "POST", "/api/v2.0/users", map[string]any{"username": "frank", "password": bad.pw}},
				{"own password", "erin", "PUT", pwPath, map[string]string{"old_password": f.pw["erin"], "new_password": bad.pw}},
				{"reset", "root", "PUT", pwPath, map[string]string{"new_password": bad.pw}},
				{"robot secret", "root", "PATCH", "/api/v2.0/robots/" + robot, map[string]string{"secret": bad.pw}},
			}
			for _, c := range calls {
				r := f.do(c.user, c.method, c.path, c.body)
				if r.status != 400 || r.errcode() != "BAD_REQUEST" || !strings.Contains(string(r.body), bad.why) {
					t.Errorf("%s with %.10q: %d %s, want 400 saying %q", c.name, bad.pw, r.status, r.body, bad.why)
				}
			}
		}
		want(t, f.doPw("erin", f.pw["erin"], "GET", "/service/token?service=test-registry", nil), 200, "erin's password unchanged")
	})
}

// TestWrongOldPasswordAudited: a wrong old_password is 403 and one admin
// audit record (result unauthorized, the caller's method and address); a
// missing one is 400 and records nothing.
func TestWrongOldPasswordAudited(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		f.user("erin", false)
		var me map[string]any
		f.do("erin", "GET", "/api/v2.0/users/current", nil).json(t, &me)
		path := fmt.Sprintf("/api/v2.0/users/%v/password", me["user_id"])
		want(t, f.do("erin", "PUT", path, map[string]string{"old_password": "Wrong-pass-1", "new_password": "Erin-new-pass-2"}), 403, "wrong old password")
		want(t, f.do("erin", "PUT", path, map[string]string{"new_password": "Erin-new-pass-2"}), 400, "no old password")
		var trail []map[string]any
		f.do("root", "GET", "/api/authserver/v1/audit?kind=admin&user=erin", nil).json(t, &trail)
		if len(trail) != 1 || trail[0]["result"] != "unauthorized" || trail[0]["action"] != "user.password" ||
			trail[0]["method"] != "password" || trail[0]["client_ip"] != "127.0.0.1" {
			t.Errorf("erin's admin records %v; want one unauthorized user.password", trail)
		}
		want(t, f.do("erin", "GET", "/api/v2.0/users/current", nil), 200, "the password unchanged")
	})
}

// TestTextBoundsAPI: email and realname over 255 bytes, a robot
// description over 1 KiB: 400 with the bound, nothing written.
func TestTextBoundsAPI(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		f.user("erin", false)
		var me map[string]any
		f.do("erin", "GET", "/api/v2.0/users/current", nil).json(t, &me)
		robot := f.projectRobot("root", "team", "ci")
		long, longer := strings.Repeat("a", 256), strings.Repeat("d", 1025)
		perms := []any{map[string]any{"kind": "project", "namespace": "team", "access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}
		calls := []struct {
			name, user, method, path string
			body                     any
			why                      string
		}{
			{"user email", "root", "POST", "/api/v2.0/users", map[string]any{"username": "frank", "password": "Frank-pass-1", "email": long}, "email: at most 255 bytes"},
			{"user realname", "root", "POST", "/api/v2.0/users", map[string]any{"username": "frank", "password": "Frank-pass-1", "realname": long}, "real name: at most 255 bytes"},
			{"own email", "erin", "PUT", fmt.Sprintf("/api/v2.0/users/%v", me["user_id"]), map[string]any{"email": long}, "email: at most 255 bytes"},
			{"own realname", "erin", "PUT", fmt.Sprintf("/api/v2.0/users/%v", me["user_id"]), map[string]any{"realname": long}, "real name: at most 255 bytes"},
			{"robot create", "root", "POST", "/api/v2.0/robots", map[string]any{"name": "cd", "level": "project", "description": longer, "permissions": perms}, "description: at most 1024 bytes"},
			{"robot update", "root", "PUT", "/api/v2.0/robots/" + robot, map[string]any{"name": "robot$team+ci", "level": "project", "description": longer, "permissions": perms}, "description: at most 1024 bytes"},
		}
		for _, c := range calls {
			r := f.do(c.user, c.method, c.path, c.body)
			if r.status != 400 || r.errcode() != "BAD_REQUEST" || !strings.Contains(string(r.body), c.why) {
				t.Errorf("%s: %d %s, want 400 saying %q", c.name, r.status, r.body, c.why)
			}
		}
		if us, _ := f.st.ListUsers(t.Context()); len(us) != 2 {
			t.Errorf("users %d, want root and erin only", len(us))
		}
		if r, _ := f.st.GetRobot(t.Context(), "team+ci"); r.Description != "" {
			t.Errorf("description written: %.20q", r.Description)
		}
	})
}
