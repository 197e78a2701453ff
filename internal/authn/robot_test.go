package authn_test

import (
	"reflect"
	"slices"
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
	chosen, err := authn.HashPassword("Chosen-secret-1", 4)
	if err != nil {
		t.Fatal(err)
	}
	harbor, err := authn.HarborSecretHash("salt", "83d3d6f3e7cacb040423adf7ced63d21") // PBKDF2-SHA256("content", "salt", 4096, 16)
	if err != nil {
		t.Fatal(err)
	}
	forms := []struct{ name, hash, secret string }{
		{"generated", authn.HashSecret("generated-secret"), "generated-secret"},
		{"harbor", harbor, "content"},
		{"chosen", chosen, "Chosen-secret-1"},
	}
	for _, f := range forms {
		if err := st.CreateRobot(ctx, &store.Robot{Name: "team+" + f.name, Project: "team", Permissions: store.OneProject("team", "pull"),
			SecretHash: f.hash}); err != nil {
			t.Fatal(err)
		}
	}
	robots := authn.NewRobots(st, "robot$", newChain(t, st, nil), nil, nil)
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			if authn.SlowSecretHash(f.hash) != (f.name != "generated") {
				t.Errorf("SlowSecretHash = %v", authn.SlowSecretHash(f.hash))
			}
			if _, ok, err := robots.Login(ctx, "robot$team+"+f.name, f.secret); !ok || err != nil {
				t.Errorf("right secret: %t, %v", ok, err)
			}
			before := robots.Dummy().Runs()
			if _, ok, err := robots.Login(ctx, "robot$team+"+f.name, f.secret+"x"); ok || err != nil {
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
			other := forms[(slices.IndexFunc(forms, func(g struct{ name, hash, secret string }) bool { return g.name == f.name })+1)%len(forms)]
			if _, ok, _ := robots.Login(ctx, "robot$team+"+f.name, other.secret); ok {
				t.Errorf("logged in with %s's secret", other.name)
			}
		})
	}
}
