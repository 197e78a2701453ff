package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// fixture is the whole stack (internal/app) over a real SQLite store and a
// real signing key, serving on a local port.
type fixture struct {
	t     *testing.T
	st    store.Store
	srv   *httptest.Server
	kid   string
	users map[string]string // name → password
	// clock drives refresh token, robot and PAT expiry.
	clock *testClock
	// directory stands in for LDAP when re-checking LDAP users.
	directory *fakeDirectory
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f, _ := newFixtureWith(t, nil)
	return f
}

// newFixtureWith is newFixture with the config and options changed by mod
// (nil: none) before the stack is built; it returns the stack too.
func newFixtureWith(t *testing.T, mod func(*config.Config, *app.Options)) (*fixture, *app.App) {
	t.Helper()
	ctx := context.Background()
	cfg := apptest.Config(t)
	cfg.Token.Issuer, cfg.Token.Service = "test-issuer", "test-registry"
	cfg.RefreshTokens.MaxLifetime = config.Duration(90 * 24 * time.Hour)
	cfg.RefreshTokens.MaxIdle = config.Duration(30 * 24 * time.Hour)
	cfg.RefreshTokens.BindClientID = true
	f := &fixture{t: t, users: map[string]string{},
		clock: &testClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, directory: &fakeDirectory{known: map[string]bool{}}}
	opts := app.Options{Now: f.clock.Now,
		UserCheckers: map[string]authn.UserChecker{store.SourceLDAP: f.directory}}
	if mod != nil {
		mod(&cfg, &opts)
	}
	a := apptest.New(t, cfg, opts)
	f.st, f.kid = a.Store, a.Keys.Issuer().Signer().KID()
	f.srv = httptest.NewServer(a.Handler)
	t.Cleanup(f.srv.Close)

	f.addUser("root", true, false)
	f.addUser("dev", false, false)
	f.addUser("gone", false, true)
	f.must(f.st.CreateProject(ctx, &store.Project{Name: "team"}))
	f.must(f.st.CreateProject(ctx, &store.Project{Name: "pub", Public: true}))
	f.must(f.st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleDeveloper}))
	return f, a
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) addUser(name string, admin, disabled bool) {
	pw := name + "-secret"
	hash, err := secret.HashPassword(pw, 4)
	f.must(err)
	f.must(f.st.CreateUser(context.Background(), &store.User{Name: name, PasswordHash: hash, Admin: admin, Disabled: disabled, Source: store.SourceLocal}))
	f.users[name] = pw
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	claims map[string]any
}

// get requests path?query with optional Basic credentials.
func (f *fixture) get(method, path string, query url.Values, user, pass string) reply {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path+"?"+query.Encode(), nil)
	f.must(err)
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	return f.do(req)
}

// do sends req and decodes the JSON answer and, if any, the token's claims.
func (f *fixture) do(req *http.Request) reply {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	f.must(err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			f.t.Fatalf("body is not JSON: %q", raw)
		}
	}
	if tok, ok := r.body["token"].(string); ok {
		parts := strings.Split(tok, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		f.must(err)
		f.must(json.Unmarshal(payload, &r.claims))
	}
	return r
}

func scopeQuery(scopes ...string) url.Values {
	return url.Values{"service": {"test-registry"}, "scope": scopes}
}

func TestTokenGrants(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		user, pass string // empty = anonymous
		scopes     []string
		want       []any // the access claim
	}{
		{name: "anonymous login", want: []any{}},
		{name: "anonymous public pull", scopes: []string{"repository:pub/x:pull,push"},
			want: []any{access("repository", "pub/x", "pull")}},
		{name: "anonymous private nothing", scopes: []string{"repository:team/app:pull"},
			want: []any{access("repository", "team/app")}},
		{name: "developer", user: "dev", scopes: []string{"repository:team/app:pull,push,delete"},
			want: []any{access("repository", "team/app", "pull", "push")}},
		{name: "developer space-joined and repeated", user: "dev",
			scopes: []string{"repository:team/a:pull repository:pub/b:push", "repository:team/a:push"},
			want:   []any{access("repository", "team/a", "pull", "push"), access("repository", "pub/b")}},
		{name: "developer no catalog", user: "dev", scopes: []string{"registry:catalog:*"},
			want: []any{access("registry", "catalog")}},
		{name: "sysadmin catalog and star", user: "root", scopes: []string{"registry:catalog:*", "repository:busybox:*"},
			want: []any{access("registry", "catalog", "*"), access("repository", "busybox", "delete", "pull", "push")}},
		{name: "class dropped", user: "dev", scopes: []string{"repository(plugin):team/app:pull"},
			want: []any{access("repository", "team/app", "pull")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pass := tt.pass
			if tt.user != "" {
				pass = f.users[tt.user]
			}
			r := f.get("GET", "/service/token", scopeQuery(tt.scopes...), tt.user, pass)
			if r.status != 200 {
				t.Fatalf("status %d: %v", r.status, r.body)
			}
			if r.body["token"] != r.body["access_token"] {
				t.Fatal("token and access_token differ")
			}
			if n, ok := r.body["expires_in"].(float64); !ok || n != 1800 {
				t.Fatalf("expires_in %v", r.body["expires_in"])
			}
			if _, err := time.Parse(time.RFC3339, r.body["issued_at"].(string)); err != nil {
				t.Fatalf("issued_at: %v", err)
			}
			if _, ok := r.body["refresh_token"]; ok {
				t.Fatal("refresh_token without offline_token")
			}
			if r.claims["sub"] != tt.user || r.claims["aud"] != "test-registry" || r.claims["iss"] != "test-issuer" {
				t.Fatalf("claims %v", r.claims)
			}
			if !reflect.DeepEqual(r.claims["access"], tt.want) {
				t.Fatalf("access %v, want %v", r.claims["access"], tt.want)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Fatal("token response may be cached")
			}
		})
	}
}

