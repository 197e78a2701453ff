package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/store/storetest"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := open(t, filepath.Join(t.TempDir(), "sub", "authserver.db"))
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		return s
	})
}

func TestSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authserver.db")
	storetest.RunSharedDatabase(t, func(t *testing.T) store.Store { return open(t, path) })
}
