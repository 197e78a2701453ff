package errcode

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

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/registry"
	"github.com/authserver/authserver/internal/store"
)

// TestOf is the one error-to-status mapping, for every kind of error an
// endpoint meets.
func TestOf(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
		challenge  bool
		logged     string
	}{
		{name: "malformed input", err: BadRequest("bad scope"), status: 400, code: "BAD_REQUEST"},
		{name: "media type", err: &Error{Status: 415, Code: "UNSUPPORTED_MEDIA_TYPE", Message: "json"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "login over the limits", err: &login.Error{Kind: login.KindBadInput, Msg: "too long"}, status: 400, code: "BAD_REQUEST"},
		{name: "bad credentials", err: &login.Error{Kind: login.KindUnauthorized, Msg: "no", Challenge: `Basic realm="r"`}, status: 401, code: "UNAUTHORIZED", challenge: true},
		{name: "forbidden", err: fmt.Errorf("op: %w", &admin.Error{Kind: admin.KindForbidden, Msg: "no"}), status: 403, code: "FORBIDDEN"},
		{name: "not found", err: &admin.Error{Kind: admin.KindNotFound, Msg: "no"}, status: 404, code: "NOT_FOUND"},
		{name: "taken", err: &admin.Error{Kind: admin.KindExists, Msg: "no"}, status: 409, code: "CONFLICT"},
		{name: "invalid", err: &admin.Error{Kind: admin.KindInvalid, Msg: "no"}, status: 400, code: "BAD_REQUEST"},
		{name: "precondition", err: &admin.Error{Kind: admin.KindPrecondition, Msg: "no"}, status: 412, code: "PRECONDITION"},
		{name: "body too large", err: fmt.Errorf("decode: %w", &http.MaxBytesError{Limit: 10}), status: 413, code: "BAD_REQUEST"},
		{name: "throttled", err: &login.Error{Kind: login.KindThrottled, Msg: "wait", RetryAfter: 1500 * time.Millisecond}, status: 429, code: "TOOMANYREQUESTS", retryAfter: "2"},
		{name: "no slot", err: &login.Error{Kind: login.KindBusy, Msg: "busy", RetryAfter: time.Second}, status: 503, code: "UNAVAILABLE", retryAfter: "1"},
		{name: "no slot, outside the gate", err: fmt.Errorf("verify: %w", authn.ErrBusy), status: 503, code: "UNAVAILABLE", retryAfter: "1", logged: "backend failed"},
		{name: "login backend down", err: &login.Error{Kind: login.KindUnavailable, Msg: "down", Err: authn.ErrUnavailable}, status: 503, code: "UNAVAILABLE"},
		{name: "authz backend down", err: fmt.Errorf("authorize: %w", authz.ErrUnavailable), status: 503, code: "UNAVAILABLE", logged: "backend failed"},
		{name: "store down", err: fmt.Errorf("list users: %w: %w", store.ErrUnavailable, errors.New("database is locked")), status: 503, code: "UNAVAILABLE", logged: "backend failed"},
		{name: "registry down", err: fmt.Errorf("catalog: %w", registry.ErrUnavailable), status: 503, code: "UNAVAILABLE", logged: "backend failed"},
		{name: "bug", err: errors.New("nil map"), status: 500, code: "UNKNOWN", logged: "internal error"},
		{name: "admin kind unknown", err: &admin.Error{Kind: 99, Msg: "?"}, status: 500, code: "UNKNOWN", logged: "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			rec := httptest.NewRecorder()
			rep := Fail(rec, httptest.NewRequest(http.MethodGet, "/x", nil), slog.New(slog.NewTextHandler(&logs, nil)), nil, tt.err)
			if rep.Status != tt.status || rec.Code != tt.status || !strings.Contains(rec.Body.String(), `"code":"`+tt.code+`"`) {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.code)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			if got := rec.Header().Get("WWW-Authenticate") != ""; got != tt.challenge {
				t.Fatalf("WWW-Authenticate %v, want %v", got, tt.challenge)
			}
			if tt.logged == "" && logs.Len() > 0 || !strings.Contains(logs.String(), tt.logged) {
				t.Fatalf("log %q, want %q", logs.String(), tt.logged)
			}
		})
	}
	// A client that went away is no outage worth an error line.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var logs strings.Builder
	req := httptest.NewRequest(http.MethodGet, "/x", nil).WithContext(ctx)
	Fail(httptest.NewRecorder(), req, slog.New(slog.NewTextHandler(&logs, nil)), nil, fmt.Errorf("q: %w", context.Canceled))
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("a cancelled request logged as an error: %s", logs.String())
	}
}
