package authz

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

// fakeAccess answers ProjectAccess from a fixed table, for unit tests of the
// decision logic; the real query is tested by the store conformance suite.
type fakeAccess struct {
	projects map[string]store.ProjectAccess // by project, for user 1
	public   map[string]bool
	calls    int
	err      error
}

func (f *fakeAccess) ProjectAccess(_ context.Context, p store.Principal, names []string) (map[string]store.ProjectAccess, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]store.ProjectAccess{}
	for _, n := range names {
		pa, ok := f.projects[n]
		if !ok {
			continue
		}
		if p.UserID != 1 {
			pa.Grants = nil
		}
		out[n] = pa
	}
	return out, nil
}

func TestRoleActions(t *testing.T) {
	tests := []struct {
		name string
		role store.Role
		want []string
	}{
		{"projectAdmin", store.RoleProjectAdmin, []string{"pull", "push", "delete"}},
		{"maintainer", store.RoleMaintainer, []string{"pull", "push", "delete"}},
		{"developer", store.RoleDeveloper, []string{"pull", "push"}},
		{"guest", store.RoleGuest, []string{"pull"}},
		{"limitedGuest", store.RoleLimitedGuest, []string{"pull"}},
		{"unknown", store.Role("owner"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RoleActions(tt.role); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProjectOf(t *testing.T) {
	tests := []struct {
		name, repo, project string
		ok                  bool
	}{
		{"two parts", "team/app", "team", true},
		{"deep", "team/a/b/c", "team", true},
		{"one part", "busybox", "", false},
		{"host prefix", "localhost:5000/team/app", "team", true},
		{"localhost is a project, not a host", "localhost/team/app", "localhost", true},
		{"dotted first component is a project", "example.com/team/app", "example.com", true},
		{"host prefix one part", "localhost:5000/busybox", "", false},
		{"empty component", "/app", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := ProjectOf(tt.repo)
			if p != tt.project || ok != tt.ok {
				t.Fatalf("ProjectOf(%q) = %q, %v", tt.repo, p, ok)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	access := &fakeAccess{projects: map[string]store.ProjectAccess{
		"dev":     {Name: "dev", Grants: []store.Grant{{Role: store.RoleDeveloper}}},
		"guest":   {Name: "guest", Grants: []store.Grant{{Role: store.RoleGuest}}},
		"admin":   {Name: "admin", Grants: []store.Grant{{Role: store.RoleProjectAdmin}}},
		"viagrp":  {Name: "viagrp", Grants: []store.Grant{{Role: store.RoleMaintainer, Group: "ops"}}},
		"public":  {Name: "public", Public: true},
		"pubdev":  {Name: "pubdev", Public: true, Grants: []store.Grant{{Role: store.RoleDeveloper}}},
		"private": {Name: "private"},
	}}
	user := Subject{Name: "alice", UserID: 1}
	other := Subject{Name: "bob", UserID: 2}
	anon := Subject{Anonymous: true}
	admin := Subject{Name: "root", UserID: 3, Admin: true}
	robot := func(project string, actions ...string) Subject {
		return Subject{Name: "robot$" + project + "+ci", Robot: &RobotPermissions{Permissions: []store.RobotPermission{{Project: project, Actions: actions}}}}
	}
	robotPush := robot("private", "pull", "push")
	robotPushOnly := robot("private", "push")
	robotAll := robot("private", "pull", "push", "delete")
	robotSystem := Subject{Name: "robot$scanner", Robot: &RobotPermissions{Permissions: []store.RobotPermission{{Project: "*", Actions: []string{"pull", "push"}}}}}
	// A system robot naming projects (Harbor v2, terraform), and one on
	// every project with more on one; one whose projects are all gone.
	robotMulti := Subject{Name: "robot$deployer", Robot: &RobotPermissions{Permissions: []store.RobotPermission{
		{Project: "dev", Actions: []string{"pull", "push"}}, {Project: "private", Actions: []string{"delete"}}}}}
	robotWide := Subject{Name: "robot$wide", Robot: &RobotPermissions{Permissions: []store.RobotPermission{
		{Project: "*", Actions: []string{"pull"}}, {Project: "private", Actions: []string{"push", "delete"}}}}}
	robotNone := Subject{Name: "robot$gone", Robot: &RobotPermissions{Permissions: []store.RobotPermission{}}}
	// Identity fields a robot must never benefit from.
	robotSneaky := Subject{Name: "robot$guest+x", UserID: 1, Admin: true, Robot: &RobotPermissions{Permissions: []store.RobotPermission{{Project: "guest", Actions: []string{"pull"}}}}}
	tests := []struct {
		name  string
		subj  Subject
		scope string
		want  []string
	}{
		{"developer pull push", user, "repository:dev/app:pull,push", []string{"pull", "push"}},
		{"developer no delete", user, "repository:dev/app:delete", []string{}},
		{"developer star is subset", user, "repository:dev/app:*", []string{"pull", "push"}},
		{"guest pull only", user, "repository:guest/app:pull,push", []string{"pull"}},
		{"projectAdmin star", user, "repository:admin/app:*", []string{"delete", "pull", "push"}},
		{"projectAdmin listed", user, "repository:admin/app:delete,pull", []string{"delete", "pull"}},
		{"group maintainer", user, "repository:viagrp/x:push,delete", []string{"push", "delete"}},
		{"public pull for anonymous", anon, "repository:public/app:pull,push", []string{"pull"}},
		{"public pull for non-member", other, "repository:public/app:pull", []string{"pull"}},
		{"public plus role", user, "repository:pubdev/app:pull,push", []string{"pull", "push"}},
		{"private refused to anonymous", anon, "repository:private/app:pull", []string{}},
		{"non-member refused", other, "repository:dev/app:pull", []string{}},
		{"missing project", user, "repository:nope/app:pull", []string{}},
		{"one component refused", user, "repository:busybox:pull", []string{}},
		{"one component sysadmin", admin, "repository:busybox:pull,push", []string{"pull", "push"}},
		{"sysadmin star", admin, "repository:any/thing:*", []string{"delete", "pull", "push"}},
		{"sysadmin star after pull", admin, "repository:any/thing:pull,*", []string{"pull", "delete", "push"}},
		{"guest star", user, "repository:guest/app:*", []string{"pull"}},
		{"anonymous star on public", anon, "repository:public/app:*", []string{"pull"}},
		{"catalog sysadmin", admin, "registry:catalog:*", []string{"*"}},
		{"catalog user", user, "registry:catalog:*", []string{}},
		{"catalog anonymous", anon, "registry:catalog:*", []string{}},
		{"unknown registry resource", admin, "registry:other:*", []string{}},
		{"unknown type", admin, "plugin:x:pull", []string{}},
		{"unknown action", user, "repository:dev/app:pull,metadata", []string{"pull"}},
		{"host prefix", user, "repository:localhost:5000/dev/app:push", []string{"push"}},
		{"localhost/ is not a host prefix", user, "repository:localhost/dev/app:pull,push", []string{}},
		{"robot localhost/ is outside its project", robotPush, "repository:localhost/private/app:pull,push", []string{}},
		{"robot own project", robotPush, "repository:private/app:pull,push,delete", []string{"pull", "push"}},
		{"robot push implies pull", robotPushOnly, "repository:private/app:pull", []string{"pull"}},
		{"robot star is its actions", robotAll, "repository:private/app:*", []string{"delete", "pull", "push"}},
		{"robot star subset", robotPush, "repository:private/x/y:*", []string{"pull", "push"}},
		{"robot other project nothing", robotPush, "repository:dev/app:pull,push", []string{}},
		{"robot ignores user grants and admin", robotSneaky, "repository:dev/app:pull,push", []string{}},
		{"robot public project pull only", robotPush, "repository:public/app:pull,push", []string{"pull"}},
		{"robot missing project", robotSystem, "repository:nope/app:pull", []string{}},
		{"robot one component", robotSystem, "repository:busybox:pull", []string{}},
		{"robot no catalog", robotSystem, "registry:catalog:*", []string{}},
		{"robot sneaky no catalog", robotSneaky, "registry:catalog:*", []string{}},
		{"system robot any project", robotSystem, "repository:dev/app:pull,push,delete", []string{"pull", "push"}},
		{"system robot private project", robotSystem, "repository:private/app:push", []string{"push"}},
		{"multi-project robot first project", robotMulti, "repository:dev/app:pull,push,delete", []string{"pull", "push"}},
		{"multi-project robot second project, own actions", robotMulti, "repository:private/app:pull,push,delete", []string{"delete"}},
		{"multi-project robot unnamed project", robotMulti, "repository:guest/app:pull", []string{}},
		{"multi-project robot unnamed public project", robotMulti, "repository:public/app:pull,push", []string{"pull"}},
		{"multi-project robot missing project", robotMulti, "repository:nope/app:pull", []string{}},
		{"multi-project robot no catalog", robotMulti, "registry:catalog:*", []string{}},
		{"star entry plus a project: union", robotWide, "repository:private/app:*", []string{"delete", "pull", "push"}},
		{"star entry elsewhere", robotWide, "repository:dev/app:pull,push", []string{"pull"}},
		{"robot without permissions nothing", robotNone, "repository:private/app:pull", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scopes, err := ParseScopes([]string{tt.scope})
			if err != nil {
				t.Fatal(err)
			}
			ds, err := New(access).Authorize(context.Background(), tt.subj, scopes)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 1 || !reflect.DeepEqual(ds[0].Granted, tt.want) {
				t.Fatalf("granted %v, want %v (reasons %v)", ds[0].Granted, tt.want, ds[0].Reasons)
			}
			if len(ds[0].Reasons) == 0 {
				t.Fatal("no reason given")
			}
		})
	}
}

// TestAuthorizeCatalogEmptyName: zot asks repository::pull (empty name) for
// /v2/_catalog. The scope is built by hand, so this tests the decision
// whatever the parser does with an empty name.
func TestAuthorizeCatalogEmptyName(t *testing.T) {
	access := &fakeAccess{projects: map[string]store.ProjectAccess{"": {Name: "", Public: true}}}
	robot := Subject{Name: "robot$scanner", Robot: &RobotPermissions{Permissions: []store.RobotPermission{{Project: "*", Actions: []string{"pull", "push", "delete"}}}}}
	tests := []struct {
		name    string
		subj    Subject
		actions []string
		want    []string
	}{
		{"sysadmin pull", Subject{Name: "root", UserID: 3, Admin: true}, []string{"pull"}, []string{"pull"}},
		{"sysadmin gets pull only", Subject{Name: "root", UserID: 3, Admin: true}, []string{"*", "push", "delete"}, []string{"pull"}},
		{"user nothing", Subject{Name: "alice", UserID: 1}, []string{"pull"}, []string{}},
		{"anonymous nothing", Subject{Anonymous: true}, []string{"pull"}, []string{}},
		{"system robot nothing", robot, []string{"pull"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scope := Scope{Type: TypeRepository, Name: "", Actions: tt.actions}
			ds, err := New(access).Authorize(context.Background(), tt.subj, []Scope{scope})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ds[0].Granted, tt.want) || len(ds[0].Reasons) == 0 {
				t.Fatalf("granted %v, want %v (reasons %v)", ds[0].Granted, tt.want, ds[0].Reasons)
			}
		})
	}
	if access.calls != 0 {
		t.Fatalf("%d store calls for the catalog, want 0: an empty name is in no project", access.calls)
	}
}

func TestDecisionComplete(t *testing.T) {
	repo := func(actions ...string) Scope { return Scope{Type: TypeRepository, Name: "team/app", Actions: actions} }
	tests := []struct {
		name string
		d    Decision
		want bool
	}{
		{"all listed", Decision{Scope: repo("pull", "push"), Granted: []string{"pull", "push"}}, true},
		{"one short", Decision{Scope: repo("pull", "push"), Granted: []string{"pull"}}, false},
		{"nothing", Decision{Scope: repo("pull"), Granted: []string{}}, false},
		{"star as the three actions", Decision{Scope: repo("*"), Granted: []string{"delete", "pull", "push"}}, true},
		{"star short of delete", Decision{Scope: repo("*"), Granted: []string{"pull", "push"}}, false},
		{"catalog star", Decision{Scope: Scope{Type: TypeRegistry, Name: "catalog", Actions: []string{"*"}}, Granted: []string{"*"}}, true},
		{"catalog refused", Decision{Scope: Scope{Type: TypeRegistry, Name: "catalog", Actions: []string{"*"}}, Granted: []string{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.Complete(); got != tt.want {
				t.Fatalf("Complete() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAuthorizeOneQuery(t *testing.T) {
	access := &fakeAccess{projects: map[string]store.ProjectAccess{}}
	scopes, _ := ParseScopes([]string{"repository:a/x:pull repository:b/y:pull repository:a/z:push registry:catalog:*"})
	if _, err := New(access).Authorize(context.Background(), Subject{UserID: 1}, scopes); err != nil {
		t.Fatal(err)
	}
	if access.calls != 1 {
		t.Fatalf("%d store calls, want 1", access.calls)
	}
	// A sysadmin needs no lookup at all.
	access.calls = 0
	if _, err := New(access).Authorize(context.Background(), Subject{UserID: 3, Admin: true}, scopes); err != nil {
		t.Fatal(err)
	}
	if access.calls != 0 {
		t.Fatalf("%d store calls for a sysadmin, want 0", access.calls)
	}
}

func TestAuthorizeStoreError(t *testing.T) {
	down := errors.New("connection refused")
	scopes, _ := ParseScopes([]string{"repository:a/x:pull"})
	_, err := New(&fakeAccess{err: down}).Authorize(context.Background(), Subject{UserID: 1}, scopes)
	if !errors.Is(err, down) {
		t.Fatalf("err = %v, want the store's error", err)
	}
}
