// Package sqlitetest hands tests a migrated SQLite store in their temp dir.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/testenv"
)

// Open returns a migrated SQLite store in a new file under tb.TempDir(),
// closed when the test ends.
func Open(tb testing.TB) *sqlite.Store {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "authserver.db")
	return testenv.Migrated(tb, "sqlitetest", func(ctx context.Context) (*sqlite.Store, error) { return sqlite.Open(ctx, path) })
}
