package api_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestTerraformReplay replays terraform-provider-harbor v3.12.4 with the
// request bodies it sends, byte for byte as its encoding/json writes its
// models (client.UserBody, ProjectBody, ProjectMembersUserBody, RobotBody):
// create → read → update → read of a user, a project, a member and a robot
// with access entries other than repository pull/push, reading back what
// the provider's Read compares with its configuration (no drift), then its
// data sources' paging (page=N until []), q filters, Link followed, and
// force_destroy (GET /projects/{name}/repositories, then DELETE).
func TestTerraformReplay(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		base := "/api/v2.0"
		// id is the resource id the provider keeps: Location without /api and /v2.0.
		id := func(r resp) string {
			t.Helper()
			loc := r.header.Get("Location")
			out := strings.TrimPrefix(strings.TrimPrefix(loc, "/api"), "/v2.0")
			if out == loc || out == "" {
				t.Fatalf("Location %q", loc)
			}
			return out
		}
		read := func(path string, v any) {
			t.Helper()
			r := f.do("root", "GET", base+path, nil)
			want(t, r, 200, "read "+path)
			r.json(t, v)
		}

		// harbor_user: create, read, update (full_name, admin), read.
		r := f.do("root", "POST", base+"/users", `{"username":"tf-user","password":"Tf-pass-1","realname":"TF User","email":"tf@example.org","new_password":"Tf-pass-1"}`)
		want(t, r, 201, "user create")
		user := id(r)
		var u map[string]any
		read(user, &u)
		if u["username"] != "tf-user" || u["realname"] != "TF User" || u["email"] != "tf@example.org" || u["sysadmin_flag"] != false || u["comment"] != "" {
			t.Errorf("user read: %v", u)
		}
		upd := `{"username":"tf-user","password":"Tf-pass-1","realname":"TF User 2","sysadmin_flag":true,"email":"tf@example.org","new_password":"Tf-pass-1"}`
		want(t, f.do("root", "PUT", base+user, upd), 200, "user update")
		want(t, f.do("root", "PUT", base+user+"/sysadmin", upd), 200, "user sysadmin")
		read(user, &u)
		if u["realname"] != "TF User 2" || u["sysadmin_flag"] != true {
			t.Errorf("user after update: %v", u)
		}
		// admin = false: the provider leaves sysadmin_flag out (omitempty).
		demote := `{"username":"tf-user","password":"Tf-pass-2","realname":"TF User 2","email":"tf@example.org","new_password":"Tf-pass-2"}`
		want(t, f.do("root", "PUT", base+user, demote), 200, "user update 2")
		want(t, f.do("root", "PUT", base+user+"/sysadmin", demote), 200, "user sysadmin false")
		want(t, f.do("root", "PUT", base+user+"/password", demote), 200, "user password")
		read(user, &u)
		if u["sysadmin_flag"] != false {
			t.Errorf("user after sysadmin_flag left out: %v", u)
		}
		want(t, f.doPw("tf-user", "Tf-pass-2", "GET", "/service/token?service=test-registry", nil), 200, "the new password")

		// harbor_project (vulnerability_scanning default true, no
		// deployment_security, storage_quota -1).
		meta := func(public string) string {
			return `{"enable_content_trust":"false","enable_content_trust_cosign":"false","auto_scan":"true","severity":"low",` +
				`"reuse_sys_cve_allowlist":"true","public":"` + public + `","prevent_vul":"false","auto_sbom_generation":"false",` +
				`"proxy_speed_kb":"-1","proxy_cache_local_on_not_found":"false"}`
		}
		r = f.do("root", "POST", base+"/projects", `{"project_name":"tf","cve_allowlist":{},"storage_limit":-1,"metadata":`+meta("false")+`}`)
		want(t, r, 201, "project create")
		project := id(r)
		wantMeta := func(public string) {
			t.Helper()
			var p struct {
				Name     string            `json:"name"`
				Metadata map[string]string `json:"metadata"`
			}
			read(project, &p)
			var sent map[string]string
			if err := json.Unmarshal([]byte(meta(public)), &sent); err != nil {
				t.Fatal(err)
			}
			if p.Name != "tf" || !reflect.DeepEqual(p.Metadata, sent) {
				t.Errorf("project read: %+v, want metadata %v", p, sent)
			}
		}
		wantMeta("false")
		want(t, f.do("root", "PUT", base+project, `{"project_name":"tf","cve_allowlist":{},"storage_limit":-1,"metadata":`+meta("true")+`}`), 200, "project update")
		wantMeta("true")
		var cfg map[string]any
		read("/configurations", &cfg) // the provider's storage quota check

		// harbor_project_member_user: member_group is always {}.
		r = f.do("root", "POST", base+project+"/members", `{"role_id":2,"member_group":{},"member_user":{"username":"tf-user"}}`)
		want(t, r, 201, "member create")
		member := id(r)
		var m map[string]any
		read(member, &m)
		if m["role_id"] != float64(2) || m["entity_name"] != "tf-user" || fmt.Sprintf("/projects/%v", m["project_id"]) != project {
			t.Errorf("member read: %v", m)
		}
		want(t, f.do("root", "PUT", base+member, `{"role_id":4,"member_group":{},"member_user":{"username":"tf-user"}}`), 200, "member update")
		read(member, &m)
		if m["role_id"] != float64(4) {
			t.Errorf("member after a role change: %v", m)
		}

		// harbor_robot_account with access entries beside pull: kept and
		// read back, granting pull only at the token endpoint.
		access := `[{"action":"pull","resource":"repository"},{"action":"read","resource":"artifact"},{"action":"create","resource":"tag"},{"action":"list","resource":"repository"}]`
		r = f.do("root", "POST", base+"/robots", `{"name":"tf-bot","level":"project","duration":-1,"permissions":[{"access":`+access+`,"kind":"project","namespace":"tf"}]}`)
		want(t, r, 201, "robot create")
		robot := id(r)
		var created struct{ Secret string }
		r.json(t, &created)
		type accessEntry struct{ Action, Resource, Effect string }
		var rb struct {
			Name        string
			Description string
			Duration    int64
			Permissions []struct {
				Kind, Namespace string
				Access          []accessEntry
			}
		}
		wantRobot := func(desc string) {
			t.Helper()
			read(robot, &rb)
			var sent []accessEntry
			if err := json.Unmarshal([]byte(access), &sent); err != nil {
				t.Fatal(err)
			}
			cmp := func(a, b accessEntry) int { return strings.Compare(a.Resource+a.Action, b.Resource+b.Action) }
			if len(rb.Permissions) != 1 {
				t.Fatalf("robot read: %+v", rb)
			}
			got := rb.Permissions[0].Access
			slices.SortFunc(got, cmp)
			slices.SortFunc(sent, cmp)
			if rb.Name != "robot$tf+tf-bot" || rb.Description != desc || rb.Duration != -1 || rb.Permissions[0].Namespace != "tf" ||
				rb.Permissions[0].Kind != "project" || !reflect.DeepEqual(got, sent) {
				t.Errorf("robot read: %+v, want access %v", rb, sent)
			}
		}
		wantRobot("")
		want(t, f.do("root", "PUT", base+robot, `{"name":"robot$tf+tf-bot","level":"project","description":"terraform","duration":-1,"permissions":[{"access":`+access+`,"kind":"project","namespace":"tf"}]}`), 200, "robot update")
		wantRobot("terraform")
		tr := f.doPw("robot$tf+tf-bot", created.Secret, "GET", "/service/token?service=test-registry&scope=repository:tf/app:pull,push,delete", nil)
		want(t, tr, 200, "robot token")
		var tok map[string]any
		tr.json(t, &tok)
		if access := fmt.Sprint(claims(t, tok["token"].(string))["access"]); access != "[map[actions:[pull] name:tf/app type:repository]]" {
			t.Errorf("robot token access %s: other entries grant nothing", access)
		}

		// Data sources: page=N until an empty page; the users one filters
		// with q=username=NAME; a Link rel="next" works when followed.
		for i := range 3 {
			f.user(fmt.Sprintf("tf-more%d", i), false)
		}
		var hits []map[string]any
		read("/users?page=1&q=username=tf-user", &hits)
		if len(hits) != 1 || hits[0]["username"] != "tf-user" {
			t.Errorf("users?q=username=tf-user: %v", hits)
		}
		var names []string
		next := base + "/users?page_size=2"
		for n := 0; next != "" && n < 10; n++ {
			r := f.do("root", "GET", next, nil)
			want(t, r, 200, "follow "+next)
			var page []map[string]any
			r.json(t, &page)
			for _, u := range page {
				names = append(names, u["username"].(string))
			}
			next = ""
			for _, l := range strings.Split(r.header.Get("Link"), ",") {
				if strings.Contains(l, `rel="next"`) {
					next = strings.Trim(strings.TrimSpace(strings.Split(l, ";")[0]), "<>")
				}
			}
		}
		if strings.Join(names, ",") != "root,tf-more0,tf-more1,tf-more2,tf-user" {
			t.Errorf("users by following Link: %v", names)
		}

		// force_destroy: no repositories (no registry.url), then delete.
		var repos []any
		read("/projects/tf/repositories?page=1&page_size=100", &repos)
		if len(repos) != 0 {
			t.Errorf("repositories %v", repos)
		}
		want(t, f.do("root", "DELETE", base+robot, nil), 200, "robot delete")
		want(t, f.do("root", "DELETE", base+member, nil), 200, "member delete")
		want(t, f.do("root", "DELETE", base+project, nil), 200, "project delete")
		want(t, f.do("root", "DELETE", base+user, nil), 200, "user delete")
		// Without registry.url the name stays reserved: only a sysadmin
		// may create it again (its images may still be in the registry).
		f.user("late", false)
		if r := f.do("late", "POST", base+"/projects", map[string]any{"project_name": "tf"}); r.status != 409 {
			t.Errorf("a user re-creating a deleted project's name: %d %s, want 409", r.status, r.body)
		}
		want(t, f.do("root", "POST", base+"/projects", map[string]any{"project_name": "tf"}), 201, "a sysadmin re-creates it")
	})
}
