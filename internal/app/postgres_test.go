//go:build integration

package app_test

import (
	"testing"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/testenv"
)

// integrationBackends adds PostgreSQL to every apiBackends test.
var integrationBackends = []apiBackend{{"postgres", func(t *testing.T, cfg *config.Config) {
	cfg.Storage.Driver, cfg.Storage.DSN = "postgres", testenv.Postgres(t)
}}}

func TestMain(m *testing.M) { testenv.Main(m) }

// TestSimultaneousBootstrapPostgres: five replicas starting at once on an
// empty PostgreSQL database (the advisory lock).
func TestSimultaneousBootstrapPostgres(t *testing.T) {
	dir := t.TempDir()
	cfg := bootstrapConfig(t, dir)
	cfg.Storage.Driver, cfg.Storage.DSN = "postgres", testenv.Postgres(t)
	simultaneousBootstrap(t, cfg, dir)
}

// TestStoreReadsHonourOtherWritersPostgres: the same with two replicas on
// one PostgreSQL database, the changes made by the other replica's store.
func TestStoreReadsHonourOtherWritersPostgres(t *testing.T) {
	storeReadsHonourOtherWriters(t, func(cfg *config.Config) {
		cfg.Storage.Driver, cfg.Storage.DSN = "postgres", testenv.Postgres(t)
	})
}