func access(typ, name string, actions ...string) map[string]any {
	acts := make([]any, len(actions))
	for i, a := range actions {
		acts[i] = a
	}
	return map[string]any{"type": typ, "name": name, "actions": acts}
}

func TestTokenErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		method    string
		path      string
		query     url.Values
		user      string
		pass      string
		rawAuth   string
		status    int
		code      string
		challenge bool
	}{
		{name: "wrong password", user: "dev", pass: "nope", status: 401, code: "UNAUTHORIZED", challenge: true},
		{name: "wrong password with scope", user: "dev", pass: "nope", query: scopeQuery("repository:pub/x:pull"), status: 401, code: "UNAUTHORIZED", challenge: true},
		{name: "unknown user", user: "ghost", pass: "x", status: 401, code: "UNAUTHORIZED", challenge: true},
		{name: "disabled user", user: "gone", pass: "gone-secret", status: 401, code: "UNAUTHORIZED", challenge: true},
		{name: "empty password", user: "dev", pass: "", rawAuth: "Basic " + base64.StdEncoding.EncodeToString([]byte("dev:")), status: 401, code: "UNAUTHORIZED", challenge: true},
		{name: "bearer scheme", rawAuth: "Bearer abc", status: 401, code: "UNAUTHORIZED", challenge: true},
		{name: "bad base64", rawAuth: "Basic !!!", status: 400, code: "INVALID_REQUEST"},
		{name: "no colon", rawAuth: "Basic " + base64.StdEncoding.EncodeToString([]byte("dev")), status: 400, code: "INVALID_REQUEST"},
		{name: "malformed scope", query: scopeQuery("repository:team"), status: 400, code: "INVALID_REQUEST"},
		{name: "foreign service", query: url.Values{"service": {"other"}}, status: 400, code: "INVALID_REQUEST"},
		{name: "post without a form", method: "POST", status: 400, code: "INVALID_REQUEST"},
		{name: "delete", method: "DELETE", status: 405, code: "UNSUPPORTED"},
		{name: "put", method: "PUT", path: "/token", status: 405, code: "UNSUPPORTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path := tt.method, tt.path
			if method == "" {
				method = "GET"
			}
			if path == "" {
				path = "/service/token"
			}
			req, _ := http.NewRequest(method, f.srv.URL+path+"?"+tt.query.Encode(), nil)
			switch {
			case tt.rawAuth != "":
				req.Header.Set("Authorization", tt.rawAuth)
			case tt.user != "":
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Errors []struct{ Code, Message string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body: %v", err)
			}
			if resp.StatusCode != tt.status || len(body.Errors) != 1 || body.Errors[0].Code != tt.code || body.Errors[0].Message == "" {
				t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, body, tt.status, tt.code)
			}
			if got := resp.Header.Get("WWW-Authenticate"); tt.challenge != strings.HasPrefix(got, "Basic realm=") {
				t.Fatalf("WWW-Authenticate %q", got)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestStoreDownIs503(t *testing.T) {
	f := newFixture(t)
	f.st.Close()
	for _, user := range []string{"dev", ""} {
		r := f.get("GET", "/service/token", scopeQuery("repository:team/app:pull"), user, f.users[user])
		if r.status != 503 {
			t.Fatalf("user %q: status %d, want 503", user, r.status)
		}
	}
}

func TestJWKSMatchesTokens(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 1 || jwks.Keys[0]["kid"] != f.kid {
		t.Fatalf("jwks %v, want kid %s", jwks, f.kid)
	}
	r := f.get("GET", "/token", scopeQuery(), "", "")
	tok := r.body["token"].(string)
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]any
	_ = json.Unmarshal(header, &h)
	if h["kid"] != f.kid || h["alg"] != "RS256" || h["typ"] != "JWT" || h["x5c"] == nil {
		t.Fatalf("header %v", h)
	}
}
