package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/federation"
	"github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/authn/oidc"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/authn/stack"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/readcache"
	"github.com/authserver/authserver/internal/throttle"
	"github.com/authserver/authserver/internal/token"
)

// Options are what a caller of New changes from what the config alone
// gives: serve sets Logger and Version; tests set the clock, the logger and
// the last word on the server's options.
type Options struct {
	// Logger receives every log line; nil: NewLogger(cfg, os.Stderr).
	Logger *slog.Logger
	// Version is reported by the authserver_build_info metric.
	Version string
	// Now is the clock of robot, PAT and refresh token expiry; nil:
	// time.Now.
	Now func() time.Time
	// UserCheckers re-check users of a source when a refresh token or PAT
	// stands in for their password, on top of (and before) the directory
	// of the config (tests stand in for a directory this way).
	UserCheckers map[string]authn.UserChecker
	// Federation tunes the verifier of federated robots' JWTs (tests
	// shorten MinRefetch); the zero value is the production default.
	Federation federation.Options
	// Bootstrap runs once the store is open, before anything else is built
	// (serve creates the first sysadmin there); nil: nothing.
	Bootstrap func(context.Context, store.Store, *slog.Logger) error
	// Passwords, when set, wraps the password authenticator the login
	// gate checks with (tests count the checks that reach it).
	Passwords func(authn.PasswordAuthenticator) authn.PasswordAuthenticator
	// Configure has the last word on the server's options, before the
	// handler is built (a test's wrapper around the API).
	Configure func(*server.Options)
	// OIDCHTTPClient asks the SSO provider (tests: one trusting a test
	// issuer's certificate); nil: a client trusting oidc.ca_file.
	OIDCHTTPClient *http.Client
}

// App is authserver built from one config: each part is exported so serve
// can log what it runs and tests can reach what they check.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	Store     store.Store
	Metrics   *metrics.Metrics
	Keys      *Keyring
	Passwords authn.PasswordAuthenticator // robots → PATs → passwords
	Refresher *secret.Refresher
	Directory *ldap.Directory // nil without ldap:
	Audit     *audit.Writer   // nil with audit.enabled: false
	// Throttle is the failed-login throttle: *throttle.Throttle (memory)
	// or *throttle.Shared (database, throttle.store); nil with
	// throttle.enabled: false.
	Throttle throttle.Limiter
	// Slots bounds the slow credential checks running at once
	// (server.max_password_checks).
	Slots *throttle.Slots
	// Gate authenticates every request that carries credentials, at the
	// token endpoint and the REST API alike.
	Gate *login.Gate
	// Federation verifies federated robots' JWTs; nil without
	// federation.issuers.
	Federation *federation.Verifier
	// SSO is the OpenID provider people sign in with; nil without oidc:.
	SSO *oidc.Provider
	// Accounts builds the current identity behind a stored credential.
	Accounts *authn.Accounts
	// Server are the options Handler was built from.
	Server  server.Options
	Handler http.Handler

	stop       context.CancelFunc // ends the background work (Close)
	background sync.WaitGroup
}

