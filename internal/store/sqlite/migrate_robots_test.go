package sqlite_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/store/storetest"
	"github.com/authserver/authserver/migrations"
)

// Migration 0005 keeps the robots created as system robots (no project)
// system robots, and project robots project robots; 0010 gives each its
// actions as one permission, on every project or on its own.
func TestMigrateSystemRobots(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "authserver.db"), false)
	ms, err := store.LoadMigrations(migrations.FS, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ApplyMigrations(ctx, ms[:4], s.BeginMigration); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO projects (name, public, created_at) VALUES ('team', 0, '2026-01-01T00:00:00.000000Z');
		INSERT INTO robots (name, project_id, actions, secret_hash, created_at, updated_at) VALUES
			('scanner', NULL, 'pull', 'h1', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
			('team+ci', (SELECT id FROM projects WHERE name = 'team'), 'pull', 'h2', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"scanner": store.SystemRobotProject, "team+ci": "team"} {
		if r, err := s.GetRobot(ctx, name); err != nil || r.Project != want || !reflect.DeepEqual(r.Permissions, store.OneProject(want, "pull")) {
			t.Errorf("GetRobot(%s) = project %q, permissions %+v, %v; want %q with pull", name, r.Project, r.Permissions, err, want)
		}
	}
}

// Migration 0011 rebuilds the robots table (SQLite cannot drop an inline
// UNIQUE constraint): rows, ids, permissions and foreign keys survive.
func TestCredentialMigration(t *testing.T) {
	var s *sqlite.Store
	storetest.RunCredentialMigration(t, "sqlite", func(t *testing.T) storetest.MigratingStore {
		s = open(t, filepath.Join(t.TempDir(), "authserver.db"), false)
		return s
	})
	for _, check := range []string{"PRAGMA foreign_key_check", "PRAGMA integrity_check"} {
		rows, err := s.DB().QueryContext(t.Context(), check)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			for i := range vals {
				vals[i] = new(any)
			}
			if err := rows.Scan(vals...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(*vals[0].(*any)))
		}
		rows.Close()
		if check == "PRAGMA integrity_check" && (len(out) != 1 || out[0] != "ok") || check == "PRAGMA foreign_key_check" && len(out) != 0 {
			t.Errorf("%s: %v", check, out)
		}
	}
}
