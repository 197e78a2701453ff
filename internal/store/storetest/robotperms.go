package storetest

import (
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

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
