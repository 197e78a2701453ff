package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/store/storetest"
)

// open opens the file at path, migrated when migrate is set.
func open(t testing.TB, path string, migrate bool) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if migrate {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "sub", "authserver.db"), true)
	})
}

func TestOrphanRobots(t *testing.T) {
	storetest.RunOrphanRobots(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "authserver.db"), true)
	}, func(t *testing.T, s store.Store, robot string) {
		if _, err := s.(*sqlite.Store).DB().ExecContext(t.Context(), `UPDATE robots SET project_id = NULL WHERE name = ?`, robot); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authserver.db")
	storetest.RunSharedDatabase(t, func(t *testing.T) store.Store { return open(t, path, false) })
}

func TestFileIsPrivate(t *testing.T) {
	path := t.TempDir() + "/db.sqlite"
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %v: password hashes readable by others", p, mode)
		}
	}
}
