package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// TestMissingKeyWritesNothing: a config whose signing key does not exist
// (and that does not ask for one to be made) fails at start with how to
// fix it — keygen or token.generate_key — and leaves nothing behind: no
// database, no generated admin password.
func TestMissingKeyWritesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.Token.GenerateKey = false
	cfg.Token.Key, cfg.Token.Certificate = filepath.Join(dir, "keys", "token.key"), filepath.Join(dir, "keys", "token.crt")
	cfg.Storage.DSN = filepath.Join(dir, "db", "authserver.db")
	_, err := app.New(context.Background(), cfg, app.Options{Logger: slog.New(slog.DiscardHandler), Bootstrap: func(ctx context.Context, st store.Store, log *slog.Logger) error {
		return app.BootstrapAdmin(ctx, cfg, st, log)
	}})
	if err == nil || !strings.Contains(err.Error(), "authserver keygen --dir "+filepath.Join(dir, "keys")) ||
		!strings.Contains(err.Error(), "token.generate_key: true") {
		t.Fatalf("start without a key: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("a failed start left %v behind", entries)
	}
}
