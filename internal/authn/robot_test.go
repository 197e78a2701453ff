package authn_test

import (
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// addRobot stores a robot with the hash of secret.
func addRobot(t *testing.T, st store.Store, name, project, secret string) {
	t.Helper()
	if err := st.CreateRobot(t.Context(), &store.Robot{Name: name, Project: project, Permissions: store.OneProject(project, "pull"),
		SecretHash: authn.HashSecret(secret)}); err != nil {
		t.Fatal(err)
	}
}

// A robot whose project is gone is refused: it never becomes a system robot.
func TestRobotWithoutProjectIsRefused(t *testing.T) {
	st := sqlitetest.Open(t)
	ctx := t.Context()
	if err := st.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	addRobot(t, st, "team+ci", "team", "ci-secret")
	addRobot(t, st, "scanner", store.SystemRobotProject, "scanner-secret")
	robots := authn.NewRobots(st, "robot$", newChain(t, st, nil), nil, nil)
	if _, ok, err := robots.Login(ctx, "robot$team+ci", "ci-secret"); !ok || err != nil {
		t.Fatalf("project robot before: %t, %v", ok, err)
	}
	// Lose the project link behind the store's back (a bug, a manual repair).
	if _, err := st.DB().ExecContext(ctx, `UPDATE robots SET project_id = NULL WHERE name = 'team+ci'`); err != nil {
		t.Fatal(err)
	}
	if id, ok, err := robots.Login(ctx, "robot$team+ci", "ci-secret"); ok || err != nil {
		t.Errorf("orphaned robot: %+v, %t, %v; want refused (401)", id.Robot, ok, err)
	}
	if id, ok, err := robots.Login(ctx, "robot$scanner", "scanner-secret"); !ok || err != nil || !reflect.DeepEqual(id.Robot.Permissions, store.OneProject(store.SystemRobotProject, "pull")) {
		t.Errorf("system robot: %+v, %t, %v", id.Robot, ok, err)
	}
}

// A system robot naming projects holds what its entries say; once every
// project it names is deleted it holds nothing and is refused, never
// widened to every project.
func TestSystemRobotLosesItsProjects(t *testing.T) {
	st := sqlitetest.Open(t)
	ctx := t.Context()
	for _, p := range []string{"team", "web"} {
		if err := st.CreateProject(ctx, &store.Project{Name: p}); err != nil {
			t.Fatal(err)
		}
	}
	perms := []store.RobotPermission{{Project: "team", Actions: []string{"pull", "push"}}, {Project: "web", Actions: []string{"pull"}}}
	if err := st.CreateRobot(ctx, &store.Robot{Name: "deployer", Project: store.SystemRobotProject, Permissions: perms,
		SecretHash: authn.HashSecret("deploy-secret")}); err != nil {
		t.Fatal(err)
	}
	robots := authn.NewRobots(st, "robot$", newChain(t, st, nil), nil, nil)
	if id, ok, err := robots.Login(ctx, "robot$deployer", "deploy-secret"); !ok || err != nil || !reflect.DeepEqual(id.Robot.Permissions, perms) {
		t.Fatalf("two projects: %+v, %t, %v", id.Robot, ok, err)
	}
	if err := st.DeleteProject(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if id, ok, err := robots.Login(ctx, "robot$deployer", "deploy-secret"); !ok || err != nil || !reflect.DeepEqual(id.Robot.Permissions, perms[1:]) {
		t.Fatalf("one project left: %+v, %t, %v", id.Robot, ok, err)
	}
	if err := st.DeleteProject(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if id, ok, err := robots.Login(ctx, "robot$deployer", "deploy-secret"); ok || err != nil {
		t.Errorf("no project left: %+v, %t, %v; want refused (401)", id.Robot, ok, err)
	}
}
