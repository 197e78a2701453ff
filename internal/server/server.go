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
	// Passwords checks Basic credentials.
	Passwords authn.PasswordAuthenticator
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
		r.Head(path, s.methodNotAllowed)
	}
	r.Get("/.well-known/jwks.json", s.handleJWKS)
	return r
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET")
	writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "method "+r.Method+" is not supported here; use GET")
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
