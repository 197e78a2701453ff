package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

func robotEqual(a, b store.Robot) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Project == b.Project && reflect.DeepEqual(a.Permissions, b.Permissions) &&
		a.Description == b.Description && a.SecretHash == b.SecretHash && a.Disabled == b.Disabled &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		reflect.DeepEqual(a.Trust, b.Trust)
}

func testRobots(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustProject(t, s, "team", false)
	mustProject(t, s, "other", false)
	expires := day0.Add(30 * 24 * time.Hour)
	ci := store.Robot{Name: "team+ci", Project: "team", Permissions: store.OneProject("team", "pull", "push"), Description: "CI", SecretHash: "r1", ExpiresAt: expires}
	if err := s.CreateRobot(ctx, &ci); err != nil {
		t.Fatalf("CreateRobot: %v", err)
	}
	if ci.ID == 0 || ci.CreatedAt.IsZero() || !ci.UpdatedAt.Equal(ci.CreatedAt) {
		t.Errorf("CreateRobot wrote back %+v", ci)
	}
	sys := store.Robot{Name: "scanner", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"), SecretHash: "r2"}
	if err := s.CreateRobot(ctx, &sys); err != nil {
		t.Fatalf("CreateRobot(system): %v", err)
	}
	oth := store.Robot{Name: "other+ci", Project: "other", Permissions: store.OneProject("other", "pull", "push", "delete"), SecretHash: "r3"}
	if err := s.CreateRobot(ctx, &oth); err != nil {
		t.Fatalf("CreateRobot(other): %v", err)
	}

	createRobot := func(r store.Robot) func() error { return func() error { return s.CreateRobot(ctx, &r) } }
	wantErrs(t, []errCase{
		{name: "missing project", call: createRobot(store.Robot{Name: "nope+ci", Project: "nope", Permissions: store.OneProject("nope", "pull"), SecretHash: "x1"}), want: store.ErrNotFound},
		{name: "duplicate name", call: createRobot(store.Robot{Name: "team+ci", Project: "team", Permissions: store.OneProject("team", "pull"), SecretHash: "x2"}), want: store.ErrAlreadyExists},
	})
	// Robots are found by name, never by secret: two robots may have the
	// same secret hash (a unique one told a robot's manager whether ANY
	// robot had a candidate secret).
	twin := store.Robot{Name: "team+cd", Project: "team", Permissions: store.OneProject("team", "pull"), SecretHash: "r1"}
	if err := s.CreateRobot(ctx, &twin); err != nil {
		t.Errorf("CreateRobot(a secret hash another robot has): %v", err)
	}
	if _, err := s.ModifyRobot(ctx, "other+ci", func(r store.Robot) (store.Robot, error) { r.SecretHash = "r1"; return r, nil }); err != nil {
		t.Errorf("ModifyRobot(a secret hash another robot has): %v", err)
	}
	for _, name := range []string{"team+ci", "team+cd", "other+ci"} {
		if got, err := s.GetRobot(ctx, name); err != nil || got.SecretHash != "r1" {
			t.Errorf("GetRobot(%s) = %+v, %v; want secret hash r1", name, got, err)
		}
	}
	if err := s.DeleteRobot(ctx, "team+cd"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ModifyRobot(ctx, "other+ci", func(r store.Robot) (store.Robot, error) { r.SecretHash = "r3"; return r, nil }); err != nil {
		t.Fatal(err)
	}

	got, err := s.GetRobot(ctx, "team+ci")
	if err != nil || !robotEqual(got, ci) {
		t.Errorf("GetRobot = %+v, %v; want %+v", got, err, ci)
	}
	if got, err := s.GetRobot(ctx, "scanner"); err != nil || got.Project != store.SystemRobotProject || !got.ExpiresAt.IsZero() {
		t.Errorf("GetRobot(system) = %+v, %v", got, err)
	}
	_, err = s.GetRobot(ctx, "ghost")
	wantErr(t, "GetRobot(missing)", err, store.ErrNotFound)

	lists := []struct {
		name, project string
		want          []string
	}{
		{name: "all", project: "", want: []string{"other+ci", "scanner", "team+ci"}},
		{name: "system", project: store.SystemRobotProject, want: []string{"scanner"}},
		{name: "project", project: "team", want: []string{"team+ci"}},
		{name: "unknown project", project: "nope", want: nil},
	}
	for _, tt := range lists {
		t.Run("list "+tt.name, func(t *testing.T) {
			rs, err := s.ListRobots(ctx, tt.project)
			var names []string
			for _, r := range rs {
				names = append(names, r.Name)
			}
			if err != nil || !slices.Equal(names, tt.want) {
				t.Errorf("ListRobots(%q) = %v, %v; want %v", tt.project, names, err, tt.want)
			}
		})
	}

	ci.Disabled, ci.SecretHash, ci.ExpiresAt, ci.Permissions, ci.Description = true, "r1-new", time.Time{}, store.OneProject("team", "pull"), "changed"
	if err := s.UpdateRobot(ctx, ci); err != nil {
		t.Fatalf("UpdateRobot: %v", err)
	}
	got, _ = s.GetRobot(ctx, "team+ci")
	if !got.Disabled || got.SecretHash != "r1-new" || !got.ExpiresAt.IsZero() || !reflect.DeepEqual(got.Permissions, store.OneProject("team", "pull")) ||
		got.Description != "changed" || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("after UpdateRobot: %+v", got)
	}
	wantErr(t, "UpdateRobot(missing)", s.UpdateRobot(ctx, store.Robot{Name: "ghost", SecretHash: "g"}), store.ErrNotFound)
	if err := s.DeleteRobot(ctx, "scanner"); err != nil {
		t.Fatalf("DeleteRobot: %v", err)
	}
	wantErr(t, "DeleteRobot(again)", s.DeleteRobot(ctx, "scanner"), store.ErrNotFound)
	wantCascade(t, "robot", "project", func() error { return s.DeleteProject(ctx, "other") },
		func() error { _, err := s.GetRobot(ctx, "other+ci"); return err })
}

// testRobotPermissions: a system robot naming several projects (Harbor v2
// robots), each with its own actions, and "*" beside them; permissions come
// back ordered by project; a missing project is ErrNotFound and writes
// nothing; deleting a project deletes its entries, down to none (never
// every project).
func testRobotPermissions(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, p := range []string{"a", "b", "c"} {
		mustProject(t, s, p, false)
	}
	perm := func(project string, actions ...string) store.RobotPermission {
		return store.RobotPermission{Project: project, Actions: actions}
	}
	multi := store.Robot{Name: "multi", Project: store.SystemRobotProject, SecretHash: "p1",
		Permissions: []store.RobotPermission{perm("b", "pull"), perm("a", "pull", "push")}}
	if err := s.CreateRobot(ctx, &multi); err != nil {
		t.Fatalf("CreateRobot(multi): %v", err)
	}
	wide := store.Robot{Name: "wide", Project: store.SystemRobotProject, SecretHash: "p2",
		Permissions: []store.RobotPermission{perm("c", "pull", "push", "delete"), perm(store.SystemRobotProject, "pull")}}
	if err := s.CreateRobot(ctx, &wide); err != nil {
		t.Fatalf("CreateRobot(wide): %v", err)
	}
	want := func(name string, perms ...store.RobotPermission) {
		t.Helper()
		got, err := s.GetRobot(ctx, name)
		if perms == nil {
			perms = []store.RobotPermission{}
		}
		if err != nil || got.Project != store.SystemRobotProject || !reflect.DeepEqual(got.Permissions, perms) {
			t.Errorf("GetRobot(%s) = project %q, permissions %+v, %v; want %+v", name, got.Project, got.Permissions, err, perms)
		}
	}
	want("multi", perm("a", "pull", "push"), perm("b", "pull"))
	want("wide", perm(store.SystemRobotProject, "pull"), perm("c", "pull", "push", "delete"))

	// A missing project anywhere in the list: ErrNotFound, nothing written.
	ghost := store.Robot{Name: "ghost", Project: store.SystemRobotProject, SecretHash: "p3",
		Permissions: []store.RobotPermission{perm("a", "pull"), perm("nope", "pull")}}
	wantErr(t, "CreateRobot(missing project)", s.CreateRobot(ctx, &ghost), store.ErrNotFound)
	_, err := s.GetRobot(ctx, "ghost")
	wantErr(t, "GetRobot(ghost)", err, store.ErrNotFound)
	_, err = s.ModifyRobot(ctx, "multi", func(r store.Robot) (store.Robot, error) {
		r.Permissions = []store.RobotPermission{perm("nope", "pull")}
		return r, nil
	})
	wantErr(t, "ModifyRobot(missing project)", err, store.ErrNotFound)
	want("multi", perm("a", "pull", "push"), perm("b", "pull"))

	// Malformed permissions are refused (the caller validates; no sentinel).
	for name, r := range map[string]store.Robot{
		"system robot without permissions": {Name: "none", Project: store.SystemRobotProject, SecretHash: "p4"},
		"project robot on another project": {Name: "a+x", Project: "a", SecretHash: "p5", Permissions: store.OneProject("b", "pull")},
		"project robot on two projects": {Name: "a+y", Project: "a", SecretHash: "p6",
			Permissions: []store.RobotPermission{perm("a", "pull"), perm("b", "pull")}},
	} {
		if err := s.CreateRobot(ctx, &r); err == nil {
			t.Errorf("CreateRobot(%s) succeeded", name)
		}
	}

	// ModifyRobot replaces them.
	if _, err := s.ModifyRobot(ctx, "multi", func(r store.Robot) (store.Robot, error) {
		r.Permissions = []store.RobotPermission{perm("b", "pull", "push"), perm("c", "delete")}
		return r, nil
	}); err != nil {
		t.Fatalf("ModifyRobot: %v", err)
	}
	want("multi", perm("b", "pull", "push"), perm("c", "delete"))

	// Deleting projects deletes their entries: multi ends with none.
	for _, p := range []string{"b", "c"} {
		if err := s.DeleteProject(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	want("multi")
	want("wide", perm(store.SystemRobotProject, "pull"))
}

// testTrustedRobots covers federated robots: a trust policy instead of a
// secret, stored, listed, replaced, removed, and never both.
func testTrustedRobots(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustProject(t, s, "team", false)
	policy := &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{
		{Claim: "repository", Pattern: "org/app"}, {Claim: "/kubernetes.io/namespace", Pattern: "ci-*"}}}
	gh := store.Robot{Name: "team+gh", Project: "team", Permissions: store.OneProject("team", "pull", "push"), Trust: policy}
	if err := s.CreateRobot(ctx, &gh); err != nil {
		t.Fatalf("CreateRobot(trust): %v", err)
	}
	// A second federated robot (each has its own secret_hash marker).
	k8s := store.Robot{Name: "k8s", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"),
		Trust: &store.TrustPolicy{Issuer: "cluster", Conditions: []store.ClaimCondition{{Claim: "sub", Pattern: "system:serviceaccount:ci:builder"}}}}
	if err := s.CreateRobot(ctx, &k8s); err != nil {
		t.Fatalf("CreateRobot(second trust): %v", err)
	}
	got, err := s.GetRobot(ctx, "team+gh")
	if err != nil || !robotEqual(got, gh) || got.SecretHash != "" {
		t.Errorf("GetRobot = %+v, %v; want %+v with no secret hash", got, err, gh)
	}
	// What a read returns is the caller's: changing it changes no later read
	// (a store may cache decoded policies).
	if err == nil && got.Trust != nil {
		got.Trust.Conditions[0].Pattern = "changed by the caller"
		if again, _ := s.GetRobot(ctx, "team+gh"); !robotEqual(again, gh) {
			t.Errorf("GetRobot after the caller changed an earlier result = %+v", again.Trust)
		}
	}
	list, err := s.ListRobots(ctx, "")
	if err != nil || len(list) != 2 || list[0].Name != "k8s" || !reflect.DeepEqual(list[0].Trust, k8s.Trust) {
		t.Errorf("ListRobots = %+v, %v", list, err)
	}

	tests := []struct {
		name  string
		robot store.Robot
	}{
		{name: "both", robot: store.Robot{Name: "team+both", Project: "team", Permissions: store.OneProject("team", "pull"), SecretHash: "b1", Trust: policy}},
		{name: "neither", robot: store.Robot{Name: "team+none", Project: "team", Permissions: store.OneProject("team", "pull")}},
		{name: "no conditions", robot: store.Robot{Name: "team+empty", Project: "team", Permissions: store.OneProject("team", "pull"), Trust: &store.TrustPolicy{Issuer: "github"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.robot
			err := s.CreateRobot(ctx, &r)
			if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyExists) {
				t.Fatalf("CreateRobot = %v; want a plain error", err)
			}
			if _, err := s.GetRobot(ctx, r.Name); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("refused robot was stored: %v", err)
			}
		})
	}

	// Replacing the conditions; refusing a secret next to the policy.
	conds := []store.ClaimCondition{{Claim: "ref", Pattern: "refs/heads/main"}}
	upd, err := s.ModifyRobot(ctx, "team+gh", func(r store.Robot) (store.Robot, error) {
		r.Trust = &store.TrustPolicy{Issuer: r.Trust.Issuer, Conditions: conds}
		return r, nil
	})
	if err != nil || !reflect.DeepEqual(upd.Trust.Conditions, conds) {
		t.Fatalf("ModifyRobot(conditions) = %+v, %v", upd, err)
	}
	if got, _ := s.GetRobot(ctx, "team+gh"); !reflect.DeepEqual(got.Trust, upd.Trust) {
		t.Errorf("after ModifyRobot: %+v", got.Trust)
	}
	_, err = s.ModifyRobot(ctx, "team+gh", func(r store.Robot) (store.Robot, error) {
		r.SecretHash = "s1"
		return r, nil
	})
	if err == nil {
		t.Errorf("ModifyRobot accepted a secret next to a trust policy")
	}
	// Turning it into a secret robot drops the policy, and back.
	sec, err := s.ModifyRobot(ctx, "team+gh", func(r store.Robot) (store.Robot, error) {
		r.Trust, r.SecretHash = nil, "s1"
		return r, nil
	})
	if err != nil || sec.Trust != nil || sec.SecretHash != "s1" {
		t.Fatalf("ModifyRobot(to secret) = %+v, %v", sec, err)
	}
	if got, _ := s.GetRobot(ctx, "team+gh"); got.Trust != nil || got.SecretHash != "s1" {
		t.Errorf("after ModifyRobot(to secret): %+v", got)
	}
	// Deleting the robot deletes its policy.
	wantErr(t, "DeleteRobot", s.DeleteRobot(ctx, "k8s"), nil)
	again := store.Robot{Name: "k8s", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"), SecretHash: "k1"}
	if err := s.CreateRobot(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetRobot(ctx, "k8s"); got.Trust != nil {
		t.Errorf("a new robot inherited a deleted robot's policy: %+v", got.Trust)
	}
}

// testModifyRobot checks ModifyRobot as testModifyUser does ModifyUser.
func testModifyRobot(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustProject(t, s, "team", false)
	r := store.Robot{Name: "team+ci", Project: "team", Permissions: store.OneProject("team", "pull"), SecretHash: "h1"}
	if err := s.CreateRobot(ctx, &r); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	got, err := s.ModifyRobot(ctx, "team+ci", func(r store.Robot) (store.Robot, error) {
		r.Permissions, r.Description, r.SecretHash, r.Disabled, r.ExpiresAt = store.OneProject("team", "pull", "push"), "d", "h2", true, exp
		r.Name, r.Project = "other", "*" // ignored
		return r, nil
	})
	if err != nil {
		t.Fatalf("ModifyRobot: %v", err)
	}
	stored, _ := s.GetRobot(ctx, "team+ci")
	if got.ID != r.ID || got.Name != "team+ci" || got.Project != "team" || !reflect.DeepEqual(stored.Permissions, store.OneProject("team", "pull", "push")) ||
		stored.Description != "d" || stored.SecretHash != "h2" || !stored.Disabled ||
		!got.ExpiresAt.Equal(stored.ExpiresAt) || !got.UpdatedAt.Equal(stored.UpdatedAt) {
		t.Errorf("ModifyRobot returned %+v; stored %+v", got, stored)
	}
	refuse := errors.New("refused by fn")
	if _, err := s.ModifyRobot(ctx, "team+ci", func(r store.Robot) (store.Robot, error) { return r, refuse }); err != refuse {
		t.Errorf("ModifyRobot with a failing fn: error %v, want fn's error unchanged", err)
	}
	_, err = s.ModifyRobot(ctx, "ghost", func(r store.Robot) (store.Robot, error) { return r, nil })
	wantErr(t, "ModifyRobot(missing)", err, store.ErrNotFound)
}

// RunOrphanRobots checks that only an explicit system robot holds every
// project: a robot whose project link is lost (detach sets its project to
// none behind the store's back, as a bug, a manual repair or a future
// migration could) must read as Project "" — never SystemRobotProject — and
// must not be listed among the system robots. newStore is as for Run.
func RunOrphanRobots(t *testing.T, newStore func(t *testing.T) store.Store, detach func(t *testing.T, s store.Store, robot string)) {
	s := newStore(t)
	ctx := t.Context()
	mustProject(t, s, "team", false)
	for _, r := range []store.Robot{
		{Name: "team+ci", Project: "team", Permissions: store.OneProject("team", "pull"), SecretHash: "o1"},
		{Name: "scanner", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"), SecretHash: "o2"},
	} {
		if err := s.CreateRobot(ctx, &r); err != nil {
			t.Fatalf("CreateRobot(%s): %v", r.Name, err)
		}
	}
	detach(t, s, "team+ci")
	got, err := s.GetRobot(ctx, "team+ci")
	if err != nil || got.Project != "" {
		t.Errorf("GetRobot(orphan) = project %q, %v; want project \"\" (never %q)", got.Project, err, store.SystemRobotProject)
	}
	if got, err := s.GetRobot(ctx, "scanner"); err != nil || got.Project != store.SystemRobotProject {
		t.Errorf("GetRobot(system) = project %q, %v", got.Project, err)
	}
	rs, err := s.ListRobots(ctx, store.SystemRobotProject)
	if err != nil || len(rs) != 1 || rs[0].Name != "scanner" {
		t.Errorf("ListRobots(system) = %+v, %v; want only scanner", rs, err)
	}
}
