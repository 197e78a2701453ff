package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/migrations"
)

// MigratingStore is a backend that can be brought to any schema version:
// BeginMigration applies one migration (store.ApplyMigrations), Migrate the
// rest (sqldb.Store).
type MigratingStore interface {
	store.Store
	Migrator
	BeginMigration(ctx context.Context) (store.MigrationTx, error)
}

// RunCredentialMigration checks migration 0011 on a database that already
// holds credentials: open returns a new, unmigrated store on a fresh
// database of the dialect whose migrations folder is dir ("sqlite",
// "postgres"). Robots keep their ids, permissions, trust policies and
// secrets; a deleted robot's id is not handed out again; afterwards two
// robots may share a secret hash, and a user's change revokes nothing by
// itself.
func RunCredentialMigration(t *testing.T, dir string, open func(t *testing.T) MigratingStore) {
	ctx := t.Context()
	s := open(t)
	ms, err := store.LoadMigrations(migrations.FS, dir)
	if err != nil {
		t.Fatal(err)
	}
	// 0013 (password_verified_at) and 0040-0043 (SSO: a refresh token's
	// sign-in and expiry) are applied early: today's statements, which
	// write the rows below, name their columns, and they touch nothing
	// 0011 rebuilds.
	early := func(v int) bool { return v == 13 || (v >= 40 && v <= 43) }
	before := slices.DeleteFunc(ms, func(m store.Migration) bool { return m.Version >= 11 && !early(m.Version) })
	if err := store.ApplyMigrations(ctx, before, s.BeginMigration); err != nil {
		t.Fatal(err)
	}

	// The schema of 0010, written through the store (its statements are
	// the same on both schemas).
	alice := oldUser(t, s, "alice")
	oldProjects(t, s, "team", "web")
	robots := []store.Robot{
		{Name: "team+ci", Project: "team", Permissions: store.OneProject("team", "pull", "push"), Description: "CI",
			SecretHash: "h1", ExpiresAt: day0},
		{Name: "deployer", Project: store.SystemRobotProject, SecretHash: "h2", Disabled: true,
			Permissions: []store.RobotPermission{{Project: "team", Actions: []string{"pull"}}, {Project: "web", Actions: []string{"pull", "push"}}}},
		{Name: "team+gh", Project: "team", Permissions: store.OneProject("team", "pull"),
			Trust: &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{{Claim: "repository", Pattern: "org/*"}}}},
		{Name: "gone", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"), SecretHash: "h3"},
	}
	for i := range robots {
		if err := s.CreateRobot(ctx, &robots[i]); err != nil {
			t.Fatalf("CreateRobot(%s): %v", robots[i].Name, err)
		}
	}
	if err := s.DeleteRobot(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	gone, robots := robots[3], robots[:3]
	mustRefresh(t, s, alice.ID, "rt-1", day0)

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from 0010: %v", err)
	}
	for _, want := range robots {
		got, err := s.GetRobot(ctx, want.Name)
		if err != nil || !robotEqual(got, want) {
			t.Errorf("after 0011 GetRobot(%s) = %+v, %v; want %+v", want.Name, got, err, want)
		}
	}
	twin := store.Robot{Name: "web+twin", Project: "web", Permissions: store.OneProject("web", "pull"), SecretHash: "h1"}
	if err := s.CreateRobot(ctx, &twin); err != nil {
		t.Fatalf("CreateRobot(a secret hash team+ci has): %v", err)
	}
	if twin.ID <= gone.ID {
		t.Errorf("new robot got id %d; the deleted robot had %d (ids must not be reused)", twin.ID, gone.ID)
	}
	// The foreign keys still hold both ways: a project's deletion takes its
	// robots and the system robot's entry for it.
	if err := s.DeleteProject(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRobot(ctx, "team+ci"); err == nil {
		t.Error("team+ci survived its project")
	}
	if got, err := s.GetRobot(ctx, "deployer"); err != nil || !slices.EqualFunc(got.Permissions,
		[]store.RobotPermission{{Project: "web", Actions: []string{"pull", "push"}}}, robotPermEqual) {
		t.Errorf("deployer after deleting team = %+v, %v; want only web", got.Permissions, err)
	}
	if _, err := s.GetRefreshToken(ctx, "rt-1"); err != nil {
		t.Errorf("refresh token lost in the migration: %v", err)
	}
	// 0003's trigger is gone: revoking is admin's rule, not the schema's.
	if _, err := s.ModifyUser(ctx, "alice", func(u store.User) (store.User, error) {
		u.PasswordHash, u.Disabled = "$2a$04$changed", true
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRefreshToken(ctx, "rt-1"); err != nil {
		t.Errorf("a password change after 0011 revoked a refresh token by itself: %v", err)
	}
}

func robotPermEqual(a, b store.RobotPermission) bool {
	return a.Project == b.Project && slices.Equal(a.Actions, b.Actions)
}

// oldUser makes the first user of a fresh database with the columns of
// 0001 (later migrations add some the store writes); its ID is 1.
func oldUser(t *testing.T, s MigratingStore, name string) store.User {
	t.Helper()
	ctx := t.Context()
	tx, err := s.BeginMigration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Exec(ctx, "INSERT INTO users (name, email, created_at, updated_at) VALUES ('"+name+"', '', "+
		"'2026-01-02T03:04:05.000000Z', '2026-01-02T03:04:05.000000Z')"); err != nil {
		tx.Rollback(ctx)
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return store.User{ID: 1, Name: name}
}

// oldProjects makes private projects with the columns of 0001 (later
// migrations add some the store writes).
func oldProjects(t *testing.T, s MigratingStore, names ...string) {
	t.Helper()
	ctx := t.Context()
	tx, err := s.BeginMigration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := tx.Exec(ctx, "INSERT INTO projects (name, public, created_at) VALUES ('"+n+"', FALSE, '2026-01-02T03:04:05.000000Z')"); err != nil {
			tx.Rollback(ctx)
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
