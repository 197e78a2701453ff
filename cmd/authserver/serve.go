package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

func (a *app) serveCmd() *cobra.Command {
	return a.configCmd("serve", "Run the token server", func(cmd *cobra.Command, cfg config.Config) error {
		return a.serve(cmd.Context(), cfg)
	})
}

func (a *app) serve(ctx context.Context, cfg config.Config) error {
	log := authapp.NewLogger(cfg, a.stderr)
	for _, w := range cfg.Warnings() {
		log.Warn("insecure configuration", "problem", w)
	}
	if cfg.Server.MetricsAddr == "" {
		log.Info("/metrics is served on the main listener; set server.metrics_addr to keep it off the clients' network")
	}
	srvApp, err := authapp.New(ctx, cfg, authapp.Options{Logger: log, Version: buildVersion(), Bootstrap: func(ctx context.Context, st store.Store, log *slog.Logger) error {
		return a.bootstrapAdmin(ctx, cfg, st, log)
	}})
	if err != nil {
		return err
	}
	defer srvApp.Close()
	srv := srvApp.HTTPServer()
	block, err := authapp.RegistryAuthBlock(cfg)
	if err != nil {
		return err
	}
	log.Info("authserver listening", "addr", cfg.Server.Addr, "tls", srv.TLSConfig != nil, "realm", srvApp.Server.Realm,
		"service", cfg.Token.Service, "issuer", cfg.Token.Issuer, "kid", srvApp.Keys.Issuer().Signer().KID(),
		"storage", cfg.Storage.Driver, "metrics_addr", cfg.Server.MetricsAddr, "version", buildVersion())
	if cfg.Log.Format == "json" {
		log.Info("registry auth block", "config_yml", block)
	} else {
		// Plain text so it can be pasted into the registry's config.yml.
		fmt.Fprintf(a.stderr, "\nPoint the registry at authserver with this block in its config.yml:\n\n%s\n", block)
	}
	return srvApp.Run(ctx, srv)
}

// adminPasswordFile is where a generated bootstrap password is written: in
// the directory of the signing key (./data on the embedded default).
func adminPasswordFile(cfg config.Config) string {
	return filepath.Join(filepath.Dir(cfg.Token.Key), "admin-password")
}

// bootstrapAdmin creates the sysadmin "admin" when there are no users yet
// (see admin.Bootstrap), with $AUTHSERVER_ADMIN_PASSWORD or a random
// password. A random password is
// written to adminPasswordFile (mode 0600) before the user is created, so a
// password that cannot be saved never becomes the admin's; the log names the
// file, never the password.
func (a *app) bootstrapAdmin(ctx context.Context, cfg config.Config, st store.Store, log *slog.Logger) error {
	file := adminPasswordFile(cfg)
	saved := "" // the generated password, once in file
	created, _, err := authapp.NewAdmin(cfg, st, nil).Bootstrap(ctx, os.Getenv("AUTHSERVER_ADMIN_PASSWORD"), func(pw string) error {
		if err := writeSecretFile(file, pw+"\n"); err != nil {
			return fmt.Errorf("admin password: %w (or set $AUTHSERVER_ADMIN_PASSWORD)", err)
		}
		saved = pw
		return nil
	})
	if saved != "" && !created {
		// Ours is not the admin's password: do not leave it behind.
		if got, rerr := os.ReadFile(file); rerr == nil && string(got) == saved+"\n" {
			_ = os.Remove(file)
		}
	}
	switch {
	case err != nil || !created:
		return err
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
