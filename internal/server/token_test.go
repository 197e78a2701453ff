package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/token"
)

func TestRefusedReasons(t *testing.T) {
	scopes, _ := authz.ParseScopes([]string{"repository:team/app:pull,push repository:nope/x:pull repository:ok/y:pull " +
		"repository:dev/z:* repository:adm/w:*"})
	ds := []authz.Decision{
		{Scope: scopes[0], Granted: []string{"pull"}, Reasons: []string{"role guest in project team directly (pull)"}},
		{Scope: scopes[1], Granted: []string{}, Reasons: []string{"project nope does not exist"}},
		{Scope: scopes[2], Granted: []string{"pull"}, Reasons: []string{"public"}},
		{Scope: scopes[3], Granted: []string{"pull", "push"}, Reasons: []string{"role developer"}},
		{Scope: scopes[4], Granted: []string{"delete", "pull", "push"}, Reasons: []string{"sysadmin"}},
	}
	got := refusedReasons(ds)
	want := []string{
		"repository:team/app: role guest in project team directly (pull)",
		"repository:nope/x: project nope does not exist",
		"repository:dev/z: role developer",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

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
			log: "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testenv.Buffer{}
			log := slog.New(slog.NewTextHandler(logs, nil))
			h := New(Options{
				Logger: log,
				Gate:   login.New(login.Options{Passwords: failingLogins{tt.err}, Logger: log}),
				Issuer: token.NewIssuer(testenv.Signer(t), "i", "svc", time.Minute),
				Realm:  "http://auth.test/service/token",
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

// BenchmarkParsePostLimits parses the worst POST bodies an unauthenticated
// client may send (1 MiB): one scope repeating 16 actions, and 1 MiB of
// distinct actions (refused at the 17th). Neither reaches authentication.
func BenchmarkParsePostLimits(b *testing.B) {
	s := &Server{opts: Options{Issuer: token.NewIssuer(testenv.Signer(b), "i", "bench-registry", time.Hour)}}
	acts := make([]string, 16)
	for i := range acts {
		acts[i] = "a" + strconv.Itoa(i)
	}
	act16 := strings.Join(acts, ",")
	body := func(scope string, fill int) string {
		form := url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {"x"}}
		pre := form.Encode() + "&scope=repository%3Ateam%2Fapp%3A"
		var sb strings.Builder
		sb.WriteString(pre)
		for sb.Len() < fill {
			sb.WriteString(scope)
		}
		return sb.String()
	}
	repeats := body(url.QueryEscape(act16+","), MaxFormBytes-200)
	var distinct strings.Builder
	distinct.WriteString(body("", 0))
	for i := 0; distinct.Len() < MaxFormBytes-20; i++ {
		distinct.WriteString("b" + strconv.Itoa(i) + "%2C")
	}
	cases := []struct {
		name, body string
		ok         bool
	}{
		{"1MiB-repeated-actions", repeats, true},
		{"1MiB-distinct-actions", distinct.String(), false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/service/token", strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				_, rerr := s.parsePost(httptest.NewRecorder(), req)
				if (rerr == nil) != c.ok {
					b.Fatalf("parse: %v", rerr)
				}
			}
		})
	}
}
