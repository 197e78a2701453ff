package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/token"
)

func (a *app) serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the token server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			return a.serve(cmd.Context(), cfg)
		},
	}
}

func (a *app) serve(ctx context.Context, cfg config.Config) error {
	log := newLogger(cfg, a.stderr)
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := a.bootstrapAdmin(ctx, cfg, st, log); err != nil {
		return err
	}
	issuer, err := newIssuer(cfg, log)
	if err != nil {
		return err
	}
	local, err := authn.NewLocal(st, cfg.Passwords.BcryptCost)
	if err != nil {
		return err
	}
	// Local users, or local users then LDAP (see ldap.go).
	logins, checkers, closeLDAP, err := passwordBackends(cfg, st, local, log)
	if err != nil {
		return err
	}
	defer closeLDAP()
	passwords, refresher := credentialAuthenticators(cfg, st, logins, checkers, log)
	realm := cfg.RealmBase() + "/service/token"
	handler := server.New(server.Options{
		Logger:     log,
		Passwords:  passwords,
		Refresh:    refresher,
		Authorizer: authz.New(st),
		Issuer:     issuer,
		Realm:      realm,
	})
	srv := &http.Server{
		Addr:              cfg.Server.Addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	block, err := registryAuthBlock(cfg)
	if err != nil {
		return err
	}
	log.Info("authserver listening", "addr", cfg.Server.Addr, "realm", realm, "service", cfg.Token.Service,
		"issuer", cfg.Token.Issuer, "kid", issuer.Signer().KID(), "storage", cfg.Storage.Driver, "version", buildVersion())
	if cfg.Log.Format == "json" {
		log.Info("registry auth block", "config_yml", block)
	} else {
		// Plain text so it can be pasted into the registry's config.yml.
		fmt.Fprintf(a.stderr, "\nPoint the registry at authserver with this block in its config.yml:\n\n%s\n", block)
	}
	if err := server.Serve(ctx, srv, 25*time.Second); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("authserver stopped")
	return nil
}

// newIssuer loads (or, on the embedded default's first start, generates) the
// signing key and builds the token issuer.
func newIssuer(cfg config.Config, log *slog.Logger) (*token.Issuer, error) {
	if cfg.Token.GenerateKey {
		created, err := token.EnsureKeyPair(cfg.Token.Key, cfg.Token.Certificate)
		if err != nil {
			return nil, err
		}
		if created {
			log.Info("generated a new signing key", "key", cfg.Token.Key, "certificate", cfg.Token.Certificate)
		}
	}
	signer, err := token.NewSigner(cfg.Token.Key, cfg.Token.Certificate, cfg.Token.KID)
	if err != nil {
		return nil, err
	}
	return token.NewIssuer(signer, cfg.Token.Issuer, cfg.Token.Service, cfg.Token.Expiration.D()), nil
}

// bootstrapAdmin creates the sysadmin "admin" when there are no users yet,
// with $AUTHSERVER_ADMIN_PASSWORD or a random password printed once.
func (a *app) bootstrapAdmin(ctx context.Context, cfg config.Config, st store.Store, log *slog.Logger) error {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw := os.Getenv("AUTHSERVER_ADMIN_PASSWORD")
	generated := pw == ""
	if generated {
		var b [18]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		pw = base64.RawURLEncoding.EncodeToString(b[:])
	}
	hash, err := authn.HashPassword(pw, cfg.Passwords.BcryptCost)
	if err != nil {
		return fmt.Errorf("admin password: %w", err)
	}
	u := store.User{Name: "admin", PasswordHash: hash, Admin: true, Source: store.SourceLocal}
	if err := st.CreateUser(ctx, &u); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return nil // another process bootstrapped it first
		}
		return fmt.Errorf("create admin: %w", err)
	}
	if generated {
		// Printed, not logged: it must not end up in log storage.
		fmt.Fprintf(a.stderr, "\n  Created sysadmin \"admin\" with password: %s\n  It is shown only once; change it with `authserver user passwd admin`.\n\n", pw)
	} else {
		log.Info("created sysadmin admin with the password from $AUTHSERVER_ADMIN_PASSWORD")
	}
	return nil
}

// absPath makes p absolute, so the printed registry config works from any
// working directory.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// credentialAuthenticators puts robots and personal access tokens in front
// of the password backends (so robot secrets and PATs, recognised by their
// prefixes, never reach bcrypt or LDAP) and builds the refresh token
// service. checkers re-check users of outside sources (LDAP) when a refresh
// token or PAT stands in for their password; without one, such users'
// refresh tokens and PATs are refused.
func credentialAuthenticators(cfg config.Config, st store.Store, passwords authn.PasswordAuthenticator,
	checkers map[string]authn.UserChecker, log *slog.Logger) (authn.PasswordAuthenticator, *authn.Refresher) {
	accounts := authn.NewAccounts(st, checkers)
	pats := authn.NewPATs(st, accounts, passwords, nil, log.With("backend", "pat"))
	robots := authn.NewRobots(st, cfg.Robots.Prefix, pats, nil, log.With("backend", "robot"))
	refresher := authn.NewRefresher(st, accounts, authn.RefreshOptions{
		MaxLifetime:  cfg.RefreshTokens.MaxLifetime.D(),
		MaxIdle:      cfg.RefreshTokens.MaxIdle.D(),
		BindClientID: cfg.RefreshTokens.BindClientID,
		Logger:       log.With("backend", "refresh_token"),
	})
	return robots, refresher
}
