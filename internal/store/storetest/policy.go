package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// testRules covers repository rules: creation (subjects, duplicates,
// missing project or subject), listing, deletion, and the cascade when
// a subject or the project goes.
func testRules(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustGroup(t, s, "devs", "", "bob")
	mustProject(t, s, "team", false)
	mustProject(t, s, "other", false)
	rb := store.Robot{Name: "team+ci", Project: "team", Permissions: store.OneProject("team", "pull"), SecretHash: "h"}
	if err := s.CreateRobot(ctx, &rb); err != nil {
		t.Fatal(err)
	}
	rules := []store.Rule{
		{Project: "team", Repos: "app-*", Subject: store.RuleUser, Name: "alice", Actions: []string{"pull", "push"}},
		{Project: "team", Repos: "release/**", Subject: store.RuleGroup, Name: "devs", Actions: []string{"push"}, Deny: true},
		{Project: "team", Repos: "**", Subject: store.RuleRobot, Name: "team+ci", Actions: []string{"delete"}},
		{Project: "team", Repos: "pub-*", Subject: store.RuleAuthenticated, Actions: []string{"pull"}},
		{Project: "other", Repos: "x", Subject: store.RuleUser, Name: "alice", Actions: []string{"pull"}},
	}
	for i := range rules {
		if err := s.CreateRule(ctx, &rules[i]); err != nil || rules[i].ID == 0 || rules[i].CreatedAt.IsZero() {
			t.Fatalf("CreateRule(%+v): %v", rules[i], err)
		}
	}
	dup := rules[0]
	wantErrs(t, []errCase{
		{name: "duplicate", call: func() error { return s.CreateRule(ctx, &dup) }, want: store.ErrAlreadyExists},
		{name: "missing project", call: func() error {
			return s.CreateRule(ctx, &store.Rule{Project: "ghost", Repos: "*", Subject: store.RuleUser, Name: "alice", Actions: []string{"pull"}})
		}, want: store.ErrNotFound},
		{name: "missing user", call: func() error {
			return s.CreateRule(ctx, &store.Rule{Project: "team", Repos: "*", Subject: store.RuleUser, Name: "ghost", Actions: []string{"pull"}})
		}, want: store.ErrNotFound},
		{name: "missing robot", call: func() error {
			return s.CreateRule(ctx, &store.Rule{Project: "team", Repos: "*", Subject: store.RuleRobot, Name: "team+ghost", Actions: []string{"pull"}})
		}, want: store.ErrNotFound},
		{name: "list missing project", call: func() error { _, err := s.ListRules(ctx, "ghost"); return err }, want: store.ErrNotFound},
		{name: "delete of another project", call: func() error { return s.DeleteRule(ctx, "other", rules[0].ID) }, want: store.ErrNotFound},
	})
	got, err := s.ListRules(ctx, "team")
	if err != nil || len(got) != 4 {
		t.Fatalf("ListRules(team) = %+v, %v; want 4", got, err)
	}
	for i := range got {
		if !got[i].CreatedAt.Equal(rules[i].CreatedAt) {
			t.Errorf("rule %d created %v, want %v", i, got[i].CreatedAt, rules[i].CreatedAt)
		}
		got[i].CreatedAt = rules[i].CreatedAt
		if !reflect.DeepEqual(got[i], rules[i]) {
			t.Errorf("rule %d = %+v\nwant     %+v", i, got[i], rules[i])
		}
	}
	if all, err := s.ListRules(ctx, ""); err != nil || len(all) != 5 || all[0].Project != "other" {
		t.Errorf("ListRules(\"\") = %+v, %v; want 5, other's first", all, err)
	}

	// The permission query returns the rules about the principal only.
	alice, bob := mustGetUser(t, s, "alice"), mustGetUser(t, s, "bob")
	ids := func(pa store.ProjectAccess) []int64 {
		var out []int64
		for _, r := range pa.Rules {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		p    store.Principal
		want []int64
	}{
		{"user", store.Principal{UserID: alice.ID, Authenticated: true}, []int64{rules[0].ID, rules[3].ID}},
		{"group", store.Principal{UserID: bob.ID, Authenticated: true}, []int64{rules[1].ID, rules[3].ID}},
		{"robot", store.Principal{RobotID: rb.ID, Authenticated: true}, []int64{rules[2].ID, rules[3].ID}},
		{"anonymous", store.Principal{}, nil},
	} {
		t.Run("access/"+tt.name, func(t *testing.T) {
			pa, err := s.ProjectAccess(ctx, tt.p, []string{"team"})
			if err != nil || !reflect.DeepEqual(ids(pa["team"]), tt.want) {
				t.Errorf("rules = %v, %v; want %v", ids(pa["team"]), err, tt.want)
			}
		})
	}
	pa, _ := s.ProjectAccess(ctx, store.Principal{UserID: alice.ID}, []string{"team"})
	want := store.RuleGrant{ID: rules[0].ID, Repos: "app-*", Actions: []string{"pull", "push"}, Subject: store.RuleUser, Name: "alice"}
	if len(pa["team"].Rules) != 1 || !reflect.DeepEqual(pa["team"].Rules[0], want) {
		t.Errorf("alice's rules = %+v, want [%+v]", pa["team"].Rules, want)
	}

	if err := s.DeleteRule(ctx, "team", rules[0].ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteRule again", s.DeleteRule(ctx, "team", rules[0].ID), store.ErrNotFound)
	for _, del := range []func() error{
		func() error { return s.DeleteGroup(ctx, "devs") },
		func() error { return s.DeleteRobot(ctx, "team+ci") },
	} {
		if err := del(); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.ListRules(ctx, "team"); len(got) != 1 || got[0].Subject != store.RuleAuthenticated {
		t.Errorf("after deleting the group and the robot: %+v; want the authenticated rule only", got)
	}
	if err := s.DeleteProject(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.ListRules(ctx, ""); len(all) != 1 || all[0].Project != "other" {
		t.Errorf("after deleting the project: %+v", all)
	}
}

// testVisibility covers internal projects: created so, set, read back,
// returned by the permission query, and Harbor's public flag clearing it.
func testVisibility(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := store.Project{Name: "inside", Internal: true}
	if err := s.CreateProject(ctx, &p); err != nil {
		t.Fatal(err)
	}
	vis := func() store.Visibility {
		t.Helper()
		got, err := s.GetProject(ctx, "inside")
		if err != nil {
			t.Fatal(err)
		}
		pa, err := s.ProjectAccess(ctx, store.Principal{}, []string{"inside"})
		if err != nil || pa["inside"].Public != got.Public || pa["inside"].Internal != got.Internal {
			t.Errorf("ProjectAccess = %+v, %v; project %+v", pa, err, got)
		}
		return store.VisibilityOf(got.Public, got.Internal)
	}
	if v := vis(); v != store.VisibilityInternal {
		t.Fatalf("created internal, reads %s", v)
	}
	mustProject(t, s, "closed", false)
	for _, tt := range []struct {
		name   string
		viewer store.Principal
		want   int
	}{{"authenticated", store.Principal{UserID: 99, Authenticated: true}, 1}, {"anonymous", store.Principal{}, 0}} {
		ps, n, err := s.PageProjects(ctx, &tt.viewer, store.ListQuery{})
		if err != nil || n != tt.want || len(ps) != tt.want {
			t.Errorf("PageProjects(%s) = %d projects (%d), %v; want %d (the internal one)", tt.name, len(ps), n, err, tt.want)
		}
	}
	for _, v := range []store.Visibility{store.VisibilityPublic, store.VisibilityPrivate, store.VisibilityInternal} {
		if err := s.SetProjectVisibility(ctx, "inside", v); err != nil {
			t.Fatal(err)
		}
		if got := vis(); got != v {
			t.Errorf("set %s, reads %s", v, got)
		}
	}
	if err := s.SetProjectPublic(ctx, "inside", true); err != nil {
		t.Fatal(err)
	}
	if got := vis(); got != store.VisibilityPublic {
		t.Errorf("public=true on an internal project reads %s", got)
	}
	if err := s.SetProjectPublic(ctx, "inside", false); err != nil {
		t.Fatal(err)
	}
	if got := vis(); got != store.VisibilityPrivate {
		t.Errorf("public=false reads %s, want private", got)
	}
	wantErrs(t, []errCase{
		{name: "missing project", call: func() error { return s.SetProjectVisibility(ctx, "ghost", store.VisibilityPublic) }, want: store.ErrNotFound},
		{name: "bad visibility", call: func() error { return s.SetProjectVisibility(ctx, "inside", "secret") }, want: errPlain},
	})
}

// testCredentialConditions covers allow_from on users and personal
// tokens, and a robot's repository patterns, networks and token lifetime.
func testCredentialConditions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustProject(t, s, "team", false)
	nets := []string{"10.0.0.0/8", "192.0.2.7/32"}
	if err := s.SetUserAllowFrom(ctx, "alice", nets); err != nil {
		t.Fatal(err)
	}
	if u := mustGetUser(t, s, "alice"); !reflect.DeepEqual(u.AllowFrom, nets) {
		t.Errorf("user allow_from = %v, want %v", u.AllowFrom, nets)
	}
	// ModifyUser keeps it.
	if _, err := s.ModifyUser(ctx, "alice", func(u store.User) (store.User, error) { u.Email = "x@y"; return u, nil }); err != nil {
		t.Fatal(err)
	}
	if u := mustGetUser(t, s, "alice"); !reflect.DeepEqual(u.AllowFrom, nets) {
		t.Errorf("after ModifyUser allow_from = %v", u.AllowFrom)
	}
	if err := s.SetUserAllowFrom(ctx, "alice", nil); err != nil {
		t.Fatal(err)
	}
	if u := mustGetUser(t, s, "alice"); u.AllowFrom != nil {
		t.Errorf("cleared allow_from = %v", u.AllowFrom)
	}
	wantErr(t, "SetUserAllowFrom(ghost)", s.SetUserAllowFrom(ctx, "ghost", nets), store.ErrNotFound)

	pat := store.PersonalToken{User: "alice", Name: "ci", Hash: "h-ci", AllowFrom: []string{"127.0.0.2/32"}}
	if err := s.CreatePersonalToken(ctx, &pat); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetPersonalToken(ctx, "h-ci"); err != nil || !reflect.DeepEqual(got.AllowFrom, pat.AllowFrom) {
		t.Errorf("PAT allow_from = %v, %v", got.AllowFrom, err)
	}

	rb := store.Robot{Name: "team+ci", Project: "team", Permissions: store.OneProject("team", "pull", "push"), SecretHash: "h",
		Repos: []string{"app-*", "base/**"}, AllowFrom: []string{"127.0.0.2/32"}, TokenLifetime: 2 * time.Hour}
	if err := s.CreateRobot(ctx, &rb); err != nil {
		t.Fatal(err)
	}
	check := func(what string, want store.Robot) {
		t.Helper()
		got, err := s.GetRobot(ctx, "team+ci")
		if err != nil || !reflect.DeepEqual(got.Repos, want.Repos) || !reflect.DeepEqual(got.AllowFrom, want.AllowFrom) ||
			got.TokenLifetime != want.TokenLifetime {
			t.Errorf("%s: robot = repos %v, allow_from %v, lifetime %v (%v); want %v, %v, %v", what, got.Repos, got.AllowFrom,
				got.TokenLifetime, err, want.Repos, want.AllowFrom, want.TokenLifetime)
		}
	}
	check("created", rb)
	if _, err := s.ModifyRobot(ctx, "team+ci", func(r store.Robot) (store.Robot, error) {
		r.Description = "kept"
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	check("modified elsewhere", rb)
	if _, err := s.ModifyRobot(ctx, "team+ci", func(r store.Robot) (store.Robot, error) {
		r.Repos, r.AllowFrom, r.TokenLifetime = nil, nil, 0
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	check("cleared", store.Robot{})
}

func mustGetUser(t *testing.T, s store.Store, name string) store.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), name)
	if err != nil {
		t.Fatalf("GetUser(%s): %v", name, err)
	}
	return u
}
