package storetest

import (
	"slices"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

const opsDN = "CN=Ops,OU=Groups,DC=Example,DC=org"

func testGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	ops := store.Group{Name: "ops", DN: opsDN}
	if err := s.CreateGroup(ctx, &ops); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if ops.ID == 0 || ops.CreatedAt.IsZero() {
		t.Errorf("CreateGroup did not write back ID and CreatedAt: %+v", ops)
	}
	mustGroup(t, s, "devs", "")
	mustGroup(t, s, "admins", "") // a second local group: empty DNs do not collide
	mustGroup(t, s, "cn=tricky,dc=example,dc=org", "")
	mustGroup(t, s, "tricky", "cn=tricky,dc=example,dc=org")

	tests := []struct {
		name     string
		nameOrDN string
		want     string // group name; empty means ErrNotFound
	}{
		{name: "by name", nameOrDN: "ops", want: "ops"},
		{name: "by exact DN", nameOrDN: opsDN, want: "ops"},
		{name: "by DN other case", nameOrDN: "cn=ops,ou=groups,dc=example,dc=ORG", want: "ops"},
		{name: "local group by name", nameOrDN: "devs", want: "devs"},
		{name: "name wins over DN", nameOrDN: "cn=tricky,dc=example,dc=org", want: "cn=tricky,dc=example,dc=org"},
		{name: "name is case-sensitive", nameOrDN: "OPS"},
		{name: "empty matches no local group", nameOrDN: ""},
		{name: "missing", nameOrDN: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := s.GetGroup(ctx, tt.nameOrDN)
			if tt.want == "" {
				wantErr(t, "GetGroup", err, store.ErrNotFound)
				return
			}
			if err != nil || g.Name != tt.want {
				t.Fatalf("GetGroup(%q) = %+v, %v; want %s", tt.nameOrDN, g, err, tt.want)
			}
			if g.Name == "ops" && (g.DN != opsDN || g.ID != ops.ID || !g.CreatedAt.Equal(ops.CreatedAt)) {
				t.Errorf("GetGroup = %+v, want %+v (DN kept as given)", g, ops)
			}
		})
	}

	wantErrs(t, []errCase{
		{name: "duplicate name", want: store.ErrAlreadyExists,
			call: func() error { return s.CreateGroup(ctx, &store.Group{Name: "ops"}) }},
		{name: "duplicate DN other case", want: store.ErrAlreadyExists,
			call: func() error {
				return s.CreateGroup(ctx, &store.Group{Name: "ops2", DN: "cn=OPS,ou=groups,dc=example,dc=org"})
			}},
		{name: "delete missing", want: store.ErrNotFound,
			call: func() error { return s.DeleteGroup(ctx, "nope") }},
	})

	list, err := s.ListGroups(ctx)
	var names []string
	for _, g := range list {
		names = append(names, g.Name)
	}
	if want := []string{"admins", "cn=tricky,dc=example,dc=org", "devs", "ops", "tricky"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("ListGroups = %v, %v; want %v", names, err, want)
	}
	if err := s.DeleteGroup(ctx, "ops"); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	_, err = s.GetGroup(ctx, opsDN)
	wantErr(t, "GetGroup after delete", err, store.ErrNotFound)
}

func testGroupUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, u := range []string{"carol", "alice", "bob"} {
		mustUser(t, s, u)
	}
	mustGroup(t, s, "devs", "", "carol", "alice")
	mustGroup(t, s, "ops", opsDN, "alice")
	mustGroup(t, s, "empty", "")

	wantErrs(t, []errCase{
		{name: "add again", want: store.ErrAlreadyExists,
			call: func() error { return s.AddGroupUser(ctx, "devs", "alice") }},
		{name: "add to missing group", want: store.ErrNotFound,
			call: func() error { return s.AddGroupUser(ctx, "nope", "alice") }},
		{name: "add missing user", want: store.ErrNotFound,
			call: func() error { return s.AddGroupUser(ctx, "devs", "nobody") }},
		{name: "remove non-member", want: store.ErrNotFound,
			call: func() error { return s.RemoveGroupUser(ctx, "devs", "bob") }},
		{name: "remove from missing group", want: store.ErrNotFound,
			call: func() error { return s.RemoveGroupUser(ctx, "nope", "alice") }},
		{name: "list users of missing group", want: store.ErrNotFound,
			call: func() error { _, err := s.ListGroupUsers(ctx, "nope"); return err }},
		{name: "groups of missing user", want: store.ErrNotFound,
			call: func() error { _, err := s.UserGroups(ctx, "nobody"); return err }},
	})

	lists := []struct {
		name string
		list func() ([]string, error)
		want []string
	}{
		{name: "users of devs", want: []string{"alice", "carol"},
			list: func() ([]string, error) { return s.ListGroupUsers(ctx, "devs") }},
		{name: "users of empty group",
			list: func() ([]string, error) { return s.ListGroupUsers(ctx, "empty") }},
		{name: "groups of alice", want: []string{"devs", "ops"},
			list: func() ([]string, error) { return s.UserGroups(ctx, "alice") }},
		{name: "groups of bob",
			list: func() ([]string, error) { return s.UserGroups(ctx, "bob") }},
	}
	for _, tt := range lists {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.list()
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}

	if err := s.RemoveGroupUser(ctx, "devs", "alice"); err != nil {
		t.Fatalf("RemoveGroupUser: %v", err)
	}
	if got, err := s.ListGroupUsers(ctx, "devs"); err != nil || !slices.Equal(got, []string{"carol"}) {
		t.Errorf("after remove: %v, %v; want [carol]", got, err)
	}
}

func testMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, u := range []string{"bob", "alice"} {
		mustUser(t, s, u)
	}
	mustGroup(t, s, "ops", opsDN)
	mustGroup(t, s, "devs", "")
	mustProject(t, s, "p", false, groupAs("ops", store.RoleGuest), userAs("bob", store.RoleDeveloper),
		userAs("alice", store.RoleGuest), groupAs("devs", store.RoleMaintainer))
	mustProject(t, s, "empty", false)
	// Setting again replaces the role.
	mustMember(t, s, "p", store.MemberUser, "alice", store.RoleProjectAdmin)

	want := []store.Member{
		{Project: "p", Kind: store.MemberUser, Name: "alice", Role: store.RoleProjectAdmin},
		{Project: "p", Kind: store.MemberUser, Name: "bob", Role: store.RoleDeveloper},
		{Project: "p", Kind: store.MemberGroup, Name: "devs", Role: store.RoleMaintainer},
		{Project: "p", Kind: store.MemberGroup, Name: "ops", Role: store.RoleGuest},
	}
	assertMembers(t, s, "p", want)
	assertMembers(t, s, "empty", nil)

	if err := s.RemoveMember(ctx, "p", store.MemberUser, "bob"); err != nil {
		t.Fatalf("RemoveMember(user): %v", err)
	}
	if err := s.RemoveMember(ctx, "p", store.MemberGroup, "ops"); err != nil {
		t.Fatalf("RemoveMember(group): %v", err)
	}
	assertMembers(t, s, "p", []store.Member{want[0], want[2]})
}

func assertMembers(t *testing.T, s store.Store, project string, want []store.Member) {
	t.Helper()
	got, err := s.ListMembers(t.Context(), project)
	for i := range got {
		if got[i].ID == 0 || got[i].EntityID == 0 {
			t.Errorf("ListMembers(%s)[%d] = %+v: want its ID and EntityID", project, i, got[i])
		}
		got[i].ID, got[i].EntityID = 0, 0 // checked by testByID
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ListMembers(%s) = %+v, %v\nwant %+v", project, got, err, want)
	}
}

func testMemberErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustGroup(t, s, "devs", "")
	mustProject(t, s, "p", false)
	mustMember(t, s, "p", store.MemberUser, "alice", store.RoleGuest)
	set := func(project string, kind store.MemberKind, name string, role store.Role) func() error {
		return func() error {
			return s.SetMember(ctx, store.Member{Project: project, Kind: kind, Name: name, Role: role})
		}
	}
	wantErrs(t, []errCase{
		{name: "missing project", call: set("nope", store.MemberUser, "alice", store.RoleGuest), want: store.ErrNotFound},
		{name: "missing user", call: set("p", store.MemberUser, "nobody", store.RoleGuest), want: store.ErrNotFound},
		{name: "missing group", call: set("p", store.MemberGroup, "nope", store.RoleGuest), want: store.ErrNotFound},
		{name: "user name is not a group", call: set("p", store.MemberGroup, "alice", store.RoleGuest), want: store.ErrNotFound},
		{name: "bad kind", call: set("p", "robot", "alice", store.RoleGuest), want: errPlain},
		{name: "bad role", call: set("p", store.MemberUser, "alice", "owner"), want: errPlain},
		{name: "remove missing membership", want: store.ErrNotFound,
			call: func() error { return s.RemoveMember(ctx, "p", store.MemberGroup, "devs") }},
		{name: "remove from missing project", want: store.ErrNotFound,
			call: func() error { return s.RemoveMember(ctx, "nope", store.MemberUser, "alice") }},
		{name: "list missing project", want: store.ErrNotFound,
			call: func() error { _, err := s.ListMembers(ctx, "nope"); return err }},
	})
	assertMembers(t, s, "p", []store.Member{{Project: "p", Kind: store.MemberUser, Name: "alice", Role: store.RoleGuest}})
}
