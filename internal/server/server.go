package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/token"
)

// Options are the parts the HTTP server wires together.
type Options struct {
	// Logger receives one line per request and the details of failures.
	Logger *slog.Logger
	// Passwords checks Basic credentials and the POST password grant. Wire
	// robots and personal access tokens in front of the password backends
	// (authn.NewRobots, authn.NewPATs) so their secrets never reach them.
	Passwords authn.PasswordAuthenticator
	// Refresh issues refresh tokens when offline access is asked and
	// redeems them (POST grant_type=refresh_token). nil disables both:
	// offline requests get no refresh token, refresh grants get 400.
	Refresh *authn.Refresher
	// Authorizer decides which requested actions are granted.
	Authorizer *authz.Authorizer
	// Issuer signs tokens; its Service() is the only service accepted.
	Issuer *token.Issuer
	// Realm is the realm named in WWW-Authenticate: Basic on a 401.
	Realm string
}

// Server serves the token endpoint and the JWKS.
type Server struct {
	opts Options
	log  *slog.Logger
}

// New returns the HTTP handler.
func New(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger}
	r := chi.NewRouter()
	r.Use(requestID, s.accessLog, s.recoverer)
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
	return r
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := "GET"
	if r.URL.Path == "/service/token" || r.URL.Path == "/token" {
		allow = "GET, POST"
	}
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "method "+r.Method+" is not supported here; use "+allow)
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	body, err := s.opts.Issuer.JWKS()
	if err != nil {
		s.logFor(r).Error("jwks", "err", err)
		writeError(w, http.StatusInternalServerError, "UNKNOWN", "cannot publish keys")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(body)
}

// Serve runs h on addr until ctx is cancelled, then shuts down gracefully,
// letting in-flight requests finish within grace.
func Serve(ctx context.Context, srv *http.Server, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return srv.Shutdown(sctx)
}
