package storetest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

func testCascade(t *testing.T, s store.Store) {
	setup := func(t *testing.T) {
		mustUser(t, s, "alice")
		mustUser(t, s, "bob")
		mustGroup(t, s, "devs", "", "alice", "bob")
		mustProject(t, s, "p1", false, userAs("alice", store.RoleDeveloper), groupAs("devs", store.RoleMaintainer))
		mustProject(t, s, "p2", false, userAs("bob", store.RoleGuest), groupAs("devs", store.RoleGuest))
	}
	m := func(project string, kind store.MemberKind, name string, role store.Role) store.Member {
		return store.Member{Project: project, Kind: kind, Name: name, Role: role}
	}
	tests := []struct {
		name      string
		del       func(s store.Store) error
		p1, p2    []store.Member // nil p1 with p1Gone: project deleted
		p1Gone    bool
		devsUsers []string // nil with devsGone: group deleted
		devsGone  bool
	}{
		{
			name:      "delete user",
			del:       func(s store.Store) error { return s.DeleteUser(t.Context(), "alice") },
			p1:        []store.Member{m("p1", store.MemberGroup, "devs", store.RoleMaintainer)},
			p2:        []store.Member{m("p2", store.MemberUser, "bob", store.RoleGuest), m("p2", store.MemberGroup, "devs", store.RoleGuest)},
			devsUsers: []string{"bob"},
		},
		{
			name:     "delete group",
			del:      func(s store.Store) error { return s.DeleteGroup(t.Context(), "devs") },
			p1:       []store.Member{m("p1", store.MemberUser, "alice", store.RoleDeveloper)},
			p2:       []store.Member{m("p2", store.MemberUser, "bob", store.RoleGuest)},
			devsGone: true,
		},
		{
			name:      "delete project",
			del:       func(s store.Store) error { return s.DeleteProject(t.Context(), "p1") },
			p1Gone:    true,
			p2:        []store.Member{m("p2", store.MemberUser, "bob", store.RoleGuest), m("p2", store.MemberGroup, "devs", store.RoleGuest)},
			devsUsers: []string{"alice", "bob"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range []string{"p1", "p2"} {
				_ = s.DeleteProject(t.Context(), p)
			}
			for _, u := range []string{"alice", "bob"} {
				_ = s.DeleteUser(t.Context(), u)
			}
			_ = s.DeleteGroup(t.Context(), "devs")
			setup(t)
			if err := tt.del(s); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if tt.p1Gone {
				_, err := s.ListMembers(t.Context(), "p1")
				wantErr(t, "ListMembers of deleted project", err, store.ErrNotFound)
				mustProject(t, s, "p1", false) // re-created: no stale members
				assertMembers(t, s, "p1", nil)
			} else {
				assertMembers(t, s, "p1", tt.p1)
			}
			assertMembers(t, s, "p2", tt.p2)
			got, err := s.ListGroupUsers(t.Context(), "devs")
			if tt.devsGone {
				wantErr(t, "ListGroupUsers of deleted group", err, store.ErrNotFound)
				if gs, err := s.UserGroups(t.Context(), "alice"); err != nil || len(gs) != 0 {
					t.Errorf("UserGroups(alice) = %v, %v; want none", gs, err)
				}
			} else if err != nil || !slices.Equal(got, tt.devsUsers) {
				t.Errorf("ListGroupUsers(devs) = %v, %v; want %v", got, err, tt.devsUsers)
			}
		})
	}
}

