package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// follow reads every page of a listing by following Link rel="next" from
// path, as a client does, and returns the value of field of every row and
// the X-Total-Count of each page.
func follow(t *testing.T, f *fixture, user, path, field string) (rows []string, totals []string) {
	t.Helper()
	next := path
	for n := 0; next != ""; n++ {
		if n > 50 {
			t.Fatalf("%s: more than 50 pages", path)
		}
		r := f.do(user, "GET", next, nil)
		want(t, r, 200, "GET "+next)
		var page []map[string]any
		r.json(t, &page)
		for _, row := range page {
			rows = append(rows, fmt.Sprint(row[field]))
		}
		totals = append(totals, r.header.Get("X-Total-Count"))
		next = ""
		for _, l := range strings.Split(r.header.Get("Link"), ",") {
			if strings.Contains(l, `rel="next"`) {
				next = strings.Trim(strings.TrimSpace(strings.Split(l, ";")[0]), "<>")
			}
		}
	}
	return rows, totals
}

// id is the user_id of user.
func (f *fixture) id(user string) string {
	f.t.Helper()
	u, err := f.st.GetUser(f.t.Context(), user)
	if err != nil {
		f.t.Fatal(err)
	}
	return strconv.FormatInt(u.ID, 10)
}

// TestLists checks Harbor's list conventions, read in the database: q's
// four forms, sort, the filters each list takes as parameters, an unknown
// parameter or key refused, X-Total-Count of what the filters keep, and a
// Link that works when followed (prev and next).
func TestLists(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		for _, u := range []string{"alice", "bob", "carol", "dave", "eve", "al_x"} {
			f.user(u, false)
		}
		for _, u := range []string{"alice", "bob"} {
			want(t, f.do("root", "PUT", "/api/v2.0/users/"+f.id(u), map[string]any{"email": u + "@corp.example", "comment": "team " + u}), 200, "email "+u)
		}
		// A user's comment is kept and read back (Harbor's UserResp.comment).
		var alice map[string]any
		f.do("root", "GET", "/api/v2.0/users/"+f.id("alice"), nil).json(t, &alice)
		if alice["comment"] != "team alice" || alice["email"] != "alice@corp.example" {
			t.Errorf("alice = %v", alice)
		}
		r := f.do("root", "POST", "/api/v2.0/users", map[string]any{"username": "commented", "password": "Pw-commented-1", "comment": "made with one"})
		want(t, r, 201, "user with a comment")
		var made map[string]any
		f.do("root", "GET", r.header.Get("Location"), nil).json(t, &made)
		if made["comment"] != "made with one" {
			t.Errorf("created with a comment: %v", made)
		}
		want(t, f.do("root", "DELETE", r.header.Get("Location"), nil), 200, "delete commented")
		users := func(query string) []string {
			t.Helper()
			rows, _ := follow(t, f, "root", "/api/v2.0/users?"+query, "username")
			return rows
		}
		aliceID, daveID := f.id("alice"), f.id("dave")
		for _, tt := range []struct {
			name, query string
			want        []string
		}{
			{"q exact", "q=" + url.QueryEscape("username=alice"), []string{"alice"}},
			{"q fuzzy in any case", "q=" + url.QueryEscape("username=~AL"), []string{"al_x", "alice"}},
			{"q fuzzy underscore is literal", "q=" + url.QueryEscape("username=~_"), []string{"al_x"}},
			{"q range", "q=" + url.QueryEscape("user_id=["+aliceID+"~"+daveID+"]"), []string{"alice", "bob", "carol", "dave"}},
			{"q open range", "q=" + url.QueryEscape("user_id=["+daveID+"~]"), []string{"al_x", "dave", "eve"}},
			{"q set", "q=" + url.QueryEscape("username={eve bob nobody}"), []string{"bob", "eve"}},
			{"q two keys", "q=" + url.QueryEscape("username=~a,email=~corp"), []string{"alice"}},
			{"q key in another case", "q=" + url.QueryEscape("UserName=bob"), []string{"bob"}},
			{"username parameter", "username=ar", []string{"carol"}},
			{"email parameter", "email=CORP", []string{"alice", "bob"}},
			{"sort descending", "sort=-username&q=" + url.QueryEscape("username=~a"), []string{"dave", "carol", "alice", "al_x"}},
			{"sort two keys", "sort=-email,username&q=" + url.QueryEscape("username=~a"), []string{"alice", "al_x", "carol", "dave"}},
			{"sort by creation", "sort=-creation_time&page_size=2&q=" + url.QueryEscape("username={alice bob carol}"), []string{"carol", "bob", "alice"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if got := users(tt.query); !slices.Equal(got, tt.want) {
					t.Errorf("users?%s = %v, want %v", tt.query, got, tt.want)
				}
			})
		}

		// Paging: X-Total-Count is what the filters keep, every page;
		// Link names the next page until the last, and the previous one.
		rows, totals := follow(t, f, "root", "/api/v2.0/users?page_size=2&q="+url.QueryEscape("username=~a"), "username")
		if !slices.Equal(rows, []string{"al_x", "alice", "carol", "dave"}) || !slices.Equal(totals, []string{"4", "4"}) {
			t.Errorf("followed pages %v, totals %v", rows, totals)
		}
		r = f.do("root", "GET", "/api/v2.0/users?page=2&page_size=2&sort=username", nil)
		want(t, r, 200, "page 2")
		link := r.header.Get("Link")
		if !strings.Contains(link, `page=1&page_size=2&sort=username>; rel="prev"`) || !strings.Contains(link, `page=3&page_size=2&sort=username>; rel="next"`) ||
			!strings.HasPrefix(link, "</api/v2.0/users?") {
			t.Errorf("Link of page 2: %s", link)
		}
		prev := strings.Trim(strings.Split(link, ";")[0], "<>")
		var first []map[string]any
		f.do("root", "GET", prev, nil).json(t, &first)
		if len(first) != 2 || first[0]["username"] != "al_x" {
			t.Errorf("following prev: %v", first)
		}
		var past []map[string]any
		r = f.do("root", "GET", "/api/v2.0/users?page=9&page_size=2", nil)
		r.json(t, &past)
		if len(past) != 0 || r.header.Get("X-Total-Count") != "7" || strings.Contains(r.header.Get("Link"), "next") {
			t.Errorf("past the end: %v, X-Total-Count %s, Link %s", past, r.header.Get("X-Total-Count"), r.header.Get("Link"))
		}

		// Refused: unknown parameters, keys and sort keys, wrong types,
		// malformed forms.
		for _, path := range []string{
			"/api/v2.0/users?usrname=alice",
			"/api/v2.0/users?q=" + url.QueryEscape("password=x"),
			"/api/v2.0/users?q=" + url.QueryEscape("user_id=abc"),
			"/api/v2.0/users?q=" + url.QueryEscape("user_id=~1"),
			"/api/v2.0/users?q=" + url.QueryEscape("sysadmin_flag=[true~false]"),
			"/api/v2.0/users?q=" + url.QueryEscape("username=[~]"),
			"/api/v2.0/users?q=" + url.QueryEscape("username={}"),
			"/api/v2.0/users?q=" + url.QueryEscape("username"),
			"/api/v2.0/users?sort=password",
			"/api/v2.0/users?page=0",
			"/api/v2.0/users?page_size=101",
			"/api/v2.0/projects?public=maybe",
			"/api/v2.0/projects?q=" + url.QueryEscape("project_id=1 OR 1=1"),
			"/api/v2.0/robots?q=" + url.QueryEscape("Level=system,ProjectID=1"),
			"/api/v2.0/robots?q=" + url.QueryEscape("ProjectID=~1"),
			"/api/v2.0/users/current?page=1",
			"/api/v2.0/ping?x=1",
			"/api/authserver/v1/audit?limit=5&page_size=5",
		} {
			if r := f.do("root", "GET", path, nil); r.status != 400 || r.errcode() != "BAD_REQUEST" {
				t.Errorf("GET %s: %d %s, want 400", path, r.status, r.body)
			}
		}

		// Projects: owner (one query), name, public; alice sees hers and
		// the public ones only, with a total of what she sees.
		for _, p := range []struct {
			user, name string
			public     bool
		}{{"alice", "a-one", false}, {"alice", "a-two", true}, {"bob", "b-one", false}, {"bob", "b-pub", true}, {"root", "r-one", false}} {
			want(t, f.do(p.user, "POST", "/api/v2.0/projects", map[string]any{"project_name": p.name, "public": p.public,
				"metadata": map[string]string{"severity": "low"}}), 201, "create "+p.name)
		}
		projects := func(user, query string) ([]string, []string) {
			t.Helper()
			return follow(t, f, user, "/api/v2.0/projects?page_size=1&"+query, "name")
		}
		for _, tt := range []struct {
			user, query string
			want        []string
		}{
			{"root", "owner=bob", []string{"b-one", "b-pub"}},
			{"root", "q=" + url.QueryEscape("owner=alice"), []string{"a-one", "a-two"}},
			{"alice", "", []string{"a-one", "a-two", "b-pub"}},
			{"alice", "public=false", []string{"a-one"}},
			{"alice", "name=ONE", []string{"a-one"}},
			{"alice", "owner=bob", []string{"b-pub"}},
			{"", "", []string{"a-two", "b-pub"}},
			{"root", "sort=-name&q=" + url.QueryEscape("name={a-one b-one r-one}"), []string{"r-one", "b-one", "a-one"}},
			{"root", "with_detail=true&q=" + url.QueryEscape("public=true"), []string{"a-two", "b-pub"}},
		} {
			got, totals := projects(tt.user, tt.query)
			if !slices.Equal(got, tt.want) || totals[0] != fmt.Sprint(len(tt.want)) {
				t.Errorf("%s: projects?%s = %v (totals %v), want %v", tt.user, tt.query, got, totals, tt.want)
			}
		}
		var page []map[string]any
		f.do("alice", "GET", "/api/v2.0/projects?page_size=10", nil).json(t, &page)
		for _, p := range page {
			md, _ := p["metadata"].(map[string]any)
			if md["severity"] != "low" || md["public"] != fmt.Sprint(p["name"] != "a-one") || p["owner_name"] == "" {
				t.Errorf("project in a page: %v", p)
			}
		}

		// Members: entityname, paged; robots: Level and ProjectID.
		want(t, f.do("alice", "POST", "/api/v2.0/projects/a-one/members", map[string]any{"role_id": 2,
			"member_user": map[string]any{"username": "carol"}}, "X-Is-Resource-Name", "true"), 201, "member carol")
		want(t, f.do("alice", "POST", "/api/v2.0/projects/a-one/members", map[string]any{"role_id": 3,
			"member_user": map[string]any{"username": "al_x"}}, "X-Is-Resource-Name", "true"), 201, "member al_x")
		if got, totals := follow(t, f, "alice", "/api/v2.0/projects/a-one/members?page_size=1&entityname=A", "entity_name"); !slices.Equal(got,
			[]string{"al_x", "alice", "carol"}) || totals[0] != "3" {
			t.Errorf("members?entityname=A = %v %v", got, totals)
		}
		pid := func(name string) string {
			var p map[string]any
			f.do("root", "GET", "/api/v2.0/projects/"+name, nil, "X-Is-Resource-Name", "true").json(t, &p)
			return fmt.Sprint(p["project_id"])
		}
		for _, rb := range []struct{ user, name, level, project string }{
			{"alice", "ci", "project", "a-one"}, {"alice", "cd", "project", "a-one"}, {"bob", "ci", "project", "b-one"}, {"root", "scan", "system", "a-one"},
		} {
			want(t, f.do(rb.user, "POST", "/api/v2.0/robots", map[string]any{"name": rb.name, "level": rb.level,
				"permissions": []map[string]any{{"kind": "project", "namespace": rb.project,
					"access": []map[string]string{{"resource": "repository", "action": "pull"}}}}}), 201, "robot "+rb.name)
		}
		for _, tt := range []struct {
			user, q string
			want    []string
			status  int
		}{
			{"alice", "Level=project,ProjectID=" + pid("a-one"), []string{"robot$a-one+cd", "robot$a-one+ci"}, 200},
			{"alice", "Level=project,ProjectID=" + pid("a-one") + ",name=~CI", []string{"robot$a-one+ci"}, 200},
			{"alice", "Level=project,ProjectID=" + pid("a-one") + ",name=robot$a-one+cd", []string{"robot$a-one+cd"}, 200},
			{"alice", "Level=project,ProjectID=" + pid("b-one"), nil, 404},
			{"alice", "Level=system", nil, 403},
			{"root", "Level=system", []string{"robot$scan"}, 200},
			{"root", "Level=project", []string{"robot$a-one+cd", "robot$a-one+ci", "robot$b-one+ci"}, 200},
			{"root", "", []string{"robot$a-one+cd", "robot$a-one+ci", "robot$b-one+ci", "robot$scan"}, 200},
		} {
			path := "/api/v2.0/robots?page_size=1&q=" + url.QueryEscape(tt.q)
			if tt.status != 200 {
				if r := f.do(tt.user, "GET", path, nil); r.status != tt.status {
					t.Errorf("%s: robots?q=%s: %d %s, want %d", tt.user, tt.q, r.status, r.body, tt.status)
				}
				continue
			}
			if got, _ := follow(t, f, tt.user, path, "name"); !slices.Equal(got, tt.want) {
				t.Errorf("%s: robots?q=%s = %v, want %v", tt.user, tt.q, got, tt.want)
			}
		}
		if got, _ := follow(t, f, "alice", "/api/v2.0/projects/a-one/robots?page_size=1&sort=-name", "name"); !slices.Equal(got,
			[]string{"robot$a-one+ci", "robot$a-one+cd"}) {
			t.Errorf("a project's robots: %v", got)
		}

		// Users search (any user), groups by name and DN.
		if got, totals := follow(t, f, "bob", "/api/v2.0/users/search?page_size=1&username=AL", "username"); !slices.Equal(got,
			[]string{"al_x", "alice"}) || totals[0] != "2" {
			t.Errorf("users/search = %v %v", got, totals)
		}
		for _, g := range []map[string]any{{"group_name": "devs", "group_type": 0}, {"group_name": "ops", "group_type": 1, "ldap_group_dn": "CN=Ops,DC=example"}} {
			want(t, f.do("root", "POST", "/api/v2.0/usergroups", g), 201, "group")
		}
		if got, _ := follow(t, f, "root", "/api/v2.0/usergroups?ldap_group_dn=cn%3Dops%2Cdc%3Dexample", "group_name"); !slices.Equal(got, []string{"ops"}) {
			t.Errorf("usergroups?ldap_group_dn = %v", got)
		}
		if got, _ := follow(t, f, "root", "/api/v2.0/usergroups?group_name=EV", "group_name"); !slices.Equal(got, []string{"devs"}) {
			t.Errorf("usergroups?group_name = %v", got)
		}

		// The audit trail, paged newest first, followed to its end.
		got, totals := follow(t, f, "root", "/api/authserver/v1/audit?kind=admin&page_size=4&user=alice", "action")
		if len(got) != len(slices.DeleteFunc(slices.Clone(got), func(a string) bool { return a == "" })) || len(totals) < 2 ||
			totals[0] != fmt.Sprint(len(got)) || got[len(got)-1] != "project.create" {
			t.Errorf("audit pages: %v (totals %v)", got, totals)
		}
		r = f.do("root", "GET", "/api/authserver/v1/audit?kind=admin&user=alice&limit=2", nil)
		var two []map[string]any
		r.json(t, &two)
		if len(two) != 2 || !strings.Contains(r.header.Get("Link"), "page=2&page_size=2") {
			t.Errorf("audit?limit=2: %d records, Link %s", len(two), r.header.Get("Link"))
		}
	})
}
