package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
)

// countingLogins counts the password checks that reach the backend: each
// is a slow check (authn.SlowCheck, as bcrypt is), so it is counted only
// once the gate has held its throttle reservation and given it a slot.
// While hold is set (holdChecks) each check waits until it is closed.
type countingLogins struct {
	next    authn.PasswordAuthenticator
	calls   atomic.Int64
	running atomic.Int64
	hold    atomic.Pointer[chan struct{}]
}

func (c *countingLogins) Login(ctx context.Context, user, pass string) (authn.Identity, bool, error) {
	if err := authn.SlowCheck(ctx); err != nil {
		return authn.Identity{}, false, err
	}
	c.calls.Add(1)
	c.running.Add(1)
	defer c.running.Add(-1)
	if h := c.hold.Load(); h != nil {
		<-*h
	}
	return c.next.Login(ctx, user, pass)
}

// holdChecks keeps every check waiting until the returned function is
// called.
func (c *countingLogins) holdChecks() (release func()) {
	h := make(chan struct{})
	c.hold.Store(&h)
	return func() { c.hold.Store(nil); close(h) }
}

// hardServer is the whole stack (internal/app) over a real SQLite store in
// dir with the local user "dev" (password "dev-secret"), its password
// checks counted, logging at debug level into logs. mutate adjusts the
// config.
type hardServer struct {
	t      *testing.T
	h      http.Handler
	st     store.Store
	app    *app.App
	dir    string
	logins *countingLogins
	logs   *testenv.Buffer
}

func newHardServer(t *testing.T, mutate func(*config.Config)) *hardServer {
	t.Helper()
	ctx := context.Background()
	cfg := apptest.Config(t)
	cfg.Token.Issuer, cfg.Token.Service = "fuzz-issuer", "fuzz-registry"
	cfg.Token.Expiration = config.Duration(5 * time.Minute)
	if mutate != nil {
		mutate(&cfg)
	}
	hs := &hardServer{t: t, dir: filepath.Dir(cfg.Storage.DSN), logs: &testenv.Buffer{}}
	hs.app = apptest.New(t, cfg, app.Options{
		Logger: slog.New(slog.NewJSONHandler(hs.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Passwords: func(p authn.PasswordAuthenticator) authn.PasswordAuthenticator {
			hs.logins = &countingLogins{next: p}
			return hs.logins
		},
	})
	hs.st, hs.h = hs.app.Store, hs.app.Handler
	hash, err := secret.HashPassword("dev-secret", 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := hs.st.CreateUser(ctx, &store.User{Name: "dev", PasswordHash: hash, Source: store.SourceLocal}); err != nil {
		t.Fatal(err)
	}
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
	long := strings.Repeat("u", server.MaxFieldBytes+1)
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
	ok := getReq(q(url.Values{"scope": {"repository:team/app:" + acts(16)}, "account": {strings.Repeat("u", server.MaxFieldBytes)}}), "dev", "dev-secret")
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
	hs := newHardServer(t, func(c *config.Config) {
		c.Audit.Enabled, c.Audit.Buffer = true, 1000
	})
	w := hs.app.Audit
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
		if len(r.UserAgent) > audit.MaxRecordedBytes+64 || !strings.Contains(r.UserAgent, "…(truncated ") {
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

// errorBody is the errcode JSON body of every error answer.
type errorBody struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// TestThrottleHolds: 120 guesses rotating through the addresses of one IPv6
// /64 and through spellings of the name meet 429, directly and through a
// trusted proxy, while the real owner from another network still gets in.
func TestThrottleHolds(t *testing.T) {
	hs := newHardServer(t, func(c *config.Config) {
		c.Throttle = config.Throttle{Enabled: true, UserIPFailures: 5, IPFailures: 50, BaseDelay: config.Duration(time.Minute),
			MaxDelay: config.Duration(time.Hour), Forget: config.Duration(time.Hour), MaxEntries: 100000, IPv4Prefix: 32, IPv6Prefix: 64}
		c.Server.TrustedProxies = []string{"10.0.0.0/8"}
	})
	q := url.Values{"scope": {"repository:team/app:pull"}}
	spellings := []string{"dev", "DEV", " dev", "Dev\t"}
	throttled := 0
	for i := range 120 {
		req := getReq(q, spellings[i%len(spellings)], fmt.Sprintf("guess%d", i))
		remote := fmt.Sprintf("[2001:db8:bad:1:%x::%x]:4000", i, i+1)
		if i%2 == 1 { // every other guess through the proxy
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("[2001:db8:bad:1::%x]:5555", i))
			remote = "10.0.0.1:4000"
		}
		rec := hs.serve(req, remote)
		switch rec.Code {
		case http.StatusTooManyRequests:
			throttled++
			if rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		case http.StatusUnauthorized:
		default:
			t.Fatalf("guess %d: status %d", i, rec.Code)
		}
	}
	if throttled < 100 {
		t.Fatalf("%d of 120 guesses throttled, want all but the first few", throttled)
	}
	if n := hs.logins.calls.Load(); n > 5 {
		t.Fatalf("%d password checks for 120 guesses", n)
	}
	owner := hs.serve(getReq(q, "dev", "dev-secret"), "[2001:db8:600d:7::1]:4000")
	if owner.Code != http.StatusOK {
		t.Fatalf("owner from another network: %d %s", owner.Code, owner.Body)
	}
	// The log keeps full addresses, not the /64.
	if logs := hs.logs.String(); !strings.Contains(logs, "2001:db8:bad:1:") || strings.Contains(logs, "/64") {
		t.Fatal("log does not carry the full client addresses")
	}
}

// TestReadyzNamesCheckOnly: /readyz says which check failed, never the
// error (addresses, DNs); the error is logged.
func TestReadyzNamesCheckOnly(t *testing.T) {
	sec := errors.New("ldap: dial tcp 10.1.2.3:389: bind cn=svc,dc=corp refused")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "store", err: &server.CheckError{Check: "store", Err: errors.New("open /var/lib/x.db: disk I/O error")}, want: "not ready: store"},
		{name: "ldap wrapped", err: fmt.Errorf("probe: %w", &server.CheckError{Check: "ldap", Err: sec}), want: "not ready: ldap"},
		{name: "unnamed", err: sec, want: "not ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testenv.Buffer{}
			h := server.New(server.Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Ready: func(context.Context) error { return tt.err }})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			wantErrcode(t, rec, http.StatusServiceUnavailable)
			var eb errorBody
			_ = json.Unmarshal(rec.Body.Bytes(), &eb)
			if eb.Errors[0].Message != tt.want {
				t.Fatalf("message %q, want %q", eb.Errors[0].Message, tt.want)
			}
			if !strings.Contains(logs.String(), "refused") && !strings.Contains(logs.String(), "disk I/O error") {
				t.Fatalf("error not logged: %q", logs.String())
			}
		})
	}
}