func testProjectAccess(t *testing.T, s store.Store) {
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		mustUser(t, s, u)
	}
	mustGroup(t, s, "devs", "", "alice", "bob")
	mustGroup(t, s, "ops", opsDN)
	mustGroup(t, s, "hybrid", "cn=hybrid,dc=example,dc=org", "frank")
	mustGroup(t, s, "unused", "cn=unused,dc=example,dc=org", "dave")
	mustProject(t, s, "priv", false,
		userAs("alice", store.RoleDeveloper), groupAs("devs", store.RoleMaintainer), groupAs("ops", store.RoleGuest))
	mustProject(t, s, "pub", true, userAs("erin", store.RoleProjectAdmin))
	mustProject(t, s, "other", false, groupAs("hybrid", store.RoleLimitedGuest), userAs("carol", store.RoleGuest))

	id := func(name string) int64 {
		u, err := s.GetUser(t.Context(), name)
		if err != nil {
			t.Fatalf("GetUser(%s): %v", name, err)
		}
		return u.ID
	}
	priv := func(g ...store.Grant) store.ProjectAccess { return store.ProjectAccess{Name: "priv", Grants: g} }
	pub := func(g ...store.Grant) store.ProjectAccess {
		return store.ProjectAccess{Name: "pub", Public: true, Grants: g}
	}
	other := func(g ...store.Grant) store.ProjectAccess { return store.ProjectAccess{Name: "other", Grants: g} }
	direct := func(r store.Role) store.Grant { return store.Grant{Role: r} }
	via := func(group string, r store.Role) store.Grant { return store.Grant{Role: r, Group: group} }
	opsLower := "cn=ops,ou=groups,dc=example,dc=org"

	tests := []struct {
		name     string
		p        store.Principal
		projects []string
		want     []store.ProjectAccess
	}{
		{name: "direct role", p: store.Principal{UserID: id("erin")}, projects: []string{"pub"},
			want: []store.ProjectAccess{pub(direct(store.RoleProjectAdmin))}},
		{name: "via local group", p: store.Principal{UserID: id("bob")}, projects: []string{"priv"},
			want: []store.ProjectAccess{priv(via("devs", store.RoleMaintainer))}},
		{name: "via DN group, case-insensitive", p: store.Principal{UserID: id("dave"), GroupDNs: []string{opsLower}},
			projects: []string{"priv"}, want: []store.ProjectAccess{priv(via("ops", store.RoleGuest))}},
		{name: "direct and group grants", p: store.Principal{UserID: id("alice")}, projects: []string{"priv"},
			want: []store.ProjectAccess{priv(direct(store.RoleDeveloper), via("devs", store.RoleMaintainer))}},
		{name: "direct, local group and DN group", p: store.Principal{UserID: id("alice"), GroupDNs: []string{"CN=OPS,OU=GROUPS,DC=EXAMPLE,DC=ORG"}},
			projects: []string{"priv"},
			want:     []store.ProjectAccess{priv(direct(store.RoleDeveloper), via("devs", store.RoleMaintainer), via("ops", store.RoleGuest))}},
		{name: "group reached locally and by DN counts once",
			p:        store.Principal{UserID: id("frank"), GroupDNs: []string{"cn=hybrid,dc=example,dc=org"}},
			projects: []string{"other"}, want: []store.ProjectAccess{other(via("hybrid", store.RoleLimitedGuest))}},
		{name: "public project without membership", p: store.Principal{UserID: id("dave")}, projects: []string{"pub"},
			want: []store.ProjectAccess{pub()}},
		{name: "missing project absent", p: store.Principal{UserID: id("alice")}, projects: []string{"nope", "pub"},
			want: []store.ProjectAccess{pub()}},
		{name: "unknown DN and empty DN ignored", p: store.Principal{UserID: id("dave"), GroupDNs: []string{"cn=nope", ""}},
			projects: []string{"priv"}, want: []store.ProjectAccess{priv()}},
		{name: "anonymous", p: store.Principal{}, projects: []string{"priv", "pub", "other", "nope"},
			want: []store.ProjectAccess{priv(), pub(), other()}},
		{name: "several projects at once", p: store.Principal{UserID: id("carol"), GroupDNs: []string{opsDN}},
			projects: []string{"priv", "pub", "other"},
			want:     []store.ProjectAccess{priv(via("ops", store.RoleGuest)), pub(), other(direct(store.RoleGuest))}},
		{name: "duplicate names", p: store.Principal{UserID: id("erin")}, projects: []string{"pub", "pub"},
			want: []store.ProjectAccess{pub(direct(store.RoleProjectAdmin))}},
		{name: "names are case-sensitive", p: store.Principal{UserID: id("erin")}, projects: []string{"PUB"}},
		{name: "no projects", p: store.Principal{UserID: id("alice")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ProjectAccess(t.Context(), tt.p, tt.projects)
			if err != nil {
				t.Fatalf("ProjectAccess: %v", err)
			}
			want := map[string]store.ProjectAccess{}
			for _, pa := range tt.want {
				want[pa.Name] = pa
			}
			eq := func(a, b store.ProjectAccess) bool {
				return a.Name == b.Name && a.Public == b.Public && slices.Equal(a.Grants, b.Grants)
			}
			if got == nil || !maps.EqualFunc(got, want, eq) {
				t.Errorf("ProjectAccess(%+v, %q) =\n  %+v\nwant\n  %+v", tt.p, tt.projects, got, want)
			}
		})
	}
}

