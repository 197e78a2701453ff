package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/stack"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/server/api"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// countingPasswords counts the password checks that reach the backend.
type countingPasswords struct {
	next  authn.PasswordAuthenticator
	calls atomic.Int64
}

func (c *countingPasswords) Login(ctx context.Context, user, pass string) (authn.Identity, bool, error) {
	c.calls.Add(1)
	return c.next.Login(ctx, user, pass)
}

// browserServer is the API at /api behind the server's middleware, with
// public URL publicURL, sysadmin root and the project team, its password
// checks counted.
type browserServer struct {
	t      *testing.T
	st     store.Store
	url    string
	logins *countingPasswords
}

func newBrowserServer(t *testing.T, publicURL string) *browserServer {
	t.Helper()
	st := sqlitetest.Open(t)
	adm := admin.New(st, admin.Options{RobotPrefix: "robot$", BcryptCost: 4})
	cli := admin.Actor{Name: "cli", Admin: true}
	if _, err := adm.CreateUser(t.Context(), cli, admin.NewUser{Name: "root", Password: "Pw-root-1", Admin: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateProject(t.Context(), cli, admin.NewProject{Name: "team", Public: false}); err != nil {
		t.Fatal(err)
	}
	b := &browserServer{t: t, st: st, logins: &countingPasswords{next: authntest.NewStack(t, st, authntest.Config(), stack.Options{}).Passwords}}
	h := api.New(api.Options{Admin: adm, Gate: login.New(login.Options{Passwords: b.logins, Realm: "harbor"}),
		Realm: "harbor", RobotPrefix: "robot$", PublicURL: publicURL})
	srv := httptest.NewServer(server.New(server.Options{API: h}))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

// send sends method path as root with body (none when "") and the header
// pairs hdr; Content-Type is whatever hdr says, none otherwise.
func (b *browserServer) send(method, path, body string, hdr ...string) resp {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.url+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	req.SetBasicAuth("root", "Pw-root-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

const jsonType = "application/json"

// TestCrossSiteRefused: a POST, PUT, PATCH or DELETE that a browser marks
// cross-site or same-site, or whose Origin is not the public URL's, is 403
// FORBIDDEN before any password check and changes nothing; same-origin and
// user-initiated browser requests, and programs that send neither header,
// are served; safe methods are never refused for their origin.
func TestCrossSiteRefused(t *testing.T) {
	b := newBrowserServer(t, "https://Auth.Example.org:443/base/")
	refused := []struct {
		name string
		hdr  []string
	}{
		{name: "cross-site", hdr: []string{"Sec-Fetch-Site", "cross-site"}},
		{name: "same-site", hdr: []string{"Sec-Fetch-Site", "same-site"}},
		{name: "unknown Sec-Fetch-Site", hdr: []string{"Sec-Fetch-Site", "sideways"}},
		{name: "foreign origin", hdr: []string{"Origin", "https://evil.example"}},
		{name: "null origin", hdr: []string{"Origin", "null"}},
		{name: "origin with our name as a prefix", hdr: []string{"Origin", "https://auth.example.org.evil.example"}},
		{name: "other scheme", hdr: []string{"Origin", "http://auth.example.org"}},
		{name: "other port", hdr: []string{"Origin", "https://auth.example.org:8443"}},
		{name: "origin with a path", hdr: []string{"Origin", "https://auth.example.org/base"}},
		{name: "two origins", hdr: []string{"Origin", "https://auth.example.org", "Origin", "https://evil.example"}},
		{name: "same-origin claim with a foreign origin", hdr: []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://evil.example"}},
	}
	changes := []struct{ method, path, body string }{
		{http.MethodPost, "/api/v2.0/projects", `{"project_name":"evil"}`},
		{http.MethodPut, "/api/v2.0/projects/team", `{"metadata":{"public":"true"}}`},
		{http.MethodPatch, "/api/v2.0/robots/1", `{"secret":""}`},
		{http.MethodDelete, "/api/v2.0/projects/team", ""},
	}
	for _, tt := range refused {
		for _, c := range changes {
			t.Run(tt.name+" "+c.method, func(t *testing.T) {
				before := b.logins.calls.Load()
				r := b.send(c.method, c.path, c.body, append([]string{"Content-Type", jsonType}, tt.hdr...)...)
				if r.status != http.StatusForbidden || r.errcode() != "FORBIDDEN" {
					t.Fatalf("status %d, body %s: want 403 FORBIDDEN", r.status, r.body)
				}
				if n := b.logins.calls.Load() - before; n != 0 {
					t.Fatalf("%d password checks before the refusal", n)
				}
			})
		}
	}
	ps, err := b.st.ListProjects(t.Context())
	if err != nil || len(ps) != 1 || ps[0].Name != "team" || ps[0].Public {
		t.Fatalf("projects after the refusals: %+v, %v; want team alone, private", ps, err)
	}

	served := []struct {
		name string
		hdr  []string
	}{
		{name: "a program: neither header"},
		{name: "same-origin", hdr: []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://auth.example.org"}},
		{name: "user-initiated", hdr: []string{"Sec-Fetch-Site", "none"}},
		{name: "origin spelled otherwise", hdr: []string{"Origin", "HTTPS://AUTH.EXAMPLE.ORG:443"}},
	}
	for i, tt := range served {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"project_name":"ok%d"}`, i)
			r := b.send(http.MethodPost, "/api/v2.0/projects", body, append([]string{"Content-Type", jsonType}, tt.hdr...)...)
			if r.status != http.StatusCreated {
				t.Fatalf("status %d, body %s: want 201", r.status, r.body)
			}
		})
	}
	t.Run("safe method from another site", func(t *testing.T) {
		r := b.send(http.MethodGet, "/api/v2.0/projects/team", "", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		if r.status != http.StatusOK {
			t.Fatalf("status %d, body %s: want 200", r.status, r.body)
		}
	})
	t.Run("no public URL: any origin refused", func(t *testing.T) {
		nb := newBrowserServer(t, "")
		r := nb.send(http.MethodPost, "/api/v2.0/projects", `{"project_name":"x"}`, "Content-Type", jsonType, "Origin", "https://auth.example.org")
		if r.status != http.StatusForbidden {
			t.Fatalf("status %d, body %s: want 403", r.status, r.body)
		}
		if r := nb.send(http.MethodPost, "/api/v2.0/projects", `{"project_name":"x"}`, "Content-Type", jsonType); r.status != http.StatusCreated {
			t.Fatalf("without an Origin: status %d, body %s: want 201", r.status, r.body)
		}
	})
}

// TestBodyMustBeJSON: a body without Content-Type: application/json is 415
// UNSUPPORTED_MEDIA_TYPE before any password check (a form or a fetch
// without preflight can only send text/plain, form-urlencoded or
// multipart); a missing Content-Type used to be read as JSON.
func TestBodyMustBeJSON(t *testing.T) {
	b := newBrowserServer(t, "https://auth.example.org")
	body := `{"project_name":"x"}`
	refused := []struct {
		name   string
		method string
		ct     string
	}{
		{name: "missing", method: http.MethodPost},
		{name: "text/plain", method: http.MethodPost, ct: "text/plain"},
		{name: "form", method: http.MethodPost, ct: "application/x-www-form-urlencoded"},
		{name: "multipart", method: http.MethodPost, ct: "multipart/form-data; boundary=x"},
		{name: "a longer type with the prefix", method: http.MethodPost, ct: "application/jsonx"},
		{name: "malformed", method: http.MethodPost, ct: "application/json; ="},
		{name: "PUT missing", method: http.MethodPut},
		{name: "GET with a body", method: http.MethodGet, ct: "text/plain"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := b.logins.calls.Load()
			var hdr []string
			if tt.ct != "" {
				hdr = []string{"Content-Type", tt.ct}
			}
			r := b.send(tt.method, "/api/v2.0/projects", body, hdr...)
			if r.status != http.StatusUnsupportedMediaType || r.errcode() != "UNSUPPORTED_MEDIA_TYPE" {
				t.Fatalf("status %d, body %s: want 415 UNSUPPORTED_MEDIA_TYPE", r.status, r.body)
			}
			if n := b.logins.calls.Load() - before; n != 0 {
				t.Fatalf("%d password checks before the refusal", n)
			}
		})
	}
	// A route that reads a body wants it JSON even when none was sent.
	if r := b.send(http.MethodPost, "/api/v2.0/projects", ""); r.status != http.StatusUnsupportedMediaType {
		t.Fatalf("empty body without a type: status %d, body %s: want 415", r.status, r.body)
	}
	if r := b.send(http.MethodPost, "/api/v2.0/projects", body, "Content-Type", "application/json; charset=utf-8"); r.status != http.StatusCreated {
		t.Fatalf("application/json; charset=utf-8: status %d, body %s: want 201", r.status, r.body)
	}
	// A request without a body needs no type.
	if r := b.send(http.MethodDelete, "/api/v2.0/projects/x", ""); r.status != http.StatusOK {
		t.Fatalf("DELETE without a body: status %d, body %s: want 200", r.status, r.body)
	}
}
