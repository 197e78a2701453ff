package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/throttle"
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
	for _, w := range cfg.Warnings() {
		log.Warn("insecure configuration", "problem", w)
	}
	if cfg.Server.MetricsAddr == "" {
		log.Info("/metrics is served on the main listener; set server.metrics_addr to keep it off the clients' network")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := a.bootstrapAdmin(ctx, cfg, st, log); err != nil {
		return err
	}
	keys, err := newKeyring(cfg, log)
	if err != nil {
		return err
	}
	m := metrics.New(buildVersion())
	local, err := authn.NewLocal(st, cfg.Passwords.BcryptCost)
	if err != nil {
		return err
	}
	if err := local.SetCache(cfg.Cache.CredentialsTTL.D(), cfg.Cache.CredentialsMax, m); err != nil {
		return err
	}
	// Local users, or local users then LDAP (see ldap.go).
	logins, checkers, dir, err := passwordBackends(cfg, st, local, m, log)
	if err != nil {
		return err
	}
	if dir != nil {
		defer dir.Close()
	}
	passwords, refresher := credentialAuthenticators(cfg, st, logins, checkers, log)
	if err := enableFederation(cfg, passwords, m, log); err != nil {
		return err
	}
	proxies, err := server.ParseTrustedProxies(cfg.Server.TrustedProxies)
	if err != nil {
		return err
	}
	var auditW *audit.Writer
	if cfg.Audit.Enabled {
		auditW = audit.New(st, audit.Config{Buffer: cfg.Audit.Buffer, Retention: cfg.Audit.Retention.D()}, log.With("component", "audit"), m)
	}
	var thr *throttle.Throttle
	if cfg.Throttle.Enabled {
		thr = throttle.New(throttle.Config{
			UserIPLimit: cfg.Throttle.UserIPFailures, IPLimit: cfg.Throttle.IPFailures,
			BaseDelay: cfg.Throttle.BaseDelay.D(), MaxDelay: cfg.Throttle.MaxDelay.D(),
			Forget: cfg.Throttle.Forget.D(), MaxEntries: cfg.Throttle.MaxEntries,
			IPv4Prefix: cfg.Throttle.IPv4Prefix, IPv6Prefix: cfg.Throttle.IPv6Prefix,
		}, nil)
	}
	realm := cfg.RealmBase() + "/service/token"
	opts := server.Options{
		Logger:         log,
		Passwords:      passwords,
		Refresh:        refresher,
		Authorizer:     authz.New(st),
		Issuer:         keys.issuer,
		Realm:          realm,
		Reuser:         token.NewReuser(keys.issuer, cfg.EffectiveReuseWindow(), 10000),
		JWKS:           keys.JWKS,
		Metrics:        m,
		ServeMetrics:   cfg.Server.MetricsAddr == "",
		Audit:          auditW,
		Throttle:       thr,
		TrustedProxies: proxies,
		Ready:          readiness(st, dir),
	}
	if auditW == nil {
		opts.Audit = nil // a nil *audit.Writer in the interface would not be nil
	}
	opts.API = newAPI(cfg, st, dir, opts, log)
	srv := &http.Server{
		Addr:              cfg.Server.Addr,
		Handler:           server.New(opts),
		TLSConfig:         keys.tlsConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.Server.ReadTimeout.D(),
		WriteTimeout:      cfg.Server.WriteTimeout.D(),
		IdleTimeout:       cfg.Server.IdleTimeout.D(),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	block, err := registryAuthBlock(cfg)
	if err != nil {
		return err
	}
	log.Info("authserver listening", "addr", cfg.Server.Addr, "tls", srv.TLSConfig != nil, "realm", realm,
		"service", cfg.Token.Service, "issuer", cfg.Token.Issuer, "kid", keys.issuer.Signer().KID(),
		"storage", cfg.Storage.Driver, "metrics_addr", cfg.Server.MetricsAddr, "version", buildVersion())
	if cfg.Log.Format == "json" {
		log.Info("registry auth block", "config_yml", block)
	} else {
		// Plain text so it can be pasted into the registry's config.yml.
		fmt.Fprintf(a.stderr, "\nPoint the registry at authserver with this block in its config.yml:\n\n%s\n", block)
	}

	// SIGHUP re-reads the signing key, previous certificates and TLS pair.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			keys.reload()
		}
	}()

	grace := cfg.Server.ShutdownTimeout.D()
	errc := make(chan error, 2)
	go func() { errc <- server.Serve(ctx, srv, grace) }()
	if cfg.Server.MetricsAddr != "" {
		msrv := &http.Server{Addr: cfg.Server.MetricsAddr, Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- server.Serve(ctx, msrv, grace) }()
	}
	err = <-errc
	if ctx.Err() != nil && cfg.Server.MetricsAddr != "" {
		<-errc
	}
	// In-flight requests are done (or the grace period is over): write
	// what the audit trail still holds before exiting.
	fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	auditW.Close(fctx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("authserver stopped")
	return nil
}

// readiness checks the store on every probe and LDAP, when configured,
// through a probe cached for 10 s so readiness checks never load the
// directory.
func readiness(st store.Store, dir *authn.LDAP) func(context.Context) error {
	var ldapProbe func(context.Context) error
	if dir != nil {
		ldapProbe = server.CachedProbe(10*time.Second, dir.Ping)
	}
	return func(ctx context.Context) error {
		if err := st.Ping(ctx); err != nil {
			return &server.CheckError{Check: "store", Err: err}
		}
		if ldapProbe != nil {
			if err := ldapProbe(ctx); err != nil {
				return &server.CheckError{Check: "ldap", Err: err}
			}
		}
		return nil
	}
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
	signer, err := loadSigner(cfg.Token)
	if err != nil {
		return nil, err
	}
	return token.NewIssuer(signer, cfg.Token.Issuer, cfg.Token.Service, cfg.Token.Expiration.D()), nil
}

// adminPasswordFile is where a generated bootstrap password is written: in
// the directory of the signing key (./data on the embedded default).
func adminPasswordFile(cfg config.Config) string {
	return filepath.Join(filepath.Dir(cfg.Token.Key), "admin-password")
}

// loadSigner reads the signing key and certificate; with token.x5c: false
// the tokens carry kid only.
func loadSigner(c config.Token) (*token.Signer, error) {
	signer, err := token.NewSigner(c.Key, c.Certificate, c.KID)
	if err != nil || c.X5C {
		return signer, err
	}
	return signer.WithoutX5C()
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
	created, _, err := newAdmin(cfg, st, nil).Bootstrap(ctx, os.Getenv("AUTHSERVER_ADMIN_PASSWORD"), func(pw string) error {
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