// testPolicyVersion: every change to what GetUser or ProjectAccess
// answers (a project's existence or visibility, a user's row, a
// membership, a group or its members, a repository rule, a robot or its
// permissions) increases the policy version, as the token endpoint's caches
// (authz.PublicCache, readcache) rely on; reads and the writes of the token
// path (audit records, token use times, the throttle) leave it alone.
func testPolicyVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	last, err := s.PolicyVersion(ctx)
	if err != nil {
		t.Fatalf("PolicyVersion: %v", err)
	}
	step := func(what string, changes bool, fn func() error) {
		t.Helper()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		v, err := s.PolicyVersion(ctx)
		switch {
		case err != nil:
			t.Fatalf("PolicyVersion after %s: %v", what, err)
		case changes && v <= last:
			t.Fatalf("after %s the version is %d, was %d: want it increased", what, v, last)
		case !changes && v != last:
			t.Fatalf("after %s the version is %d, was %d: want it unchanged", what, v, last)
		}
		last = v
	}
	step("create user", true, func() error { _ = mustUser(t, s, "vera"); return nil })
	step("create project", true, func() error { return s.CreateProject(ctx, &store.Project{Name: "versioned"}) })
	step("read project", false, func() error { _, err := s.GetProject(ctx, "versioned"); return err })
	step("make public", true, func() error { return s.SetProjectPublic(ctx, "versioned", true) })
	step("add member", true, func() error {
		return s.SetMember(ctx, store.Member{Project: "versioned", Kind: store.MemberUser, Name: "vera", Role: store.RoleGuest})
	})
	step("change role", true, func() error {
		return s.SetMember(ctx, store.Member{Project: "versioned", Kind: store.MemberUser, Name: "vera", Role: store.RoleDeveloper})
	})
	step("read access", false, func() error {
		_, err := s.ProjectAccess(ctx, store.Principal{UserID: 1, Authenticated: true}, []string{"versioned"})
		return err
	})
	step("remove member", true, func() error { return s.RemoveMember(ctx, "versioned", store.MemberUser, "vera") })
	step("make private", true, func() error { return s.SetProjectPublic(ctx, "versioned", false) })
	step("read user", false, func() error { _, err := s.GetUser(ctx, "vera"); return err })
	step("disable user", true, func() error {
		_, err := s.ModifyUser(ctx, "vera", func(u store.User) (store.User, error) { u.Disabled = true; return u, nil })
		return err
	})
	step("change password", true, func() error {
		_, err := s.ModifyUser(ctx, "vera", func(u store.User) (store.User, error) { u.PasswordHash = "other"; return u, nil })
		return err
	})
	step("allow from", true, func() error { return s.SetUserAllowFrom(ctx, "vera", []string{"10.0.0.0/8"}) })
	step("create group", true, func() error { return s.CreateGroup(ctx, &store.Group{Name: "versioned-devs"}) })
	step("add group user", true, func() error { return s.AddGroupUser(ctx, "versioned-devs", "vera") })
	step("group member", true, func() error {
		return s.SetMember(ctx, store.Member{Project: "versioned", Kind: store.MemberGroup, Name: "versioned-devs", Role: store.RoleGuest})
	})
	step("remove group user", true, func() error { return s.RemoveGroupUser(ctx, "versioned-devs", "vera") })
	rule := store.Rule{Project: "versioned", Repos: "*", Subject: store.RuleUser, Name: "vera", Actions: []string{"pull"}, Deny: true}
	step("create rule", true, func() error { return s.CreateRule(ctx, &rule) })
	step("delete rule", true, func() error { return s.DeleteRule(ctx, "versioned", rule.ID) })
	step("create robot", true, func() error {
		return s.CreateRobot(ctx, &store.Robot{Name: "versioned+ci", Project: "versioned", SecretHash: "s",
			Permissions: []store.RobotPermission{{Project: "versioned", Actions: []string{"pull"}}}})
	})
	robotRule := store.Rule{Project: "versioned", Repos: "*", Subject: store.RuleRobot, Name: "versioned+ci", Actions: []string{"push"}}
	step("robot rule", true, func() error { return s.CreateRule(ctx, &robotRule) })
	pat := store.PersonalToken{User: "vera", Name: "laptop", Hash: "versioned-pat-hash"}
	step("create personal token", false, func() error { return s.CreatePersonalToken(ctx, &pat) })
	step("use personal token", false, func() error { return s.TouchPersonalToken(ctx, pat.ID, time.Now()) })
	step("audit record", false, func() error {
		return s.AppendAudit(ctx, []store.AuditRecord{{Time: time.Now(), Subject: "vera", Result: "issued"}})
	})
	step("delete robot", true, func() error { return s.DeleteRobot(ctx, "versioned+ci") })
	step("delete group", true, func() error { return s.DeleteGroup(ctx, "versioned-devs") })
	step("delete user", true, func() error { return s.DeleteUser(ctx, "vera") })
	step("delete project", true, func() error { return s.DeleteProject(ctx, "versioned") })
}