// New opens the store (applying migrations) and builds every part from
// cfg. Close releases what it opened.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	log := opts.Logger
	if log == nil {
		log = NewLogger(cfg, os.Stderr)
	}
	a := &App{Config: cfg, Log: log, Metrics: metrics.New(opts.Version)}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = stop
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	// The keys first: a start that cannot sign fails before it writes
	// anything (a database, a generated admin password).
	if a.Keys, err = NewKeyring(cfg, log); err != nil {
		return nil, err
	}
	a.Metrics.SigningKey(a.Keys.Issuer().Signer().KID())
	if a.Store, err = OpenStore(ctx, cfg); err != nil {
		return nil, err
	}
	if opts.Bootstrap != nil {
		if err := opts.Bootstrap(ctx, a.Store, log); err != nil {
			return nil, err
		}
	}
	// The login stack: internal/authn/stack composes it, here and in
	// every test that needs one.
	// The token path's reads of users and permissions, from memory while
	// the policy version says nothing changed (cache.store_reads).
	var reads store.Store = a.Store
	var begin func(context.Context) context.Context
	if cfg.Cache.StoreReads > 0 {
		rc := readcache.New(a.Store, cfg.Cache.StoreReads, a.Metrics)
		if cfg.Storage.Driver == "postgres" {
			// Across a network: a partition is a 503 after the bound, not a hang.
			rc.BoundReads(readcache.ReadTimeout)
		}
		reads, begin = rc, rc.Begin
	}
	creds, err := stack.New(cfg, reads, stack.Options{Metrics: a.Metrics, Logger: log, Now: opts.Now,
		UserCheckers: opts.UserCheckers, Federation: opts.Federation, OIDCHTTPClient: opts.OIDCHTTPClient})
	if err != nil {
		return nil, err
	}
	a.Passwords, a.Refresher, a.Directory = creds.Passwords, creds.Refresher, creds.Directory
	if opts.Passwords != nil {
		a.Passwords = opts.Passwords(a.Passwords)
	}
	a.Federation, a.SSO, a.Accounts = creds.Federation, creds.SSO, creds.Accounts
	proxies, err := server.ParseTrustedProxies(cfg.Server.TrustedProxies)
	if err != nil {
		return nil, err
	}
	if cfg.Audit.Enabled {
		a.Audit = audit.New(a.Store, audit.Config{Buffer: cfg.Audit.Buffer, Retention: cfg.Audit.Retention.D(),
			Sync: cfg.Audit.Mode == config.AuditSync, SyncWait: cfg.Audit.SyncWait.D(), Committers: auditCommitters(cfg)},
			log.With("component", "audit"), a.Metrics)
	}
	if cfg.Throttle.Enabled {
		a.Throttle = a.buildThrottle(bg)
	}
	a.Slots = throttle.NewSlots(cfg.Server.MaxPasswordChecks(), cfg.Server.PasswordChecksPerNetwork, cfg.Server.PasswordCheckWait.D())
	a.Metrics.WatchPasswordChecks(a.Slots.InUse, a.Slots.Max())
	a.Metrics.WatchSigningCertificate(func() (time.Time, bool) {
		if certs := a.Keys.Issuer().Signer().Certificates(); len(certs) > 0 {
			return certs[0].NotAfter, true
		}
		return time.Time{}, false
	})
	realm := cfg.RealmBase() + "/service/token"
	gate := login.Options{Passwords: a.Passwords, Refresh: a.Refresher, Throttle: a.Throttle, Slots: a.Slots,
		Metrics: a.Metrics, Logger: log, Realm: realm}
	if a.Audit != nil { // a nil *audit.Writer in the interface would not be nil
		gate.Audit = a.Audit
	}
	a.Gate = login.New(gate)
	// Projects created on push (projects.create_on_push, personal_template)
	// are made by the admin operations, with their audit record.
	if err := authz.ValidPersonalTemplate(cfg.Projects.PersonalTemplate); err != nil {
		return nil, fmt.Errorf("projects.personal_template %w", err)
	}
	policy := policyOptions(cfg)
	if policy.CreateOnPush || policy.PersonalTemplate != "" {
		var dir admin.Directory
		if a.Directory != nil { // a nil *authn.LDAP in the interface would not be nil
			dir = a.Directory
		}
		policy.Creator = admin.New(a.Store, adminOptions(cfg, dir))
	}
	a.Server = server.Options{
		Logger:         log,
		Gate:           a.Gate,
		Refresh:        a.Refresher,
		Authorizer:     authz.NewWith(authz.NewPublicCache(reads, a.Store, cfg.Cache.PublicProjects.D()), policy),
		Issuer:         a.Keys.Issuer(),
		Lifetimes:      tokenLifetimes(cfg),
		Realm:          realm,
		Reuser:         token.NewReuser(a.Keys.Issuer(), cfg.EffectiveReuseWindow(), 10000),
		JWKS:           a.Keys.JWKS,
		JWKSMaxAge:     cfg.Token.JWKSMaxAge.D(),
		Metrics:        a.Metrics,
		ServeMetrics:   cfg.Server.MetricsAddr == "",
		TrustedProxies: proxies,
		Ready:          readiness(a.Store, a.Directory),
		Begin:          begin,
	}
	if a.Audit != nil { // a nil *audit.Writer in the interface would not be nil
		a.Server.Audit = a.Audit
	}
	// The admin REST API (api.enabled) is mounted at /api, behind the same
	// login gate as the token endpoint.
	if a.Server.API, err = a.buildAPI(opts.Version); err != nil {
		return nil, err
	}
	if err := a.buildSSO(opts); err != nil {
		return nil, err
	}
	if opts.Configure != nil {
		opts.Configure(&a.Server)
	}
	a.Handler = withPathPrefix(pathPrefix(cfg.Server.PublicURL), server.New(a.Server))
	return a, nil
}

