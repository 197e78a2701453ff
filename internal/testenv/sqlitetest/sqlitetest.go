// Package sqlitetest hands tests a migrated SQLite store in their temp dir.
package sqlitetest

import (
	"path/filepath"
	"testing"

	"github.com/authserver/authserver/internal/store/sqlite"
)

// Open returns a migrated SQLite store in a new file under tb.TempDir(),
// closed when the test ends.
func Open(tb testing.TB) *sqlite.Store {
	tb.Helper()
	ctx := tb.Context()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "authserver.db"))
	if err != nil {
		tb.Fatalf("sqlitetest: open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("sqlitetest: migrate: %v", err)
	}
	return st
}
