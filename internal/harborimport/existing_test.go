//go:build integration

package harborimport_test

import (
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/harborimport"
	"github.com/authserver/authserver/internal/harborimport/harbortest"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// TestExistingProject: a Harbor project whose name someone already made in
// authserver is skipped, naming its projectAdmins, and so are its members
// and robots: merging would hand that person Harbor's project and its CI
// robot. --merge-existing imports into it, the members staying; a project
// an earlier import made is merged without it.
func TestExistingProject(t *testing.T) {
	harborDSN := testenv.Postgres(t)
	harbortest.Fill(t, harborDSN)
	snap, err := harborimport.Read(t.Context(), harborDSN, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := sqlitetest.Open(t)
	adm := admin.New(st, admin.Options{RobotPrefix: "robot$", BcryptCost: 4})
	ctx := t.Context()
	mallory, err := adm.CreateUser(ctx, cli, admin.NewUser{Name: "mallory", Password: "Mallory-pw-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateProject(ctx, admin.Actor{Name: "mallory", UserID: mallory.ID, Method: "password"}, admin.NewProject{Name: "team"}); err != nil {
		t.Fatal(err)
	}

	rep := run(t, adm, snap, harborimport.Options{})
	if got := item(t, rep, "projects", "team"); got.Action != harborimport.Skipped ||
		got.Detail != "exists in authserver (projectAdmins: user mallory); --merge-existing imports into it, its members staying" {
		t.Errorf("team: %+v", got)
	}
	if got := item(t, rep, "members", "team: user alice"); got.Action != harborimport.Skipped {
		t.Errorf("a member of the skipped project: %+v", got)
	}
	if got := item(t, rep, "robots", "robot$team+ci"); got.Action != harborimport.Skipped {
		t.Errorf("a robot of the skipped project: %+v", got)
	}
	if got := item(t, rep, "projects", "library"); got.Action != harborimport.Created {
		t.Errorf("library: %+v", got)
	}

	// Again: library, made by the import, is merged; team still skipped.
	rep = run(t, adm, snap, harborimport.Options{})
	if got := item(t, rep, "projects", "library"); got.Action != harborimport.Unchanged {
		t.Errorf("library again: %+v", got)
	}
	rep = run(t, adm, snap, harborimport.Options{MergeExisting: true})
	if got := item(t, rep, "projects", "team"); got.Action != harborimport.Unchanged ||
		got.Detail != "private; merged into the project that existed in authserver (projectAdmins: user mallory)" {
		t.Errorf("team merged: %+v", got)
	}
	if got := item(t, rep, "robots", "robot$team+ci"); got.Action != harborimport.Created {
		t.Errorf("team's robot merged: %+v", got)
	}
}
