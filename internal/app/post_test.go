package app_test

import (
	"context"
	"github.com/authserver/authserver/internal/server"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for expiry tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeDirectory is the LDAP re-check hook (authn.UserChecker) for tests:
// it knows the users set to true.
type fakeDirectory struct {
	mu    sync.Mutex
	known map[string]bool
}

func (d *fakeDirectory) StillValid(_ context.Context, user string, _ time.Time) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.known[user], nil
}

func (d *fakeDirectory) set(user string, known bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.known[user] = known
}

// post sends a form to path with the given Content-Type ("" = the form type).
func (f *fixture) post(path string, form url.Values, contentType string) reply {
	f.t.Helper()
	if contentType == "" {
		contentType = "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	f.must(err)
	req.Header.Set("Content-Type", contentType)
	return f.do(req)
}

// passwordForm is a password grant for user with the fixture's password.
func (f *fixture) passwordForm(user string, extra url.Values) url.Values {
	v := url.Values{"grant_type": {"password"}, "service": {"test-registry"}, "client_id": {"docker"},
		"username": {user}, "password": {f.users[user]}}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

func refreshForm(rt string, extra url.Values) url.Values {
	v := url.Values{"grant_type": {"refresh_token"}, "service": {"test-registry"}, "client_id": {"docker"}, "refresh_token": {rt}}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

// login gets a refresh token for user with the password grant.
func (f *fixture) login(user string) string {
	f.t.Helper()
	r := f.post("/service/token", f.passwordForm(user, url.Values{"access_type": {"offline"}}), "")
	rt, _ := r.body["refresh_token"].(string)
	if r.status != 200 || !strings.HasPrefix(rt, "asr_") {
		f.t.Fatalf("login %s: %d %v", user, r.status, r.body)
	}
	return rt
}

// wantAccess checks a 200 answer's access claim.
func wantAccess(t *testing.T, r reply, want []any) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %v", r.status, r.body)
	}
	if !reflect.DeepEqual(r.claims["access"], want) {
		t.Fatalf("access %v, want %v", r.claims["access"], want)
	}
}

func TestPostGrants(t *testing.T) {
	f := newFixture(t)
	rt := f.login("dev")
	tests := []struct {
		name        string
		path        string
		form        url.Values
		contentType string
		want        []any  // access claim
		wantScope   string // the answer's scope
		wantRefresh string // "" none, "new", or the exact token
	}{
		{name: "password, space-joined scope", form: f.passwordForm("dev", url.Values{"scope": {"repository:team/a:pull,push repository:pub/b:push"}}),
			want:      []any{access("repository", "team/a", "pull", "push"), access("repository", "pub/b")},
			wantScope: "repository:team/a:pull,push"},
		{name: "password, repeated scope fields", form: f.passwordForm("dev", url.Values{"scope": {"repository:team/a:pull", "repository:pub/b:pull"}}),
			want:      []any{access("repository", "team/a", "pull"), access("repository", "pub/b", "pull")},
			wantScope: "repository:team/a:pull repository:pub/b:pull"},
		{name: "password, login without scope", form: f.passwordForm("dev", nil), want: []any{}},
		{name: "password, offline", form: f.passwordForm("dev", url.Values{"access_type": {"offline"}}), want: []any{}, wantRefresh: "new"},
		{name: "password at /token with charset", path: "/token", contentType: "application/x-www-form-urlencoded; charset=utf-8",
			form: f.passwordForm("root", url.Values{"scope": {"registry:catalog:*"}}),
			want: []any{access("registry", "catalog", "*")}, wantScope: "registry:catalog:*"},
		{name: "containerd-shaped password grant", contentType: "application/x-www-form-urlencoded; charset=utf-8",
			form: url.Values{"grant_type": {"password"}, "service": {"test-registry"}, "client_id": {"containerd-client"},
				"username": {"dev"}, "password": {"dev-secret"}, "scope": {"repository:team/a:pull repository:team/b:pull,push"}},
			want:      []any{access("repository", "team/a", "pull"), access("repository", "team/b", "pull", "push")},
			wantScope: "repository:team/a:pull repository:team/b:pull,push"},
		{name: "refresh", form: refreshForm(rt, url.Values{"scope": {"repository:team/a:push"}}),
			want: []any{access("repository", "team/a", "push")}, wantScope: "repository:team/a:push", wantRefresh: rt},
		{name: "refresh, offline gives the same token", form: refreshForm(rt, url.Values{"access_type": {"offline"}}), want: []any{}, wantRefresh: rt},
		{name: "refresh, no service field", form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"docker"}, "refresh_token": {rt}},
			want: []any{}, wantRefresh: rt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/service/token"
			}
			r := f.post(path, tt.form, tt.contentType)
			wantAccess(t, r, tt.want)
			if r.body["access_token"] == nil || r.body["access_token"] != r.body["token"] || r.body["token_type"] != "Bearer" {
				t.Fatalf("access_token/token/token_type: %v", r.body)
			}
			if n, ok := r.body["expires_in"].(float64); !ok || n != 1800 {
				t.Fatalf("expires_in %v", r.body["expires_in"])
			}
			if _, err := time.Parse(time.RFC3339, r.body["issued_at"].(string)); err != nil {
				t.Fatalf("issued_at: %v", err)
			}
			if got, _ := r.body["scope"].(string); got != tt.wantScope {
				t.Fatalf("scope %q, want %q", got, tt.wantScope)
			}
			if r.claims["sub"] != "dev" && r.claims["sub"] != "root" {
				t.Fatalf("sub %v", r.claims["sub"])
			}
			got, has := r.body["refresh_token"].(string)
			switch tt.wantRefresh {
			case "":
				if has {
					t.Fatalf("refresh_token %q not asked for", got)
				}
			case "new":
				if !strings.HasPrefix(got, "asr_") || got == rt {
					t.Fatalf("refresh_token %q, want a new one", got)
				}
			default:
				if got != tt.wantRefresh {
					t.Fatalf("refresh grant answered refresh_token %q, want the same token", got)
				}
			}
		})
	}
}

