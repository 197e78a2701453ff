// Package pgtest hands tests a migrated PostgreSQL store in a fresh database (testenv.Postgres); only tests tagged integration use it.
package pgtest

import (
	"testing"

	"github.com/authserver/authserver/internal/store/postgres"
	"github.com/authserver/authserver/internal/testenv"
)

// Open returns a migrated PostgreSQL store in a new database (dropped when
// the test ends), closed when the test ends. The package's TestMain must be
// testenv.Main, which stops the server.
func Open(tb testing.TB) *postgres.Store {
	tb.Helper()
	ctx := tb.Context()
	st, err := postgres.Open(ctx, testenv.Postgres(tb))
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("pgtest: migrate: %v", err)
	}
	return st
}
