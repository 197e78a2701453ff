package admin_test

import (
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// TestSystemRobotPermissions: a system robot naming several projects, each
// with its own actions (Harbor v2), is the sysadmin's; a projectAdmin may
// only make robots of their own project; the permissions are checked
// (projects exist, none twice, valid actions) and read back ordered.
func TestSystemRobotPermissions(t *testing.T) {
	f := newRoleFixture(t, nil)
	ctx := t.Context()
	perm := func(project string, actions ...string) store.RobotPermission {
		return store.RobotPermission{Project: project, Actions: actions}
	}
	padmin := f.actors["padmin"]
	tests := []struct {
		name string
		who  admin.Actor
		nr   admin.NewRobot
		kind error
		msg  string
	}{
		{name: "projectAdmin: no system robot", who: padmin, kind: admin.ErrForbidden,
			nr: admin.NewRobot{Name: "s", Project: "*", Permissions: []store.RobotPermission{perm("team", "pull")}}},
		{name: "projectAdmin: not another project", who: padmin, kind: admin.ErrInvalid, msg: "a project robot acts on its own project only (team)",
			nr: admin.NewRobot{Name: "p", Project: "team", Permissions: []store.RobotPermission{perm("open", "pull")}}},
		{name: "projectAdmin: not two projects", who: padmin, kind: admin.ErrInvalid,
			nr: admin.NewRobot{Name: "p", Project: "team", Permissions: []store.RobotPermission{perm("team", "pull"), perm("open", "pull")}}},
		{name: "missing project", who: root, kind: admin.ErrNotFound, msg: "project nope not found",
			nr: admin.NewRobot{Name: "s", Project: "*", Permissions: []store.RobotPermission{perm("team", "pull"), perm("nope", "pull")}}},
		{name: "a project twice", who: root, kind: admin.ErrInvalid, msg: "project team is named twice",
			nr: admin.NewRobot{Name: "s", Project: "*", Permissions: []store.RobotPermission{perm("team", "pull"), perm("team", "push")}}},
		{name: "bad action", who: root, kind: admin.ErrInvalid,
			nr: admin.NewRobot{Name: "s", Project: "*", Permissions: []store.RobotPermission{perm("team", "read")}}},
		{name: "actions and permissions", who: root, kind: admin.ErrInvalid, msg: "robot: give actions or permissions, not both",
			nr: admin.NewRobot{Name: "s", Project: "*", Actions: []string{"pull"}, Permissions: []store.RobotPermission{perm("team", "pull")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.adm.CreateRobot(ctx, tt.who, tt.nr)
			wantErr(t, err, tt.kind, tt.msg)
		})
	}
	if rs, _ := f.st.ListRobots(ctx, store.SystemRobotProject); len(rs) != 0 {
		t.Fatalf("a refused robot was written: %+v", rs)
	}

	r, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "deployer", Project: "*",
		Permissions: []store.RobotPermission{perm("team", "push"), perm("open", "pull", "delete")}})
	f.must(t, err)
	want := []store.RobotPermission{perm("open", "pull", "delete"), perm("team", "pull", "push")}
	if r.Login != "robot$deployer" || !reflect.DeepEqual(r.Permissions, want) {
		t.Fatalf("created %s %+v, want %+v", r.Login, r.Permissions, want)
	}
	// --actions is for a robot with one permission; permissions replace.
	_, err = f.adm.UpdateRobot(ctx, root, f.robotID("deployer"), admin.RobotChange{Actions: []string{"pull"}})
	wantErr(t, err, admin.ErrInvalid, "robot robot$deployer names several projects: give its permissions")
	r, err = f.adm.UpdateRobot(ctx, root, f.robotID("deployer"), admin.RobotChange{Permissions: []store.RobotPermission{perm("*", "pull")}})
	f.must(t, err)
	if !reflect.DeepEqual(r.Permissions, []store.RobotPermission{perm("*", "pull")}) {
		t.Errorf("after UpdateRobot %+v", r.Permissions)
	}
	_, err = f.adm.UpdateRobot(ctx, padmin, f.robotID("deployer"), admin.RobotChange{Permissions: []store.RobotPermission{perm("team", "pull")}})
	wantErr(t, err, admin.ErrForbidden, "")
	// A project robot's --actions keep working, capped by the caller's role.
	_, err = f.adm.UpdateRobot(ctx, padmin, f.robotID("robot$team+ci"), admin.RobotChange{Actions: []string{"push"}})
	f.must(t, err)
	if rb, _ := f.st.GetRobot(ctx, "team+ci"); !reflect.DeepEqual(rb.Permissions, store.OneProject("team", "pull", "push")) {
		t.Errorf("project robot after UpdateRobot: %+v", rb.Permissions)
	}
}
