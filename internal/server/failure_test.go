package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/token"
)

// failingLogins answers every login with err.
type failingLogins struct{ err error }

func (f failingLogins) Login(context.Context, string, string) (authn.Identity, bool, error) {
	return authn.Identity{}, false, f.err
}

// TestBackendFailureStatus: a backend that could not be asked
// (authn.ErrUnavailable) is 503; any other error is a bug, 500 with a log
// line, never an outage.
func TestBackendFailureStatus(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		log    string
	}{
		{name: "unavailable", err: fmt.Errorf("local login: %w: %w", authn.ErrUnavailable, errors.New("database is locked")),
			status: http.StatusServiceUnavailable, code: "UNAVAILABLE", log: "authentication backend failed"},
		{name: "bug", err: errors.New("nil map"), status: http.StatusInternalServerError, code: "UNKNOWN",
			log: "authentication backend failed: internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testenv.Buffer{}
			h := New(Options{
				Logger:    slog.New(slog.NewTextHandler(logs, nil)),
				Passwords: failingLogins{tt.err},
				Issuer:    token.NewIssuer(testenv.Signer(t), "i", "svc", time.Minute),
				Realm:     "http://auth.test/service/token",
			})
			req := httptest.NewRequest(http.MethodGet, "/service/token?service=svc", nil)
			req.SetBasicAuth("dev", "secret")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), `"code":"`+tt.code+`"`) {
				t.Fatalf("status %d body %s, want %d %s", rec.Code, rec.Body, tt.status, tt.code)
			}
			if !strings.Contains(logs.String(), tt.log) || !strings.Contains(logs.String(), tt.err.Error()) {
				t.Fatalf("log %q lacks %q and the error", logs.String(), tt.log)
			}
		})
	}
}