// auditCommitters is how many batches of issued tokens' records are
// written at once: PostgreSQL flushes concurrent commits together, so a
// record need not wait for the batch before it; SQLite writes one
// transaction at a time.
func auditCommitters(cfg config.Config) int {
	if cfg.Storage.Driver == "postgres" {
		return 4
	}
	return 1
}

// buildThrottle is the failed-login throttle of throttle.store: in this
// process, or in the database for every replica (pruned once a minute).
func (a *App) buildThrottle(bg context.Context) throttle.Limiter {
	t := a.Config.Throttle
	tc := throttle.Config{
		UserIPLimit: t.UserIPFailures, IPLimit: t.IPFailures,
		BaseDelay: t.BaseDelay.D(), MaxDelay: t.MaxDelay.D(),
		Forget: t.Forget.D(), MaxEntries: t.MaxEntries,
		IPv4Prefix: t.IPv4Prefix, IPv6Prefix: t.IPv6Prefix,
		HoldTTL: t.ReservationTTL.D(),
	}
	if a.Config.EffectiveThrottleStore() == config.ThrottleMemory {
		a.Log.Info("login throttle counts in memory: each replica counts on its own", "store", config.ThrottleMemory)
		return throttle.New(tc, nil)
	}
	shared := throttle.NewShared(a.Store, tc, nil)
	a.Log.Info("login throttle counts in the database, shared by every replica", "store", config.ThrottleDatabase)
	a.Metrics.WatchThrottleWrites(shared.Writes)
	a.every(bg, throttle.PruneEvery, func(ctx context.Context) {
		if _, err := shared.Prune(ctx); err != nil {
			a.Log.Warn("login throttle: prune failed", "err", err)
		}
	})
	return shared
}

// every runs fn every period until Close.
func (a *App) every(ctx context.Context, period time.Duration, fn func(context.Context)) {
	a.background.Go(func() {
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				fn(ctx)
			}
		}
	})
}

// Close writes what the audit trail still holds (within 5 s) and releases
// the directory's connections and the store.
func (a *App) Close() {
	if a.stop != nil {
		a.stop()
		a.background.Wait()
	}
	if a.Audit != nil {
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.Audit.Close(fctx)
		cancel()
		a.Audit = nil
	}
	if a.Directory != nil {
		a.Directory.Close()
		a.Directory = nil
	}
	if a.Store != nil {
		a.Store.Close()
		a.Store = nil
	}
}

// HTTPServer is the main listener of server.addr serving Handler.
func (a *App) HTTPServer() *http.Server {
	cfg := a.Config.Server
	return &http.Server{
		Addr:              cfg.Addr,
		Handler:           a.Handler,
		TLSConfig:         a.Keys.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout.D(),
		WriteTimeout:      cfg.WriteTimeout.D(),
		IdleTimeout:       cfg.IdleTimeout.D(),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
}

// Run serves srv (and /metrics on server.metrics_addr when set) until ctx
// is cancelled, re-reading the keys on SIGHUP (Reload), then shuts down within
// server.shutdown_timeout and flushes the audit trail.
func (a *App) Run(ctx context.Context, srv *http.Server) error {
	// SIGHUP re-reads the signing key, previous certificates, TLS pair and
	// jwks_files.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			a.Reload(ctx)
		}
	}()

	cfg := a.Config.Server
	grace := cfg.ShutdownTimeout.D()
	errc := make(chan error, 2)
	go func() { errc <- server.Serve(ctx, srv, grace) }()
	if cfg.MetricsAddr != "" {
		msrv := &http.Server{Addr: cfg.MetricsAddr, Handler: a.Metrics.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- server.Serve(ctx, msrv, grace) }()
	}
	err := <-errc
	if ctx.Err() != nil && cfg.MetricsAddr != "" {
		<-errc
	}
	// In-flight requests are done (or the grace period is over): write
	// what the audit trail still holds before exiting.
	if a.Audit != nil {
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Audit.Close(fctx)
		a.Audit = nil
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.Log.Info("authserver stopped")
	return nil
}

// readiness checks the store on every probe and LDAP, when configured,
// through a probe cached for 10 s so readiness checks never load the
// directory.
func readiness(st store.Store, dir *ldap.Directory) func(context.Context) error {
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
				ce := &server.CheckError{Check: "ldap", Err: err}
				if errors.Is(err, ldap.ErrTLSRequired) {
					ce.Hint = ldap.ErrTLSRequired.Error()
				}
				return ce
			}
		}
		return nil
	}
}

// NewLogger is the slog logger of cfg's log: section, writing to w.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
