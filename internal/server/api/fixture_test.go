package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/stack"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/server/api"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
	"github.com/authserver/authserver/internal/throttle"
	"github.com/authserver/authserver/internal/token"
)

func TestMain(m *testing.M) { testenv.MainThen(m, everyOperationExercised) }

// backend opens a fresh, migrated store for one run of a test.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

// backends runs fn once on SQLite and, under -tags integration, once more
// on a throwaway PostgreSQL (postgres_test.go).
func backends(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, b := range append([]backend{{"sqlite", sqliteStore}}, integrationBackends...) {
		t.Run(b.name, func(t *testing.T) { fn(t, newFixture(t, b.open(t))) })
	}
}

func sqliteStore(t *testing.T) store.Store { return sqlitetest.Open(t) }

// fixture is the whole HTTP server (token endpoint and API) on a real
// store, with sysadmin "root".
type fixture struct {
	t   *testing.T
	st  store.Store
	adm *admin.Service
	srv *httptest.Server
	api http.Handler
	pw  map[string]string
}

func newFixture(t *testing.T, st store.Store) *fixture {
	t.Helper()
	return newFixturePrefix(t, st, "robot$")
}

// newFixturePrefix is newFixture with robots.prefix prefix; opts change
// the admin policy.
func newFixturePrefix(t *testing.T, st store.Store, prefix string, opts ...func(*admin.Options)) *fixture {
	t.Helper()
	cfg := authntest.Config()
	cfg.Robots.Prefix = prefix
	passwords := authntest.NewStack(t, st, cfg, stack.Options{}).Passwords
	thr := throttle.New(throttle.Config{UserIPLimit: 5, IPLimit: 1000, BaseDelay: time.Minute, MaxDelay: time.Hour,
		Forget: time.Hour, MaxEntries: 1000, IPv4Prefix: 32, IPv6Prefix: 64}, nil)
	ao := admin.Options{RobotPrefix: prefix, BcryptCost: 4, Issuers: []string{"github"}, DefaultRobotLifetime: 30 * 24 * time.Hour}
	for _, o := range opts {
		o(&ao)
	}
	adm := admin.New(st, ao)
	f := &fixture{t: t, st: st, adm: adm, pw: map[string]string{}}
	gate := login.New(login.Options{Passwords: passwords, Throttle: thr, Realm: "harbor"})
	f.api = api.New(api.Options{Admin: adm, Gate: gate, ClientIP: server.ClientIP,
		Realm: "harbor", Version: "test", AuthMode: "db_auth", RegistryURL: "http://registry.test", RobotPrefix: prefix})
	f.srv = httptest.NewServer(conforming(t, server.New(server.Options{Gate: gate, Authorizer: authz.New(st),
		Issuer: token.NewIssuer(testenv.Signer(t), "test-issuer", "test-registry", 30*time.Minute), Realm: "harbor", API: f.api})))
	t.Cleanup(f.srv.Close)
	f.user("root", true)
	return f
}

// user creates a local user through admin (as the CLI would).
func (f *fixture) user(name string, sysadmin bool) {
	f.t.Helper()
	pw := "Pw-" + name + "-1"
	if _, err := f.adm.CreateUser(context.Background(), admin.Actor{Name: "cli", Admin: true},
		admin.NewUser{Name: name, Password: pw, Admin: sysadmin}); err != nil {
		f.t.Fatal(err)
	}
	f.pw[name] = pw
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v, failing the test when it cannot.
func (r resp) json(t *testing.T, v any) {
	t.Helper()
	testenv.DecodeJSON(t, r.body, v)
}

// errcode is the first error code of an errcode body, "" when none.
func (r resp) errcode() string { return testenv.ErrorCode(r.body) }

// do sends method path (under the server) as user ("" anonymous; a user
// not in f.pw sends pass as given) with body (a string is sent as is, else
// JSON-encoded).
func (f *fixture) do(user, method, path string, body any, hdr ...string) resp {
	f.t.Helper()
	return f.doPw(user, f.pw[user], method, path, body, hdr...)
}

func (f *fixture) doPw(user, pass, method, path string, body any, hdr ...string) resp {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

// want fails the test unless r has status.
func want(t *testing.T, r resp, status int, what string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
}

// claims decodes a JWT's payload without verifying it (the token tests
// in internal/server verify signatures).
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
