package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// TestHarborFlow walks users, projects, members (by user and by LDAP
// group), a project robot whose secret gets a token with exactly its
// permissions, and paging, and checks the store (what the CLI and the token
// endpoint read) sees each change at once.
func TestHarborFlow(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		r := f.do("", "GET", "/api/v2.0/ping", nil)
		if r.status != 200 || string(r.body) != "Pong" {
			t.Fatalf("ping: %d %q", r.status, r.body)
		}
		var si map[string]any
		f.do("", "GET", "/api/v2.0/systeminfo", nil).json(t, &si)
		if si["auth_mode"] != "db_auth" || si["self_registration"] != false || !strings.Contains(si["harbor_version"].(string), "authserver") {
			t.Errorf("systeminfo %v", si)
		}

		// A sysadmin creates users; the Location names the new user.
		r = f.do("root", "POST", "/api/v2.0/users", map[string]any{"username": "alice", "email": "a@x", "realname": "Alice", "password": "Pw-alice-1"})
		want(t, r, 201, "create alice")
		f.pw["alice"] = "Pw-alice-1"
		var alice map[string]any
		f.do("root", "GET", r.header.Get("Location"), nil).json(t, &alice)
		if alice["username"] != "alice" || alice["realname"] != "Alice" || alice["sysadmin_flag"] != false {
			t.Errorf("alice = %v", alice)
		}
		for _, u := range []string{"bob", "carol", "dave"} {
			f.user(u, false)
		}
		// Paging: 5 users, 2 a page → 3 pages, then [].
		var seen []string
		for page := 1; ; page++ {
			r := f.do("root", "GET", fmt.Sprintf("/api/v2.0/users?page=%d&page_size=2", page), nil)
			want(t, r, 200, "list users")
			if r.header.Get("X-Total-Count") != "5" {
				t.Errorf("X-Total-Count %q", r.header.Get("X-Total-Count"))
			}
			var us []map[string]any
			r.json(t, &us)
			if len(us) == 0 {
				if page != 4 || strings.Contains(r.header.Get("Link"), `rel="next"`) {
					t.Errorf("empty page %d, Link %q", page, r.header.Get("Link"))
				}
				break
			}
			if page < 3 && !strings.Contains(r.header.Get("Link"), `rel="next"`) {
				t.Errorf("page %d: Link %q has no next", page, r.header.Get("Link"))
			}
			for _, u := range us {
				seen = append(seen, u["username"].(string))
			}
		}
		if !slices.Equal(seen, []string{"alice", "bob", "carol", "dave", "root"}) {
			t.Errorf("paged users %v", seen)
		}

		// Alice (no sysadmin) creates a project and becomes its projectAdmin.
		r = f.do("alice", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team", "metadata": map[string]string{"public": "false"}})
		want(t, r, 201, "create project")
		loc := r.header.Get("Location")
		id := loc[strings.LastIndexByte(loc, '/')+1:]
		var byID, byName map[string]any
		f.do("alice", "GET", "/api/v2.0/projects/"+id, nil).json(t, &byID)
		f.do("alice", "GET", "/api/v2.0/projects/team", nil, "X-Is-Resource-Name", "true").json(t, &byName)
		if byID["name"] != "team" || byName["project_id"] != byID["project_id"] || byID["current_user_role_id"] != float64(1) ||
			byID["owner_name"] != "alice" || byID["metadata"].(map[string]any)["public"] != "false" {
			t.Errorf("project by id %v, by name %v", byID, byName)
		}
		want(t, f.do("bob", "GET", "/api/v2.0/projects/team", nil), 404, "a private project for a non-member")
		want(t, f.do("", "HEAD", "/api/v2.0/projects?project_name=team", nil), 404, "HEAD anonymous")
		want(t, f.do("alice", "HEAD", "/api/v2.0/projects?project_name=team", nil), 200, "HEAD member")

		// Members: bob by name, carol by id, an LDAP group by DN (created).
		r = f.do("alice", "POST", "/api/v2.0/projects/"+id+"/members", map[string]any{"role_id": 2, "member_user": map[string]any{"username": "bob"}})
		want(t, r, 201, "member bob")
		if !strings.HasPrefix(r.header.Get("Location"), "/api/v2.0/projects/"+id+"/members/") {
			t.Errorf("member Location %q", r.header.Get("Location"))
		}
		var hits []map[string]any
		f.do("alice", "GET", "/api/v2.0/users/search?username=carol", nil).json(t, &hits)
		want(t, f.do("alice", "POST", "/api/v2.0/projects/"+id+"/members",
			map[string]any{"role_id": 3, "member_user": map[string]any{"user_id": hits[0]["user_id"]}}), 201, "member carol")
		// A group unknown to authserver (and no directory to ask): only a
		// sysadmin may make it up on the way.
		devs := map[string]any{"role_id": 4,
			"member_group": map[string]any{"group_name": "devs", "group_type": 1, "ldap_group_dn": "cn=devs,ou=groups,dc=x"}}
		want(t, f.do("alice", "POST", "/api/v2.0/projects/"+id+"/members", devs), 403, "member group made up by a projectAdmin")
		want(t, f.do("root", "POST", "/api/v2.0/projects/"+id+"/members", devs), 201, "member group")
		var ms []map[string]any
		f.do("bob", "GET", "/api/v2.0/projects/"+id+"/members", nil).json(t, &ms)
		got := map[string]string{}
		for _, m := range ms {
			got[m["entity_name"].(string)] = fmt.Sprintf("%s/%v/%s", m["entity_type"], m["role_id"], m["role_name"])
		}
		wantMembers := map[string]string{"alice": "u/1/projectAdmin", "bob": "u/2/developer", "carol": "u/3/guest", "devs": "g/4/maintainer"}
		if fmt.Sprint(got) != fmt.Sprint(wantMembers) {
			t.Errorf("members %v, want %v", got, wantMembers)
		}
		if g, err := f.st.GetGroup(t.Context(), "cn=devs,ou=groups,dc=x"); err != nil || g.Name != "devs" {
			t.Errorf("LDAP group in the store: %+v, %v", g, err)
		}

		// A project robot: its secret gets exactly pull,push at the token endpoint.
		r = f.do("alice", "POST", "/api/v2.0/robots", map[string]any{"name": "ci", "level": "project", "duration": -1,
			"permissions": []any{map[string]any{"kind": "project", "namespace": "team",
				"access": []any{map[string]string{"resource": "repository", "action": "pull"}, map[string]string{"resource": "repository", "action": "push"}}}}})
		want(t, r, 201, "create robot")
		var robot map[string]any
		r.json(t, &robot)
		if robot["name"] != "robot$team+ci" || robot["secret"] == "" || robot["expires_at"] != float64(-1) {
			t.Errorf("robot created %v", robot)
		}
		tr := f.doPw("robot$team+ci", robot["secret"].(string), "GET", "/service/token?service=test-registry&scope=repository:team/app:pull,push,delete", nil)
		want(t, tr, 200, "robot token")
		var tok map[string]any
		tr.json(t, &tok)
		access := fmt.Sprint(claims(t, tok["token"].(string))["access"])
		if access != "[map[actions:[pull push] name:team/app type:repository]]" {
			t.Errorf("robot token access %s", access)
		}
		// Robots may not use the API.
		want(t, f.doPw("robot$team+ci", robot["secret"].(string), "GET", "/api/v2.0/users/current", nil), 403, "robot on the API")
		// Listing by Harbor's query.
		var rs []map[string]any
		f.do("alice", "GET", "/api/v2.0/robots?q=Level=project,ProjectID="+id, nil).json(t, &rs)
		if len(rs) != 1 || rs[0]["name"] != "robot$team+ci" {
			t.Errorf("robots %v", rs)
		}
		perm := rs[0]["permissions"].([]any)[0].(map[string]any)
		if perm["namespace"] != "team" {
			t.Errorf("robot permissions %v", perm)
		}
		// A new secret: the old one stops working at once.
		var sec map[string]string
		f.do("alice", "PATCH", fmt.Sprintf("/api/v2.0/robots/%v", robot["id"]), map[string]string{"secret": ""}).json(t, &sec)
		want(t, f.doPw("robot$team+ci", robot["secret"].(string), "GET", "/service/token?service=test-registry", nil), 401, "old secret")
		want(t, f.doPw("robot$team+ci", sec["secret"], "GET", "/service/token?service=test-registry", nil), 200, "new secret")

		// Every change is in the admin audit trail, with its actor.
		recs, err := f.st.ListAudit(t.Context(), store.AuditFilter{Kind: store.AuditKindAdmin, Subject: "alice", Limit: 100})
		if err != nil || len(recs) < 5 {
			t.Fatalf("alice's admin records: %d, %v", len(recs), err)
		}
		if recs[0].Action != "robot.secret" || recs[0].ClientIP != "127.0.0.1" {
			t.Errorf("newest record %+v", recs[0])
		}
		var trail []map[string]any
		want(t, f.do("alice", "GET", "/api/authserver/v1/audit?kind=admin", nil), 403, "audit for a non-admin")
		for _, q := range []string{"kind=tokens", "result=ok", "since=yesterday", "limit=0"} {
			if r := f.do("root", "GET", "/api/authserver/v1/audit?"+q, nil); r.status != 400 || r.errcode() == "" {
				t.Errorf("audit?%s: %d %s, want 400 with an errcode body", q, r.status, r.body)
			}
		}
		f.do("root", "GET", "/api/authserver/v1/audit?kind=admin&user=alice", nil).json(t, &trail)
		if len(trail) != len(recs) {
			t.Errorf("audit via API: %d records, want %d", len(trail), len(recs))
		}
	})
}

