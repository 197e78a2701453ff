package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/token"
)

// countingLogins counts the password checks that reach the backend.
type countingLogins struct {
	next  authn.PasswordAuthenticator
	calls atomic.Int64
}

func (c *countingLogins) Login(ctx context.Context, user, pass string) (authn.Identity, bool, error) {
	c.calls.Add(1)
	return c.next.Login(ctx, user, pass)
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// hardServer is the token handler over a real SQLite store in dir with the
// local user "dev" (password "dev-secret"), its password checks counted,
// logging at debug level into logs. mutate adjusts the options.
type hardServer struct {
	t      *testing.T
	h      http.Handler
	st     *sqlite.Store
	dir    string
	logins *countingLogins
	logs   *syncBuffer
}

func newHardServer(t *testing.T, mutate func(*Options, *sqlite.Store)) *hardServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	hash, err := authn.HashPassword("dev-secret", 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, &store.User{Name: "dev", PasswordHash: hash, Source: store.SourceLocal}); err != nil {
		t.Fatal(err)
	}
	local, err := authn.NewLocal(st, 4)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := fuzzSigner()
	if err != nil {
		t.Fatal(err)
	}
	hs := &hardServer{t: t, st: st, dir: dir, logins: &countingLogins{next: local}, logs: &syncBuffer{}}
	opts := Options{
		Logger:     slog.New(slog.NewJSONHandler(hs.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Passwords:  hs.logins,
		Authorizer: authz.New(st),
		Issuer:     token.NewIssuer(signer, "fuzz-issuer", "fuzz-registry", 5*time.Minute),
		Realm:      "http://auth.test/service/token",
	}
	if mutate != nil {
		mutate(&opts, st)
	}
	hs.h = New(opts)
	return hs
}

// serve sends req from remote (host:port) and returns the recorder.
func (hs *hardServer) serve(req *http.Request, remote string) *httptest.ResponseRecorder {
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, req)
	return rec
}

func getReq(q url.Values, user, pass string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/service/token?"+q.Encode(), nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return req
}

func postReq(form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/service/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// wantErrcode fails unless rec is status with an errcode JSON body.
func wantErrcode(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	var eb errorBody
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %.300s", rec.Code, status, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || len(eb.Errors) != 1 || eb.Errors[0].Code == "" {
		t.Fatalf("body %.300q is not an errcode body (%v)", rec.Body, err)
	}
	if rec.Body.Len() > 1024 {
		t.Fatalf("error body of %d bytes echoes the request", rec.Body.Len())
	}
}

// TestLimitsBeforeAuthentication: oversized names and scopes get 400 with an
// errcode body and never reach the password backend.
func TestLimitsBeforeAuthentication(t *testing.T) {
	hs := newHardServer(t, nil)
	long := strings.Repeat("u", maxFieldBytes+1)
	acts := func(n int) string {
		a := make([]string, n)
		for i := range a {
			a[i] = fmt.Sprintf("a%d", i)
		}
		return strings.Join(a, ",")
	}
	var scopes101 []string
	for i := range authz.MaxScopes + 1 {
		scopes101 = append(scopes101, fmt.Sprintf("repository:p/r%d:pull", i))
	}
	q := func(extra url.Values) url.Values {
		v := url.Values{"service": {"fuzz-registry"}, "scope": {"repository:team/app:pull"}}
		for k, vs := range extra {
			v[k] = vs
		}
		return v
	}
	form := func(extra url.Values) url.Values {
		v := url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {"dev-secret"}}
		for k, vs := range extra {
			v[k] = vs
		}
		return q(v)
	}
	tests := []struct {
		name string
		req  *http.Request
	}{
		{"basic user", getReq(q(nil), long, "dev-secret")},
		{"account", getReq(q(url.Values{"account": {long}}), "dev", "dev-secret")},
		{"client_id", getReq(q(url.Values{"client_id": {long}}), "dev", "dev-secret")},
		{"service", getReq(q(url.Values{"service": {long}}), "dev", "dev-secret")},
		{"17 actions", getReq(q(url.Values{"scope": {"repository:team/app:" + acts(17)}}), "dev", "dev-secret")},
		{"256-byte name", getReq(q(url.Values{"scope": {"repository:team/" + strings.Repeat("n", 251) + ":pull"}}), "dev", "dev-secret")},
		{"101 scopes", getReq(q(url.Values{"scope": scopes101}), "dev", "dev-secret")},
		{"post username", postReq(form(url.Values{"username": {long}}))},
		{"post client_id", postReq(form(url.Values{"client_id": {long}}))},
		{"post service", postReq(form(url.Values{"service": {long}}))},
		{"post 80,000 actions", postReq(form(url.Values{"scope": {"repository:team/app:" + acts(80000)}}))},
		{"post 17 actions merged", postReq(form(url.Values{"scope": {"repository:team/app:" + acts(9) + " repository:team/app:" + acts(17)}}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hs.logins.calls.Load()
			wantErrcode(t, hs.serve(tt.req, "192.0.2.1:4000"), http.StatusBadRequest)
			if n := hs.logins.calls.Load() - before; n != 0 {
				t.Fatalf("%d password checks ran before the request was refused", n)
			}
		})
	}
	// At the limits, the request is served.
	ok := getReq(q(url.Values{"scope": {"repository:team/app:" + acts(16)}, "account": {strings.Repeat("u", maxFieldBytes)}}), "dev", "dev-secret")
	if rec := hs.serve(ok, "192.0.2.1:4000"); rec.Code != http.StatusOK {
		t.Fatalf("at the limits: %d %s", rec.Code, rec.Body)
	}
}

// dirSize is the bytes of all files under dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOversizedBurst: a burst of 300 KB usernames, user agents and
// client_ids leaves the audit store and the log practically unchanged.
func TestOversizedBurst(t *testing.T) {
	var w *audit.Writer
	hs := newHardServer(t, func(o *Options, st *sqlite.Store) {
		w = audit.New(st, audit.Config{Buffer: 1000}, slog.New(slog.DiscardHandler), nil)
		o.Audit = w
	})
	huge := strings.Repeat("x", 300<<10)
	before := dirSize(t, hs.dir)
	for i := range 50 {
		// Refused at parsing: never audited, one short access log line.
		form := url.Values{"grant_type": {"password"}, "username": {huge + fmt.Sprint(i)}, "password": {"guess"}}
		wantErrcode(t, hs.serve(postReq(form), "198.51.100.7:5000"), http.StatusBadRequest)
		// A failed login with a huge user agent: audited, cut.
		req := getReq(url.Values{"scope": {"repository:team/app:pull"}}, "dev", "wrong")
		req.Header.Set("User-Agent", huge)
		wantErrcode(t, hs.serve(req, "198.51.100.7:5000"), http.StatusUnauthorized)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w.Close(ctx)
	recs, err := hs.st.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 50 {
		t.Fatalf("%d audit records, want the 50 failed logins", len(recs))
	}
	for _, r := range recs {
		if len(r.UserAgent) > maxRecordedBytes+64 || !strings.Contains(r.UserAgent, "…(truncated ") {
			t.Fatalf("user agent recorded as %d bytes (%.80q…), want it cut and marked", len(r.UserAgent), r.UserAgent)
		}
	}
	if grew := dirSize(t, hs.dir) - before; grew > 1<<20 {
		t.Fatalf("data directory grew by %d bytes for 100 requests", grew)
	}
	if n := len(hs.logs.String()); n > 128<<10 {
		t.Fatalf("log of %d bytes for 100 requests", n)
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "short", in: "dev", want: "dev"},
		{name: "at the limit", in: strings.Repeat("a", maxRecordedBytes), want: strings.Repeat("a", maxRecordedBytes)},
		{name: "over", in: strings.Repeat("a", maxRecordedBytes+10), want: strings.Repeat("a", maxRecordedBytes) + "…(truncated 10 bytes)"},
		{name: "rune boundary", in: strings.Repeat("a", maxRecordedBytes-1) + "é" + "b",
			want: strings.Repeat("a", maxRecordedBytes-1) + "…(truncated 3 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clipText(tt.in); got != tt.want {
				t.Fatalf("clipText = %q, want %q", got, tt.want)
			}
		})
	}
	var many []string
	for i := range 200 {
		many = append(many, fmt.Sprintf("repository:p/%s%d:pull", strings.Repeat("n", 240), i))
	}
	got := clipScopes(many)
	total := 0
	for _, s := range got {
		total += len(s)
	}
	if total > maxRecordedScopes+64 || !strings.HasPrefix(got[len(got)-1], "…(truncated ") {
		t.Fatalf("clipScopes: %d entries, %d bytes, last %q", len(got), total, got[len(got)-1])
	}
}
