package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// adminPasswordFile is where a generated bootstrap password is written: in
// the directory of the signing key (./data on the embedded default).
func adminPasswordFile(cfg config.Config) string {
	return filepath.Join(filepath.Dir(cfg.Token.Key), "admin-password")
}

// BootstrapAdmin creates the sysadmin "admin" when there are no users yet
// (see admin.Bootstrap), with $AUTHSERVER_ADMIN_PASSWORD or a random
// password: serve runs it as its Options.Bootstrap. It runs under the
// database lock "bootstrap-admin" (store.Exclusively), so of replicas
// starting together on an empty database exactly one creates the admin
// and writes its password; the others wait, find users and say so. A
// random password is written to adminPasswordFile (mode 0600) before the
// user is created, so a password that cannot be saved never becomes the
// admin's; the log names the file, never the password.
func BootstrapAdmin(ctx context.Context, cfg config.Config, st store.Store, log *slog.Logger) error {
	file := adminPasswordFile(cfg)
	saved := "" // the generated password, once in file
	created := false
	err := st.Exclusively(ctx, "bootstrap-admin", func(tx store.Store) error {
		var err error
		created, _, err = admin.New(tx, adminOptions(cfg, nil)).Bootstrap(ctx, os.Getenv("AUTHSERVER_ADMIN_PASSWORD"), func(pw string) error {
			if err := writeSecretFile(file, pw+"\n"); err != nil {
				return fmt.Errorf("admin password: %w (or set $AUTHSERVER_ADMIN_PASSWORD)", err)
			}
			saved = pw
			return nil
		})
		return err
	})
	created = created && err == nil // a failed commit created nothing
	if saved != "" && !created {
		// Ours is not the admin's password: do not leave it behind.
		if got, rerr := os.ReadFile(file); rerr == nil && string(got) == saved+"\n" {
			_ = os.Remove(file)
		}
	}
	switch {
	case errors.Is(err, admin.ErrInvalid):
		return fmt.Errorf("$AUTHSERVER_ADMIN_PASSWORD: %w", err)
	case err != nil:
		return err
	case !created && os.Getenv("AUTHSERVER_ADMIN_PASSWORD") != "":
		// Say so: whoever set it may think it is admin's password now.
		log.Warn("$AUTHSERVER_ADMIN_PASSWORD is set but ignored: the database has users already, so no bootstrap sysadmin is created; " +
			"change admin's password with `authserver user passwd admin`, and unset the variable")
	case !created:
		log.Info("not creating the bootstrap sysadmin: the database has users (created by another replica or an earlier start)")
	case saved != "":
		log.Warn("created sysadmin admin with a generated password; read it from the file, then change it with `authserver user passwd admin` and delete the file",
			"password_file", file)
	default:
		log.Info("created sysadmin admin with the password from $AUTHSERVER_ADMIN_PASSWORD")
	}
	return nil
}

// writeSecretFile replaces path with data, readable by the owner only. The
// data goes to a new file (created 0600) that is renamed into place, so an
// existing file's wider mode is never inherited.
func writeSecretFile(path, data string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".admin-password-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