func TestPostErrors(t *testing.T) {
	f := newFixture(t)
	rt := f.login("dev")
	tests := []struct {
		name        string
		form        url.Values
		raw         string // body instead of form
		contentType string
		status      int
		code        string
	}{
		{name: "unknown grant", form: url.Values{"grant_type": {"client_credentials"}}, status: 400, code: "UNSUPPORTED"},
		{name: "missing grant", form: url.Values{"username": {"dev"}, "password": {"dev-secret"}}, status: 400, code: "INVALID_REQUEST"},
		{name: "password without username", form: url.Values{"grant_type": {"password"}, "password": {"x"}}, status: 400, code: "INVALID_REQUEST"},
		{name: "refresh without token", form: url.Values{"grant_type": {"refresh_token"}}, status: 400, code: "INVALID_REQUEST"},
		{name: "not a form", form: f.passwordForm("dev", nil), contentType: "application/json", status: 400, code: "INVALID_REQUEST"},
		{name: "malformed form", raw: "a=%zz", status: 400, code: "INVALID_REQUEST"},
		{name: "too large", raw: "scope=" + strings.Repeat("x", server.MaxFormBytes), status: 413, code: "INVALID_REQUEST"},
		{name: "malformed scope", form: f.passwordForm("dev", url.Values{"scope": {"repository:team"}}), status: 400, code: "INVALID_REQUEST"},
		{name: "foreign service", form: f.passwordForm("dev", url.Values{"service": {"other"}}), status: 400, code: "INVALID_REQUEST"},
		{name: "bad password", form: url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {"nope"}}, status: 401, code: "UNAUTHORIZED"},
		{name: "empty password", form: url.Values{"grant_type": {"password"}, "username": {"dev"}}, status: 401, code: "UNAUTHORIZED"},
		{name: "disabled user", form: f.passwordForm("gone", nil), status: 401, code: "UNAUTHORIZED"},
		{name: "unknown refresh token", form: refreshForm("asr_"+strings.Repeat("A", 43), nil), status: 401, code: "UNAUTHORIZED"},
		{name: "garbage refresh token", form: refreshForm("hello", nil), status: 401, code: "UNAUTHORIZED"},
		{name: "password as refresh token", form: refreshForm("dev-secret", nil), status: 401, code: "UNAUTHORIZED"},
		{name: "refresh token as password", form: url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {rt}}, status: 401, code: "UNAUTHORIZED"},
		{name: "other client_id", form: refreshForm(rt, url.Values{"client_id": {"go-containerregistry"}}), status: 401, code: "UNAUTHORIZED"},
		{name: "refresh token in the query only", raw: "grant_type=refresh_token&service=test-registry", status: 400, code: "INVALID_REQUEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.raw
			if body == "" {
				body = tt.form.Encode()
			}
			ct := tt.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			target := f.srv.URL + "/service/token"
			if tt.name == "refresh token in the query only" {
				target += "?refresh_token=" + url.QueryEscape(rt)
			}
			req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
			f.must(err)
			req.Header.Set("Content-Type", ct)
			r := f.do(req)
			errs, _ := r.body["errors"].([]any)
			if r.status != tt.status || len(errs) != 1 || errs[0].(map[string]any)["code"] != tt.code {
				t.Fatalf("got %d %v, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if r.body["access_token"] != nil || r.body["refresh_token"] != nil {
				t.Fatalf("an error carries a token: %v", r.body)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", r.header.Get("Content-Type"))
			}
		})
	}
}

// TestGetOfflineToken is docker login's flow: GET with offline_token=true
// and client_id=docker, then POST refresh grants.
func TestGetOfflineToken(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		user        string
		query       url.Values
		wantRefresh bool
	}{
		{name: "plain GET", user: "dev", query: url.Values{"service": {"test-registry"}}},
		{name: "offline_token=false", user: "dev", query: url.Values{"service": {"test-registry"}, "offline_token": {"false"}}},
		{name: "anonymous offline", query: url.Values{"service": {"test-registry"}, "offline_token": {"true"}}},
		{name: "docker login", user: "dev", wantRefresh: true,
			query: url.Values{"service": {"test-registry"}, "offline_token": {"true"}, "client_id": {"docker"}, "account": {"dev"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.get("GET", "/service/token", tt.query, tt.user, f.users[tt.user])
			wantAccess(t, r, []any{})
			rt, has := r.body["refresh_token"].(string)
			if has != tt.wantRefresh {
				t.Fatalf("refresh_token present %v, want %v: %v", has, tt.wantRefresh, r.body)
			}
			if _, ok := r.body["scope"]; ok {
				t.Fatal("GET answers carry no scope field")
			}
			if !tt.wantRefresh {
				return
			}
			pull := f.post("/service/token", refreshForm(rt, url.Values{"scope": {"repository:team/app:pull"}}), "")
			wantAccess(t, pull, []any{access("repository", "team/app", "pull")})
			if pull.claims["sub"] != "dev" {
				t.Fatalf("sub %v", pull.claims["sub"])
			}
		})
	}
}
