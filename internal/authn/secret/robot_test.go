package secret_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// A robot whose project is gone is refused: it never becomes a system robot.
func TestRobotWithoutProjectIsRefused(t *testing.T) {
	st := sqlitetest.Open(t)
	ctx := t.Context()
	if err := st.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	authntest.AddRobot(t, st, "team+ci", "team", "ci-secret")
	authntest.AddRobot(t, st, "scanner", store.SystemRobotProject, "scanner-secret")
	robots := secret.NewRobots(st, "robot$", authntest.NewChain(t, st, nil), nil, nil)
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
		SecretHash: secret.Hash("deploy-secret")}); err != nil {
		t.Fatal(err)
	}
	robots := secret.NewRobots(st, "robot$", authntest.NewChain(t, st, nil), nil, nil)
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

// TestRobotSecretForms: a robot logs in with its secret in whichever form
// it is stored, found by its name: a generated secret's SHA-256, an
// imported Harbor PBKDF2 hash, or bcrypt for a secret the caller chose
// (a slow check, as Harbor's is; its refusal runs no second, dummy bcrypt).
func TestRobotSecretForms(t *testing.T) {
	st := sqlitetest.Open(t)
	ctx := t.Context()
	if err := st.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	chosen, err := secret.HashPassword("Chosen-secret-1", 4)
	if err != nil {
		t.Fatal(err)
	}
	harbor, err := secret.HarborSecretHash("salt", "83d3d6f3e7cacb040423adf7ced63d21") // PBKDF2-SHA256("content", "salt", 4096, 16)
	if err != nil {
		t.Fatal(err)
	}
	forms := []struct{ name, hash, sec string }{
		{"generated", secret.Hash("generated-secret"), "generated-secret"},
		{"harbor", harbor, "content"},
		{"chosen", chosen, "Chosen-secret-1"},
	}
	for _, f := range forms {
		if err := st.CreateRobot(ctx, &store.Robot{Name: "team+" + f.name, Project: "team", Permissions: store.OneProject("team", "pull"),
			SecretHash: f.hash}); err != nil {
			t.Fatal(err)
		}
	}
	robots := secret.NewRobots(st, "robot$", authntest.NewChain(t, st, nil), nil, nil)
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			if secret.SlowHash(f.hash) != (f.name != "generated") {
				t.Errorf("SlowSecretHash = %v", secret.SlowHash(f.hash))
			}
			if _, ok, err := robots.Login(ctx, "robot$team+"+f.name, f.sec); !ok || err != nil {
				t.Errorf("right secret: %t, %v", ok, err)
			}
			before := robots.Dummy().Runs()
			if _, ok, err := robots.Login(ctx, "robot$team+"+f.name, f.sec+"x"); ok || err != nil {
				t.Errorf("wrong secret: %t, %v", ok, err)
			}
			wantDummy := int64(1)
			if f.name == "chosen" {
				wantDummy = 0
			}
			if got := robots.Dummy().Runs() - before; got != wantDummy {
				t.Errorf("a refusal ran the dummy %d times, want %d", got, wantDummy)
			}
			// Another robot's secret does not open this one.
			other := forms[(slices.IndexFunc(forms, func(g struct{ name, hash, sec string }) bool { return g.name == f.name })+1)%len(forms)]
			if _, ok, _ := robots.Login(ctx, "robot$team+"+f.name, other.sec); ok {
				t.Errorf("logged in with %s's secret", other.name)
			}
		})
	}
}
