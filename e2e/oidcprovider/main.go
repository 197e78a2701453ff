// Command oidcprovider is the OpenID provider the tests sign in with: built on
// github.com/zitadel/oidc/v3's op package, it keeps everything in memory (so a
// restart ends every session and grant), serves discovery, JWKS, the
// authorization code flow with PKCE (S256, required), refresh tokens
// (offline_access) and a real HTML login form, and registers one confidential
// client. Users and their groups come from a JSON file. It is a test program,
// never part of authserver.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// listFlag is a flag that may be given several times (or once with commas).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func main() {
	var (
		addr, issuer, clientID, clientSecret, usersFile, keyFile string
		redirects                                                listFlag
		rotate                                                   bool
	)
	flag.StringVar(&addr, "addr", "127.0.0.1:0", "listen address")
	flag.StringVar(&issuer, "issuer", "", "issuer URL (default http://ADDR)")
	flag.StringVar(&clientID, "client-id", "authserver", "the registered client's id")
	flag.StringVar(&clientSecret, "client-secret", "", "the registered client's secret (required)")
	flag.Var(&redirects, "redirect", "a redirect URI of the client (repeat, or separate with commas)")
	flag.StringVar(&usersFile, "users", "", `users, JSON: [{"username","password","email","groups":[...]}] (required)`)
	flag.StringVar(&keyFile, "key", "", "PEM file of the RSA signing key, made when missing (default: a new key per run)")
	flag.BoolVar(&rotate, "rotate-refresh-tokens", false, "hand out a new refresh token on every refresh (the old one dies)")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log, addr, issuer, clientID, clientSecret, redirects, usersFile, keyFile, rotate); err != nil {
		log.Error("oidcprovider failed", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, addr, issuer, clientID, clientSecret string, redirects []string, usersFile, keyFile string, rotate bool) error {
	if clientSecret == "" || usersFile == "" || len(redirects) == 0 {
		return errors.New("-client-secret, -users and -redirect are required")
	}
	users, err := loadUsers(usersFile)
	if err != nil {
		return err
	}
	key, err := loadKey(keyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if issuer == "" {
		issuer = "http://" + ln.Addr().String()
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return err
	}
	st := newStorage(users, &client{id: clientID, secret: clientSecret, redirects: redirects}, key, rotate)
	h, err := newHandler(issuer, st, cryptoKey)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: logRequests(log, h), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("oidcprovider listening", "addr", ln.Addr().String(), "issuer", issuer, "client_id", clientID, "users", len(users))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// logRequests logs every request's method, path and status (never a query:
// it carries codes and secrets).
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
