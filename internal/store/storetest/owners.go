package storetest

import (
	"testing"

	"github.com/authserver/authserver/internal/store"
)

// testOwners checks a project's owner and source as written and read,
// CountOwnedProjects and CountAdmins (enabled sysadmins only), and that
// deleting the owner leaves the project without one.
func testOwners(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustUser(t, s, "alice")
	p := store.Project{Name: "team", OwnerID: alice.ID}
	if err := s.CreateProject(ctx, &p); err != nil || p.OwnerName != "alice" || p.Source != store.ProjectSourceLocal {
		t.Fatalf("CreateProject = %+v, %v", p, err)
	}
	imported := store.Project{Name: "imported", Source: store.ProjectSourceHarbor}
	if err := s.CreateProject(ctx, &imported); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetProject(ctx, "team")
	if err != nil || got != p {
		t.Errorf("GetProject = %+v, %v; want %+v", got, err, p)
	}
	if got, err := s.GetProject(ctx, "imported"); err != nil || got.OwnerID != 0 || got.OwnerName != "" || got.Source != store.ProjectSourceHarbor {
		t.Errorf("imported project = %+v, %v", got, err)
	}
	bad := store.Project{Name: "orphan", OwnerID: 1 << 40}
	wantErr(t, "CreateProject with a missing owner", s.CreateProject(ctx, &bad), store.ErrNotFound)
	if n, err := s.CountOwnedProjects(ctx, alice.ID); err != nil || n != 1 {
		t.Errorf("CountOwnedProjects = %d, %v; want 1", n, err)
	}

	if n, err := s.CountAdmins(ctx); err != nil || n != 0 {
		t.Errorf("CountAdmins = %d, %v; want 0", n, err)
	}
	for i, name := range []string{"root", "boss", "gone"} {
		u := store.User{Name: name, Admin: true, Disabled: i == 2}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountAdmins(ctx); err != nil || n != 2 {
		t.Errorf("CountAdmins = %d, %v; want 2 (a disabled sysadmin is not counted)", n, err)
	}

	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetProject(ctx, "team"); err != nil || got.OwnerID != 0 || got.OwnerName != "" {
		t.Errorf("team after its owner was deleted: %+v, %v", got, err)
	}
}
