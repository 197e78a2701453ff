// Package pgtest hands tests a migrated PostgreSQL store in a fresh database (testenv.Postgres); only tests tagged integration use it.
package pgtest

import (
	"context"
	"testing"

	"github.com/authserver/authserver/internal/store/postgres"
	"github.com/authserver/authserver/internal/testenv"
)

// Open returns a migrated PostgreSQL store in a new database (dropped when
// the test ends), closed when the test ends. The package's TestMain must be
// testenv.Main, which stops the server.
func Open(tb testing.TB) *postgres.Store {
	tb.Helper()
	dsn := testenv.Postgres(tb)
	return testenv.Migrated(tb, "pgtest", func(ctx context.Context) (*postgres.Store, error) { return postgres.Open(ctx, dsn) })
}
