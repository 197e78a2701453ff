// Package apptest builds the whole authserver stack (internal/app) for tests, over SQLite in a temp dir.
package apptest

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/testenv"
)

// Config is the embedded default pointed at a fresh directory: a SQLite
// store and the test process's RSA-2048 key pair (testenv.KeyPair) in it,
// the realm http://auth.test/service/token, bcrypt cost 4, and none of
// the parts a test of the token endpoint does not ask for: no credential
// cache, no token reuse, no audit, no throttling.
func Config(tb testing.TB) config.Config {
	tb.Helper()
	dir := tb.TempDir()
	cfg := config.Defaults()
	cfg.Server.PublicURL = "http://auth.test"
	cfg.Storage.DSN = filepath.Join(dir, "authserver.db")
	cfg.Token.Key, cfg.Token.Certificate = testenv.KeyPair(tb, dir)
	cfg.Token.GenerateKey = false
	cfg.Token.ReuseWindow = 0
	cfg.Passwords.BcryptCost = 4
	cfg.Cache.CredentialsTTL = 0
	cfg.Audit.Enabled = false
	cfg.Throttle.Enabled = false
	return cfg
}

// New builds the stack of cfg (see app.New), closed when the test ends.
func New(tb testing.TB, cfg config.Config, opts app.Options) *app.App {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a, err := app.New(tb.Context(), cfg, opts)
	if err != nil {
		tb.Fatalf("apptest: %v", err)
	}
	tb.Cleanup(a.Close)
	return a
}
