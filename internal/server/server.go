package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/oidc"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/throttle"
	"github.com/authserver/authserver/internal/token"
)

// Options are the parts the HTTP server wires together.
type Options struct {
	// Logger receives one line per request and the details of failures.
	Logger *slog.Logger
	// Gate authenticates every request that carries credentials (Basic,
	// the POST password and refresh grants): limits, throttle, bounded
	// password checks, audit and metrics of refusals (internal/login). The
	// REST API mounted at /api shares it.
	Gate *login.Gate
	// Refresh issues refresh tokens when offline access is asked (the
	// gate redeems them). nil disables both: offline requests get no
	// refresh token, refresh grants get 400.
	Refresh *secret.Refresher
	// Authorizer decides which requested actions are granted.
	Authorizer *authz.Authorizer
	// Issuer signs tokens; its Service() is the only service accepted.
	Issuer *token.Issuer
	// Lifetimes say how long a token lives (token.expiration,
	// push_expiration, max_expiration, a robot's own); zero: the Issuer's.
	Lifetimes authn.TokenLifetimes
	// Realm is the realm named in WWW-Authenticate: Basic on a 401.
	Realm string

	// Reuser, when set, answers a repeated identical grant with the token
	// already signed for it (token.reuse_window). nil: every token is signed.
	Reuser *token.Reuser
	// JWKS, when set, replaces Issuer.JWKS (to publish previous
	// certificates after a key rotation).
	JWKS func() ([]byte, error)
	// JWKSMaxAge is the JWKS answer's Cache-Control max-age
	// (token.jwks_max_age); 0 means no-cache (revalidate with the ETag).
	JWKSMaxAge time.Duration
	// Metrics records request counts and latencies; nil records nothing.
	Metrics *metrics.Metrics
	// ServeMetrics mounts /metrics on this handler (else it is served on
	// a separate listener, server.metrics_addr).
	ServeMetrics bool
	// Audit receives a record for every token issued (the gate records
	// failed logins), before the token is sent; nil records nothing.
	Audit AuditRecorder
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Ready answers /readyz: nil means always ready.
	Ready func(context.Context) error
	// Begin, when set, is given every request's context first: the
	// store reads of one request share one look at the policy version
	// (readcache.Store.Begin).
	Begin func(context.Context) context.Context
	// API, when set, is mounted at /api: the admin REST API
	// (internal/server/api), behind the same middleware.
	API http.Handler
	// Device, when set (oidc: configured), answers the device_code grant
	// of POST /service/token (RFC 8628) and POST /oauth/device/code.
	Device DeviceFlow
	// DevicePublicURL is server.public_url: the verification_uri is
	// DevicePublicURL + /device.
	DevicePublicURL string
	// DeviceStarts bounds the device authorizations a client network may
	// start per minute (nil: no bound); Network maps a client IP to its
	// network (nil: the IP itself).
	DeviceStarts *throttle.Starts
	Network      func(ip string) string
	// Web, when set (oidc: configured), serves the sign-in pages: /login,
	// /login/callback, /logout, /, /tokens, /refresh-tokens, /device
	// (internal/server/web), behind the same middleware.
	Web http.Handler
}

// DeviceFlow is the device authorization grant (*oidc.Devices).
type DeviceFlow interface {
	Start(ctx context.Context, clientID, scope, service string) (oidc.DeviceAuthorization, error)
	Redeem(ctx context.Context, deviceCode, clientID string) (authn.Identity, error)
}

// AuditRecorder takes audit records (*audit.Writer).
type AuditRecorder interface {
	// Begin queues a newly signed token's record; its Wait returns, with
	// audit.mode sync, once the record is written. An error (it wraps
	// store.ErrUnavailable) means the token must not be sent: 503.
	Begin(ctx context.Context, rec store.AuditRecord) *audit.Pending
	// Record queues a record without waiting: the answer of a reused
	// token, whose record was committed when it was first sent.
	Record(rec store.AuditRecord)
	// Waits reports whether Begin's Wait waits for the record to be
	// written (audit.mode sync); when it does not, Begin is Record.
	Waits() bool
}

// Server serves the token endpoint and the JWKS.
type Server struct {
	opts Options
	log  *slog.Logger
	// untrusted rate-limits the warning of untrustedForward.
	untrusted struct {
		mu         sync.Mutex
		last       time.Time
		suppressed int
	}
}

// New returns the HTTP handler.
func New(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger}
	r := chi.NewRouter()
	r.MethodNotAllowed(s.methodNotAllowed)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint")
	})
	for _, path := range []string{"/service/token", "/token"} {
		r.Get(path, s.handleTokenGet)
		r.Post(path, s.handleTokenPost)
		r.Head(path, s.methodNotAllowed)
	}
	r.Get("/.well-known/jwks.json", s.handleJWKS)
	if opts.Device != nil {
		r.Post("/oauth/device/code", s.handleDeviceCode)
	}
	if opts.Web != nil {
		for _, p := range []string{"/", "/assets/*", "/login", "/login/*", "/logout", "/tokens", "/tokens/*", "/refresh-tokens/*", "/device"} { // web.Paths
			r.Handle(p, opts.Web)
		}
	}
	r.Get("/healthz", s.handleHealthz)
	r.Get("/readyz", s.handleReadyz)
	if opts.API != nil {
		r.Mount("/api", opts.API)
	}
	if opts.ServeMetrics && opts.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", opts.Metrics.Handler())
	}
	return s.frame(s.route(r))
}

// route sends GET /service/token and GET /token, nearly every request a
// token server gets, straight to their handler, and everything else
// through the router.
func (s *Server) route(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.RawPath == "" && (r.URL.Path == "/service/token" || r.URL.Path == "/token") {
			s.handleTokenGet(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := "GET"
	if r.URL.Path == "/service/token" || r.URL.Path == "/token" {
		allow = "GET, POST"
	}
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "method "+audit.Clip(r.Method)+" is not supported here; use "+allow)
}

// handleJWKS publishes the keys with a max-age of token.jwks_max_age and
// an ETag, so a verifier can ask again often and cheaply (304) and sees a
// new key within the max-age.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	jwks := s.opts.JWKS
	if jwks == nil {
		jwks = func() ([]byte, error) { return s.opts.Issuer.JWKS() }
	}
	body, err := jwks()
	if err != nil {
		s.logFor(r).Error("jwks", "err", err)
		writeError(w, http.StatusInternalServerError, "UNKNOWN", "cannot publish keys")
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	if age := int(s.opts.JWKSMaxAge / time.Second); age > 0 {
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(age))
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if etagMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// etagMatch reports whether If-None-Match values name etag (or are "*").
func etagMatch(values []string, etag string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == etag || t == "*" {
				return true
			}
		}
	}
	return false
}

// Serve runs srv until ctx is cancelled, then shuts down gracefully: it
// stops accepting, lets in-flight requests finish within grace, and
// returns nil. With srv.TLSConfig set it serves HTTPS (the certificate
// comes from TLSConfig.GetCertificate).
func Serve(ctx context.Context, srv *http.Server, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ListenAndServeTLS("", "")
			return
		}
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return nil
}
