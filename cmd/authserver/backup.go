package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
)

// backupCmd copies the SQLite database while serve runs.
func (a *app) backupCmd() *cobra.Command {
	var to string
	cmd := a.configCmd("backup --to FILE", "Copy the SQLite database to a new file while the server runs (PostgreSQL: pg_dump)", func(cmd *cobra.Command, cfg authapp.Config) error {
		if to == "" {
			return fmt.Errorf("backup: --to FILE is required")
		}
		if err := authapp.Backup(cmd.Context(), cfg, to); err != nil {
			return err
		}
		abs, _ := filepath.Abs(to)
		fmt.Fprintf(a.stdout, "backed up %s to %s\n", cfg.Storage.DSN, abs)
		return nil
	})
	cmd.Flags().StringVar(&to, "to", "", "the new file to write (must not exist)")
	return cmd
}