// Seed corpora live in testdata/fuzz/<FuzzName>/; `make fuzz` runs each
// target for $(FUZZTIME) on top of them.

// newFuzzHandler is the whole stack (internal/app) as serve builds it
// (robots → PATs → local users, refresh tokens) over a real SQLite store
// holding a developer of a private project and a public project.
func newFuzzHandler(f *testing.F) http.Handler {
	f.Helper()
	ctx := context.Background()
	cfg := apptest.Config(f)
	cfg.Token.Issuer, cfg.Token.Service = "fuzz-issuer", "fuzz-registry"
	cfg.Token.Expiration = config.Duration(5 * time.Minute)
	cfg.RefreshTokens.MaxLifetime = config.Duration(24 * time.Hour)
	cfg.RefreshTokens.MaxIdle = config.Duration(time.Hour)
	cfg.RefreshTokens.BindClientID = true
	a := apptest.New(f, cfg, app.Options{})
	st := a.Store
	hash, err := secret.HashPassword("dev-secret", 4)
	if err != nil {
		f.Fatal(err)
	}
	for _, step := range []func() error{
		func() error {
			return st.CreateUser(ctx, &store.User{Name: "dev", PasswordHash: hash, Source: store.SourceLocal})
		},
		func() error { return st.CreateProject(ctx, &store.Project{Name: "team"}) },
		func() error { return st.CreateProject(ctx, &store.Project{Name: "pub", Public: true}) },
		func() error {
			return st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleDeveloper})
		},
	} {
		if err := step(); err != nil {
			f.Fatal(err)
		}
	}
	return a.Handler
}

// FuzzParsePost sends arbitrary form bodies (and content types) through the
// whole POST pipeline: it must never panic, answer only 200, 400, 401, 413
// or 503, and every error must be an errcode JSON body.
func FuzzParsePost(f *testing.F) {
	h := newFuzzHandler(f)
	f.Add("application/x-www-form-urlencoded", "grant_type=password&service=fuzz-registry&username=dev&password=dev-secret&scope=repository%3Ateam%2Fapp%3Apull")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, "/service/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		status, raw := rec.Code, rec.Body.Bytes()
		switch status {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d for %q %q; body %s", status, contentType, body, raw)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("status %d: Content-Type %q, want application/json", status, ct)
		}
		// The pre-authentication limits: a form with an oversized name or
		// scope never gets past parsing.
		mt, _, _ := mime.ParseMediaType(contentType)
		form, ferr := url.ParseQuery(body)
		if mt == "application/x-www-form-urlencoded" && ferr == nil && len(body) <= server.MaxFormBytes {
			for _, k := range []string{"username", "client_id", "service"} {
				if len(form.Get(k)) > server.MaxFieldBytes && status != http.StatusBadRequest {
					t.Fatalf("%s of %d bytes: status %d, want 400", k, len(form.Get(k)), status)
				}
			}
		}
		if status == http.StatusOK {
			var tr struct {
				Token       string `json:"token"`
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				Scope       string `json:"scope"`
			}
			if err := json.Unmarshal(raw, &tr); err != nil || tr.Token == "" || tr.Token != tr.AccessToken || tr.TokenType != "Bearer" {
				t.Fatalf("200 for %q: body %s (%v) is not a token response", body, raw, err)
			}
			// What was served stayed within the limits.
			granted := strings.Fields(tr.Scope)
			if len(granted) > authz.MaxScopes {
				t.Fatalf("200 for %q: %d scopes granted", body, len(granted))
			}
			for _, g := range granted {
				sc, err := authz.ParseScope(g)
				if err != nil || len(sc.Name) > authz.MaxNameLength || len(sc.Actions) > authz.MaxActions {
					t.Fatalf("200 for %q: granted %q over the limits (%v)", body, g, err)
				}
			}
			return
		}
		var eb errorBody
		if err := json.Unmarshal(raw, &eb); err != nil || len(eb.Errors) != 1 || eb.Errors[0].Code == "" || eb.Errors[0].Message == "" {
			t.Fatalf("status %d for %q: body %q (%v) is not an errcode body", status, body, raw, err)
		}
		if status == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("401 without a Basic challenge for %q", body)
		}
	})
}
