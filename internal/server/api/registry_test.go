package api_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/registry"
)

// fakeRegistry holds repository names; down makes every call fail as a
// registry that cannot be reached.
type fakeRegistry struct {
	repos []string
	down  bool
}

func (r *fakeRegistry) Repositories(_ context.Context, project string) ([]string, error) {
	if r.down {
		return nil, fmt.Errorf("fake: %w", registry.ErrUnavailable)
	}
	var out []string
	for _, n := range r.repos {
		if strings.HasPrefix(n, project+"/") {
			out = append(out, n)
		}
	}
	return out, nil
}

func (r *fakeRegistry) DeleteRepository(_ context.Context, repo string) error {
	if r.down {
		return fmt.Errorf("fake: %w", registry.ErrUnavailable)
	}
	if !slices.Contains(r.repos, repo) {
		return fmt.Errorf("fake: %w", registry.ErrNotFound)
	}
	r.repos = slices.DeleteFunc(r.repos, func(n string) bool { return n == repo })
	return nil
}

// TestRepositoriesAPI: with a registry, a project's repositories are
// listed as Harbor's (paged, q on name, sort), deleting the project is 412
// PRECONDITION while they remain, a projectAdmin deletes them by the name
// Harbor's clients send (encoded twice), a registry that fails is 503, and
// the emptied project is deleted. (The real registries: e2e
// TestProjectRegistry.)
func TestRepositoriesAPI(t *testing.T) {
	reg := &fakeRegistry{repos: []string{"team/app", "team/db", "team/tools/lint", "other/app"}}
	f := newFixturePrefix(t, sqliteStore(t), "robot$", func(o *admin.Options) { o.Registry = reg })
	f.user("owner", false)
	f.user("reader", false)
	want(t, f.do("owner", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"}), 201, "project")
	want(t, f.do("owner", "POST", "/api/v2.0/projects/team/members", map[string]any{"role_id": 3, "member_user": map[string]any{"username": "reader"}},
		"X-Is-Resource-Name", "true"), 201, "reader")
	names := func(user, query string) ([]string, string) {
		t.Helper()
		rows, totals := follow(t, f, user, "/api/v2.0/projects/team/repositories?page_size=2&"+query, "name")
		return rows, totals[0]
	}
	for _, tt := range []struct {
		query, total string
		want         []string
	}{
		{"", "3", []string{"team/app", "team/db", "team/tools/lint"}},
		{"q=" + url.QueryEscape("name=~TOOLS"), "1", []string{"team/tools/lint"}},
		{"q=" + url.QueryEscape("name={team/db team/app}"), "2", []string{"team/app", "team/db"}},
		{"sort=-name", "3", []string{"team/tools/lint", "team/db", "team/app"}},
	} {
		if got, total := names("reader", tt.query); !slices.Equal(got, tt.want) || total != tt.total {
			t.Errorf("repositories?%s = %v (total %s), want %v (total %s)", tt.query, got, total, tt.want, tt.total)
		}
	}
	r := f.do("owner", "DELETE", "/api/v2.0/projects/team", nil, "X-Is-Resource-Name", "true")
	if r.status != 412 || r.errcode() != "PRECONDITION" || !strings.Contains(string(r.body), "team/app") {
		t.Errorf("delete a project with repositories: %d %s", r.status, r.body)
	}
	if r := f.do("reader", "DELETE", "/api/v2.0/projects/team/repositories/app", nil); r.status != 403 {
		t.Errorf("a guest deletes a repository: %d %s", r.status, r.body)
	}
	reg.down = true
	for _, path := range []string{"/api/v2.0/projects/team/repositories", "/api/v2.0/projects/team/repositories/app"} {
		method := map[bool]string{true: "GET", false: "DELETE"}[strings.HasSuffix(path, "repositories")]
		if r := f.do("owner", method, path, nil); r.status != 503 || r.errcode() != "UNAVAILABLE" {
			t.Errorf("%s %s with the registry down: %d %s, want 503", method, path, r.status, r.body)
		}
	}
	reg.down = false
	for _, name := range []string{"app", "team%2Fdb", url.PathEscape(url.PathEscape("tools/lint"))} {
		want(t, f.do("owner", "DELETE", "/api/v2.0/projects/team/repositories/"+name, nil), 200, "delete "+name)
	}
	if r := f.do("owner", "DELETE", "/api/v2.0/projects/team/repositories/app", nil); r.status != 404 {
		t.Errorf("delete a deleted repository: %d %s", r.status, r.body)
	}
	if !slices.Equal(reg.repos, []string{"other/app"}) {
		t.Errorf("registry after deletes: %v", reg.repos)
	}
	want(t, f.do("owner", "DELETE", "/api/v2.0/projects/team", nil, "X-Is-Resource-Name", "true"), 200, "delete the emptied project")
}

// TestGroupsAndOwnCredentialsAPI walks what the other API tests leave
// out: a group read, changed (no renames) and deleted by id, a group
// visible by id to a user who can read a project it is a member of and to
// nobody else, health, a user's own tokens, and explain.
func TestGroupsAndOwnCredentialsAPI(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		f.user("alice", false)
		f.user("outsider", false)
		r := f.do("root", "POST", "/api/v2.0/usergroups", map[string]any{"group_name": "devs", "group_type": 0})
		want(t, r, 201, "group")
		group := strings.TrimPrefix(r.header.Get("Location"), "/api")
		var g map[string]any
		f.do("root", "GET", "/api"+group, nil).json(t, &g)
		if g["group_name"] != "devs" || g["group_type"] != float64(0) {
			t.Errorf("group = %v", g)
		}
		want(t, f.do("root", "PUT", "/api"+group, map[string]any{"group_name": "devs", "group_type": 0}), 200, "group put")
		if r := f.do("root", "PUT", "/api"+group, map[string]any{"group_name": "ops"}); r.status != 400 {
			t.Errorf("group rename: %d %s", r.status, r.body)
		}
		for _, u := range []string{"alice", "outsider"} {
			if r := f.do(u, "GET", "/api"+group, nil); r.status != 404 {
				t.Errorf("%s reads a group of no project they see: %d %s", u, r.status, r.body)
			}
		}
		want(t, f.do("alice", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"}), 201, "project")
		// A sysadmin makes the group a member (alice, who is not in it,
		// may not name it by id).
		want(t, f.do("root", "POST", "/api/v2.0/projects/team/members", map[string]any{"role_id": 2,
			"member_group": map[string]any{"id": g["id"]}}, "X-Is-Resource-Name", "true"), 201, "group member")
		var seen map[string]any
		r = f.do("alice", "GET", "/api"+group, nil)
		want(t, r, 200, "alice reads a group of her project")
		r.json(t, &seen)
		if seen["group_name"] != "devs" {
			t.Errorf("alice sees %v", seen)
		}
		if r := f.do("outsider", "GET", "/api"+group, nil); r.status != 404 {
			t.Errorf("outsider reads a group of a private project: %d", r.status)
		}
		// What alice sees by id she may name by id.
		want(t, f.do("alice", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team2"}), 201, "project 2")
		want(t, f.do("alice", "POST", "/api/v2.0/projects/team2/members", map[string]any{"role_id": 3,
			"member_group": map[string]any{"id": g["id"]}}, "X-Is-Resource-Name", "true"), 201, "alice adds the group she sees")
		if r := f.do("outsider", "POST", "/api/v2.0/projects", map[string]any{"project_name": "mine"}); r.status != 201 {
			t.Fatalf("outsider's project: %d", r.status)
		}
		if r := f.do("outsider", "POST", "/api/v2.0/projects/mine/members", map[string]any{"role_id": 3,
			"member_group": map[string]any{"id": g["id"]}}, "X-Is-Resource-Name", "true"); r.status != 404 {
			t.Errorf("outsider names a group they cannot see: %d %s", r.status, r.body)
		}
		for _, u := range []string{"alice", "outsider"} {
			if r := f.do(u, "PUT", "/api"+group, map[string]any{"group_name": "devs"}); r.status != 403 && r.status != 404 {
				t.Errorf("%s changes a group: %d %s", u, r.status, r.body)
			}
			if r := f.do(u, "DELETE", "/api"+group, nil); r.status != 403 && r.status != 404 {
				t.Errorf("%s deletes a group: %d %s", u, r.status, r.body)
			}
		}
		want(t, f.do("root", "DELETE", "/api"+group, nil), 200, "group delete")

		var health map[string]any
		f.do("", "GET", "/api/v2.0/health", nil).json(t, &health)
		if health["status"] != "healthy" {
			t.Errorf("health %v", health)
		}
		want(t, f.do("alice", "POST", "/api/authserver/v1/users/current/tokens", map[string]any{"name": "ci", "duration_days": 30}), 201, "pat")
		var pats, rts []map[string]any
		f.do("alice", "GET", "/api/authserver/v1/users/current/tokens", nil).json(t, &pats)
		f.do("alice", "GET", "/api/authserver/v1/users/current/refresh_tokens", nil).json(t, &rts)
		if len(pats) != 1 || pats[0]["name"] != "ci" || len(rts) != 0 {
			t.Errorf("own tokens: %v, refresh tokens %v", pats, rts)
		}
		var ex struct {
			Subject   string
			Decisions []struct {
				Scope   string
				Granted []string
			}
		}
		r = f.do("root", "POST", "/api/authserver/v1/explain", map[string]any{"user": "alice", "scopes": []string{"repository:team/app:pull,push"}})
		want(t, r, 200, "explain")
		r.json(t, &ex)
		if ex.Subject != "alice" || len(ex.Decisions) != 1 || !slices.Equal(ex.Decisions[0].Granted, []string{"pull", "push"}) {
			t.Errorf("explain: %+v", ex)
		}
	})
}