// TestTerraformPattern replays terraform-provider-harbor's requests: create
// → 201 Location → GET it (the Location without /api and /v2.0 is the
// resource id) → PUT → list page by page until an empty page →
// /configurations → delete.
func TestTerraformPattern(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		base := "/api/v2.0"
		for i := range 12 {
			want(t, f.do("root", "POST", base+"/projects", map[string]any{"project_name": fmt.Sprintf("p%02d", i)}), 201, "create")
		}
		r := f.do("root", "POST", base+"/projects", map[string]any{"project_name": "tf", "public": false,
			"metadata": map[string]string{"public": "false", "auto_scan": "true"}, "storage_limit": -1})
		want(t, r, 201, "create tf")
		id := strings.TrimPrefix(strings.TrimPrefix(r.header.Get("Location"), "/api"), "/v2.0")
		if !strings.HasPrefix(id, "/projects/") {
			t.Fatalf("Location %q", r.header.Get("Location"))
		}
		want(t, f.do("root", "GET", base+id, nil), 200, "read")
		want(t, f.do("root", "PUT", base+id, map[string]any{"metadata": map[string]string{"public": "true"}}), 200, "update")
		var p map[string]any
		f.do("root", "GET", base+id, nil).json(t, &p)
		if p["metadata"].(map[string]any)["public"] != "true" {
			t.Errorf("after PUT: %v", p)
		}
		n := 0
		for page := 1; page < 100; page++ {
			var ps []map[string]any
			f.do("root", "GET", fmt.Sprintf("%s/projects?page=%d&page_size=5", base, page), nil).json(t, &ps)
			if len(ps) == 0 {
				break
			}
			n += len(ps)
		}
		if n != 13 {
			t.Errorf("listed %d projects, want 13", n)
		}
		var cfg map[string]map[string]any
		f.do("root", "GET", base+"/configurations", nil).json(t, &cfg)
		if cfg["robot_name_prefix"]["value"] != "robot$" || cfg["robot_name_prefix"]["editable"] != false {
			t.Errorf("configurations %v", cfg)
		}
		// A system robot on every project, as terraform's harbor_robot_account.
		r = f.do("root", "POST", base+"/robots", map[string]any{"name": "sys", "level": "system", "duration": 30,
			"permissions": []any{map[string]any{"kind": "project", "namespace": "*", "access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}})
		want(t, r, 201, "system robot")
		rid := strings.TrimPrefix(strings.TrimPrefix(r.header.Get("Location"), "/api"), "/v2.0")
		var rb map[string]any
		f.do("root", "GET", base+rid, nil).json(t, &rb)
		if rb["level"] != "system" || rb["duration"] != float64(30) || rb["name"] != "robot$sys" {
			t.Errorf("system robot %v", rb)
		}
		rb["description"] = "changed"
		want(t, f.do("root", "PUT", base+rid, rb), 200, "robot PUT of what was read")
		want(t, f.do("root", "DELETE", base+rid, nil), 200, "delete robot")
		want(t, f.do("root", "DELETE", base+id, nil), 200, "delete")
		want(t, f.do("root", "GET", base+id, nil), 404, "read deleted")
		if _, err := f.st.GetProject(t.Context(), "tf"); err == nil {
			t.Error("the store still has project tf")
		}
	})
}

// TestPermissionMatrix: each role × each operation → the status.
func TestPermissionMatrix(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		for _, u := range []string{"padmin", "maintainer", "developer", "guest", "outsider"} {
			f.user(u, false)
		}
		for _, role := range []string{"sysadmin", "projectAdmin", "maintainer", "developer", "guest", "non-member", "anonymous", "robot"} {
			f.user("new-"+strings.ToLower(role), false)
		}
		want(t, f.do("padmin", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"}), 201, "team")
		for u, role := range map[string]int{"maintainer": 4, "developer": 2, "guest": 3} {
			want(t, f.do("padmin", "POST", "/api/v2.0/projects/team/members", map[string]any{"role_id": role,
				"member_user": map[string]any{"username": u}}, "X-Is-Resource-Name", "true"), 201, "member "+u)
		}
		r := f.do("padmin", "POST", "/api/v2.0/robots", map[string]any{"name": "bot", "level": "project",
			"permissions": []any{map[string]any{"kind": "project", "namespace": "team", "access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}})
		want(t, r, 201, "robot")
		var bot map[string]any
		r.json(t, &bot)
		f.pw["robot$team+bot"] = bot["secret"].(string)
		p, err := f.st.GetProject(ctx, "team")
		if err != nil {
			t.Fatal(err)
		}
		pid := strconv.FormatInt(p.ID, 10)
		type op struct {
			name, method, path string
			body               func(role string) any
		}
		robotBody := func(role string) any {
			return map[string]any{"name": "r-" + role, "level": "project", "permissions": []any{map[string]any{"kind": "project",
				"namespace": "team", "access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}}
		}
		ops := []op{
			{"get project", "GET", "/api/v2.0/projects/" + pid, nil},
			{"list members", "GET", "/api/v2.0/projects/" + pid + "/members", nil},
			{"add member", "POST", "/api/v2.0/projects/" + pid + "/members", func(role string) any {
				return map[string]any{"role_id": 3, "member_user": map[string]any{"username": "new-" + strings.ToLower(role)}}
			}},
			{"update project", "PUT", "/api/v2.0/projects/" + pid, func(string) any { return map[string]any{"metadata": map[string]string{"public": "false"}} }},
			{"create robot", "POST", "/api/v2.0/robots", robotBody},
			{"list users", "GET", "/api/v2.0/users", nil},
			{"create group", "POST", "/api/v2.0/usergroups", func(role string) any { return map[string]any{"group_name": "g-" + role, "group_type": 0} }},
			{"configurations", "GET", "/api/v2.0/configurations", nil},
			{"create project", "POST", "/api/v2.0/projects", func(role string) any { return map[string]any{"project_name": "p-" + strings.ToLower(role)} }},
			{"systeminfo", "GET", "/api/v2.0/systeminfo", nil},
		}
		member := []int{200, 200, 403, 403, 403, 403, 403, 403, 201, 200}
		robot := []int{403, 403, 403, 403, 403, 403, 403, 403, 403, 403}
		matrix := []struct {
			role, user string
			want       []int
		}{
			{"sysadmin", "root", []int{200, 200, 201, 200, 201, 200, 201, 200, 201, 200}},
			{"projectAdmin", "padmin", []int{200, 200, 201, 200, 201, 403, 403, 403, 201, 200}},
			{"maintainer", "maintainer", member},
			{"developer", "developer", member},
			{"guest", "guest", member},
			{"non-member", "outsider", []int{404, 404, 404, 404, 404, 403, 403, 403, 201, 200}},
			{"anonymous", "", []int{404, 401, 401, 401, 401, 401, 401, 401, 401, 200}},
			{"robot", "robot$team+bot", robot},
		}
		for _, row := range matrix {
			for i, o := range ops {
				t.Run(row.role+"/"+o.name, func(t *testing.T) {
					var body any
					if o.body != nil {
						body = o.body(row.role)
					}
					r := f.do(row.user, o.method, o.path, body)
					if r.status != row.want[i] {
						t.Errorf("status %d, want %d; body %s", r.status, row.want[i], r.body)
					}
					if r.status >= 400 && r.errcode() == "" {
						t.Errorf("no errcode body: %s", r.body)
					}
				})
			}
		}
	})
}

// TestBadInput: 400 with the errcode body, and nothing written.
func TestBadInput(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		want(t, f.do("root", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"}), 201, "team")
		huge := `{"project_name":"` + strings.Repeat("a", 1<<20) + `"}`
		robot := func(action string) any {
			return map[string]any{"name": "x", "level": "project", "permissions": []any{map[string]any{"kind": "project",
				"namespace": "team", "access": []any{map[string]string{"resource": "repository", "action": action}}}}}
		}
		tests := []struct {
			name, method, path string
			body               any
			status             int
			contentType        string
		}{
			{"not JSON", "POST", "/api/v2.0/projects", `project_name=x0`, 415, "application/x-www-form-urlencoded"},
			{"malformed JSON", "POST", "/api/v2.0/projects", `{"project_name":`, 400, ""},
			{"unknown field", "POST", "/api/v2.0/projects", `{"project_name":"x1","colour":"red"}`, 400, ""},
			{"wrong type", "POST", "/api/v2.0/projects", `{"project_name":7}`, 400, ""},
			{"trailing data", "POST", "/api/v2.0/projects", `{"project_name":"x2"} {}`, 400, ""},
			{"name the CLI refuses", "POST", "/api/v2.0/projects", map[string]any{"project_name": "Bad..Name"}, 400, ""},
			{"user name with space", "POST", "/api/v2.0/users", map[string]any{"username": "a b", "password": "Pw-x-123"}, 400, ""},
			{"user with robot prefix", "POST", "/api/v2.0/users", map[string]any{"username": "robot$x", "password": "Pw-x-123"}, 400, ""},
			{"metadata.public not a bool", "POST", "/api/v2.0/projects", map[string]any{"project_name": "x3", "metadata": map[string]string{"public": "yes"}}, 400, ""},
			{"huge body", "POST", "/api/v2.0/projects", huge, 413, ""},
			{"unknown role id", "POST", "/api/v2.0/projects/team/members", map[string]any{"role_id": 9, "member_user": map[string]any{"username": "root"}}, 400, ""},
			{"robot access without a resource", "POST", "/api/v2.0/robots", robot(""), 400, ""},
			{"robot access effect", "POST", "/api/v2.0/robots", map[string]any{"name": "x", "level": "project", "permissions": []any{map[string]any{"kind": "project",
				"namespace": "team", "access": []any{map[string]string{"resource": "helm-chart", "action": "read", "effect": "maybe"}}}}}, 400, ""},
			{"project metadata Harbor lacks", "POST", "/api/v2.0/projects", map[string]any{"project_name": "x4", "metadata": map[string]string{"colour": "red"}}, 400, ""},
			{"system robot naming a project twice", "POST", "/api/v2.0/robots", map[string]any{"name": "s", "level": "system", "permissions": []any{
				map[string]any{"kind": "project", "namespace": "team", "access": []any{map[string]string{"resource": "repository", "action": "pull"}}},
				map[string]any{"kind": "project", "namespace": "team", "access": []any{map[string]string{"resource": "repository", "action": "push"}}}}}, 400, ""},
			{"project robot on two projects", "POST", "/api/v2.0/robots", map[string]any{"name": "p", "level": "project", "permissions": []any{
				map[string]any{"kind": "project", "namespace": "team", "access": []any{map[string]string{"resource": "repository", "action": "pull"}}},
				map[string]any{"kind": "project", "namespace": "*", "access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}}, 400, ""},
			{"system robot without permissions", "POST", "/api/v2.0/robots", map[string]any{"name": "e", "level": "system", "permissions": []any{}}, 400, ""},
			{"bad page", "GET", "/api/v2.0/projects?page=0", nil, 400, ""},
			{"page_size over 100", "GET", "/api/v2.0/projects?page_size=101", nil, 400, ""},
			{"bad id", "GET", "/api/v2.0/users/abc", nil, 400, ""},
			{"long query", "GET", "/api/v2.0/projects?name=" + strings.Repeat("a", 300), nil, 400, ""},
			{"weak robot secret", "POST", "/api/v2.0/robots", map[string]any{"name": "y", "level": "project", "secret": "short",
				"permissions": []any{map[string]any{"kind": "project", "namespace": "team", "access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}}, 400, ""},
			{"not Harbor's access API", "GET", "/api/v2.0/projects/team/webhook/policies", nil, 404, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				hdr := []string{"X-Is-Resource-Name", "true"}
				if tt.contentType != "" {
					hdr = append(hdr, "Content-Type", tt.contentType)
				}
				r := f.do("root", tt.method, tt.path, tt.body, hdr...)
				if r.status != tt.status || r.errcode() == "" {
					t.Errorf("status %d (want %d), body %.200s", r.status, tt.status, r.body)
				}
			})
		}
		ps, _ := f.st.ListProjects(t.Context())
		us, _ := f.st.ListUsers(t.Context())
		rs, _ := f.st.ListRobots(t.Context(), "")
		ms, _ := f.st.ListMembers(t.Context(), "team")
		if len(ps) != 1 || len(us) != 1 || len(rs) != 0 || len(ms) != 1 { // root, team's creator
			t.Errorf("bad input wrote something: projects %v, users %d, robots %d, members %v", ps, len(us), len(rs), ms)
		}
	})
}

// TestAuthentication: 401 with a Basic challenge, the shared throttle, and
// personal access tokens in place of the password.
func TestAuthentication(t *testing.T) {
	f := newFixture(t, sqlitetest.Open(t))
	r := f.do("", "GET", "/api/v2.0/users/current", nil)
	if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") || r.errcode() != "UNAUTHORIZED" {
		t.Fatalf("anonymous: %d %v %s", r.status, r.header, r.body)
	}
	for range 5 {
		want(t, f.doPw("root", "wrong", "GET", "/api/v2.0/users/current", nil), 401, "wrong password")
	}
	// The throttle is shared: the token endpoint refuses too now.
	want(t, f.doPw("root", "wrong", "GET", "/service/token?service=test-registry", nil), 429, "token after API failures")

	f.user("erin", false)
	r = f.do("erin", "POST", "/api/authserver/v1/users/current/tokens", map[string]any{"name": "laptop"})
	want(t, r, 201, "PAT")
	var pat map[string]any
	r.json(t, &pat)
	var me map[string]any
	f.doPw("erin", pat["secret"].(string), "GET", "/api/v2.0/users/current", nil).json(t, &me)
	if me["username"] != "erin" {
		t.Errorf("current user with a PAT: %v", me)
	}
	// Own password: the old one is needed.
	uid := fmt.Sprint(me["user_id"])
	want(t, f.do("erin", "PUT", "/api/v2.0/users/"+uid+"/password", map[string]string{"old_password": "nope", "new_password": "Pw-new-1"}), 403, "wrong old")
	want(t, f.do("erin", "PUT", "/api/v2.0/users/"+uid+"/password", map[string]string{"old_password": f.pw["erin"], "new_password": "Pw-new-1"}), 200, "own password")
	want(t, f.doPw("erin", "Pw-new-1", "GET", "/service/token?service=test-registry", nil), 200, "new password at the token endpoint")
}

// TestOpenAPI: /api/openapi.json lists exactly the router's endpoints.
func TestOpenAPI(t *testing.T) {
	f := newFixture(t, sqlitetest.Open(t))
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	f.do("", "GET", "/api/openapi.json", nil).json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var documented, routed []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	err := chi.Walk(f.api.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed = append(routed, method+" /api"+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(documented)
	slices.Sort(routed)
	if !slices.Equal(documented, routed) {
		t.Errorf("documented %v\nrouted %v", documented, routed)
	}
	// What a client generator needs of each operation: an operationId, a
	// body schema for every change that takes one, a schema of the
	// success answer of every read, the error schema for the rest.
	var ops struct {
		Paths map[string]map[string]struct {
			OperationID string                    `json:"operationId"`
			RequestBody map[string]any            `json:"requestBody"`
			Responses   map[string]map[string]any `json:"responses"`
			Parameters  []map[string]any          `json:"parameters"`
		} `json:"paths"`
	}
	f.do("", "GET", "/api/openapi.json", nil).json(t, &ops)
	for p, byMethod := range ops.Paths {
		for m, op := range byMethod {
			what := strings.ToUpper(m) + " " + p
			if op.OperationID == "" || op.Responses["default"]["content"] == nil {
				t.Errorf("%s: operationId %q, default response %v", what, op.OperationID, op.Responses["default"])
			}
			if (m == "post" || m == "put" || m == "patch") && op.RequestBody == nil {
				t.Errorf("%s: no request body schema", what)
			}
			if m == "get" && op.Responses["200"]["content"] == nil {
				t.Errorf("%s: no schema of its answer", what)
			}
			for _, name := range pathParam(p) {
				if !slices.ContainsFunc(op.Parameters, func(prm map[string]any) bool { return prm["name"] == name && prm["in"] == "path" }) {
					t.Errorf("%s: path parameter %s undescribed", what, name)
				}
			}
		}
	}
}

// pathParam are the {names} of path.
func pathParam(path string) []string {
	var out []string
	for _, part := range strings.Split(path, "/") {
		if strings.HasPrefix(part, "{") {
			out = append(out, strings.Trim(part, "{}"))
		}
	}
	return out
}
