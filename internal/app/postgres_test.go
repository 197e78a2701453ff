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
