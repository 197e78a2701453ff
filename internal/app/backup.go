package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store/sqlite"
)

// Backup writes a consistent copy of the SQLite database of cfg to the new
// file to, while serve keeps running (sqlite.Backup). PostgreSQL is backed
// up with its own tools (pg_dump): Backup says so. Restore a copy by
// stopping authserver and putting the file at storage.dsn.
func Backup(ctx context.Context, cfg config.Config, to string) error {
	if cfg.Storage.Driver != "sqlite" {
		return errors.New("backup: storage.driver is " + cfg.Storage.Driver +
			": back PostgreSQL up with pg_dump (docs/OPERATIONS.md); this command copies SQLite databases")
	}
	dsn, err := filepath.Abs(cfg.Storage.DSN)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: no database at %s (storage.dsn); --config names another", dsn)
	}
	st, err := sqlite.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	return sqlite.Backup(ctx, st, to)
}
