//go:build integration

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// policyFlavour is the registry the policy scenarios run against.
var policyFlavour = flavours[0] // registry v3.1.2

// TestPolicy runs the scenarios of issue 24 against registry v3.1.2 with
// crane: repository rules, a deny rule, a robot limited to app-*, a robot
// limited to 127.0.0.2, push token lifetimes, create on push, a personal
// project and an internal project.
func TestPolicy(t *testing.T) {
	if policyFlavour.name != "registry-v3.1.2" {
		t.Fatalf("flavour %s, want registry-v3.1.2", policyFlavour.name)
	}
	a := startAuthServer(t, authOptions{
		token:       "  push_expiration: 2h\n  max_expiration: 4h\n",
		extraConfig: "projects:\n  create_on_push: true\n  personal_template: \"u-{username}\"\n",
	})
	reg := startRegistry(t, policyFlavour, a)
	pass := map[string]string{"dev": "Dev-pass-1", "outsider": "Outsider-pass-1", "maker": "Maker-pass-1"}
	for u, p := range pass {
		a.addUser(t, u, p)
	}
	for _, args := range [][]string{
		{"project", "create", "team"},
		{"member", "add", "team", "--user", "dev", "--role", "developer"},
		{"rule", "add", "team", "--repos", "app-*", "--user", "outsider", "--actions", "push"},
		{"rule", "add", "team", "--repos", "release/*", "--user", "dev", "--actions", "push", "--deny"},
		{"project", "create", "inside", "--visibility", "internal"},
	} {
		a.cli(t, args...)
	}
	admin := newSession(t, reg, "admin", a.adminPass)
	dev := newSession(t, reg, "dev", pass["dev"])
	outsider := newSession(t, reg, "outsider", pass["outsider"])
	anonymous := newSession(t, reg, "", "")

	t.Run("rule lets a non-member push to app-*", func(t *testing.T) {
		mustOK(t, outsider.cranePush(t, "team/app-1:1", "outsider app-1"))
		mustOK(t, outsider.cranePull("team/app-1:1"))
		mustRefuse(t, outsider.cranePush(t, "team/other:1", "outsider other"))
		out := a.cli(t, "explain", "--user", "outsider", "repository:team/app-1:push")
		if !strings.Contains(out, "allow user outsider on app-*") {
			t.Errorf("explain does not name the rule:\n%s", out)
		}
	})

	t.Run("deny rule beats the developer role", func(t *testing.T) {
		mustRefuse(t, dev.cranePush(t, "team/release/v1:1", "dev release"))
		mustOK(t, dev.cranePush(t, "team/app:1", "dev app"))
		mustOK(t, dev.cranePull("team/app:1"))
		mustOK(t, admin.cranePush(t, "team/release/v1:1", "admin release")) // sysadmins are exempt
		mustOK(t, dev.cranePull("team/release/v1:1"))                       // the deny is on push only
	})

	t.Run("robot limited to app-*", func(t *testing.T) {
		out := a.cli(t, "robot", "create", "ci", "--project", "team", "--actions", "pull,push", "--repos", "app-*")
		robot := newSession(t, reg, "robot$team+ci", secretOf(t, out))
		mustOK(t, robot.cranePush(t, "team/app-2:1", "robot app-2"))
		mustRefuse(t, robot.cranePush(t, "team/web:1", "robot web"))
		mustRefuse(t, robot.cranePull("team/app:1")) // app does not match app-*
	})

	t.Run("robot allowed from 127.0.0.2 only", func(t *testing.T) {
		out := a.cli(t, "robot", "create", "net", "--project", "team", "--actions", "pull,push", "--allow-from", "127.0.0.2/32")
		secret := secretOf(t, out)
		// The registry's realm is a proxy that reaches authserver from a
		// loopback address of the test's choosing.
		from := &atomic.Value{}
		proxied := startSourceProxy(t, a, from)
		viaProxy := startRegistryWithAuth(t, policyFlavour, proxied, strings.Replace(a.cli(t, "registry-config"),
			a.url+"/service/token", proxied.url+"/service/token", 1))
		from.Store("127.0.0.2")
		robot := newSession(t, viaProxy, "robot$team+net", secret)
		mustOK(t, robot.cranePush(t, "team/net:1", "from .2"))
		from.Store("127.0.0.3")
		mustRefuse(t, robot.cranePush(t, "team/net:2", "from .3"))
		mustRefuse(t, robot.cranePull("team/net:1"))
		// Refusals are written by the audit writer in the background.
		var recs string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			recs = a.cli(t, "audit", "list", "--user", "robot$team+net", "--result", "unauthorized", "--output", "json")
			if strings.Contains(recs, "may log in only from 127.0.0.2/32, not from 127.0.0.3") {
				break
			}
		}
		if !strings.Contains(recs, "may log in only from 127.0.0.2/32, not from 127.0.0.3") || !strings.Contains(recs, `"client_ip": "127.0.0.3"`) {
			t.Errorf("the audit record lacks the reason or the address:\n%s", recs)
		}
		out = a.cli(t, "explain", "--robot", "team+net", "--from", "127.0.0.3", "repository:team/net:pull")
		if !strings.Contains(out, "refused: robot robot$team+net may log in only from 127.0.0.2/32") {
			t.Errorf("explain --from:\n%s", out)
		}
	})

	t.Run("push token lives token.push_expiration", func(t *testing.T) {
		for _, tt := range []struct {
			scope string
			want  int
		}{{"repository:team/lifetimes:pull", 30 * 60}, {"repository:team/lifetimes:pull,push", 2 * 3600}} { // never asked before: not reused
			r := a.getToken(t, "dev", pass["dev"], "service=harbor-registry&scope="+tt.scope)
			var body struct {
				Token     string `json:"token"`
				ExpiresIn int    `json:"expires_in"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil || r.status != 200 {
				t.Fatalf("%s: %d %s", tt.scope, r.status, r.body)
			}
			if body.ExpiresIn != tt.want {
				t.Errorf("%s: expires_in %d, want %d", tt.scope, body.ExpiresIn, tt.want)
			}
			var c struct{ Iat, Exp int64 }
			decodeJWTPayload(t, body.Token, &c)
			if c.Exp-c.Iat != int64(tt.want) {
				t.Errorf("%s: exp-iat %d, want %d", tt.scope, c.Exp-c.Iat, tt.want)
			}
		}
		// The push token works for a push.
		mustOK(t, dev.cranePush(t, "team/app:2", "dev app 2"))
	})

	t.Run("create on push", func(t *testing.T) {
		maker := newSession(t, reg, "maker", pass["maker"])
		mustOK(t, maker.cranePush(t, "fresh/app:1", "maker fresh"))
		mustOK(t, maker.cranePull("fresh/app:1"))
		if out := a.cli(t, "member", "list", "fresh"); !strings.Contains(out, "maker") || !strings.Contains(out, "projectAdmin") {
			t.Errorf("maker is not projectAdmin of fresh:\n%s", out)
		}
		if out := a.cli(t, "audit", "list", "--kind", "admin", "--user", "maker"); !strings.Contains(out, "project.create") {
			t.Errorf("no admin audit record of the creation:\n%s", out)
		}
		mustRefuse(t, anonymous.cranePush(t, "byanon/app:1", "anonymous"))
		if r := a.tryCLI("", "project", "list"); strings.Contains(r.stdout, "byanon") {
			t.Errorf("anonymous created a project:\n%s", r.stdout)
		}
		// The private project is maker's: another user cannot pull.
		mustRefuse(t, outsider.cranePull("fresh/app:1"))
	})

	t.Run("personal project", func(t *testing.T) {
		mustOK(t, dev.cranePush(t, "u-dev/tool:1", "dev personal"))
		mustOK(t, dev.cranePull("u-dev/tool:1"))
		mustRefuse(t, dev.cranePush(t, "u-outsider/tool:1", "not dev's"))
		if out := a.cli(t, "member", "list", "u-dev"); !strings.Contains(out, "projectAdmin") {
			t.Errorf("dev is not projectAdmin of u-dev:\n%s", out)
		}
	})

	t.Run("internal project", func(t *testing.T) {
		mustOK(t, admin.cranePush(t, "inside/base:1", "inside"))
		mustOK(t, outsider.cranePull("inside/base:1"))
		mustRefuse(t, outsider.cranePush(t, "inside/base:2", "outsider inside"))
		mustRefuse(t, anonymous.cranePull("inside/base:1"))
	})
}

// TestPolicyApply runs `authserver apply` from an empty database, again
// (no change) and with --prune, with what it made used by crane against
// registry v3.1.2; `export` gives a file that applies with no change.
func TestPolicyApply(t *testing.T) {
	a := startAuthServer(t, authOptions{})
	reg := startRegistry(t, policyFlavour, a)
	a.addUser(t, "dev", "Dev-pass-1")
	a.addUser(t, "bob", "Bob-pass-1")
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	write := func(text string) {
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`version: 1
groups:
  - name: builders
    users: [bob]
projects:
  - name: team
    visibility: private
    members:
      - {user: dev, role: developer}
      - {group: builders, role: guest}
    rules:
      - {repos: "release/*", user: dev, actions: [push], effect: deny}
    robots:
      - {name: ci, actions: [pull, push], repos: ["app-*"]}
  - name: docs
    visibility: internal
`)
	out := a.cli(t, "apply", "-f", file, "--dry-run")
	if !strings.Contains(out, "dry run: ") || strings.Contains(out, "secret") {
		t.Errorf("dry run:\n%s", out)
	}
	if r := a.tryCLI("", "project", "list"); strings.Contains(r.stdout, "team") {
		t.Fatalf("the dry run made project team:\n%s", r.stdout)
	}
	out = a.cli(t, "apply", "-f", file)
	for _, want := range []string{"created  group builders", "created  project team (private)", "created  project docs (internal)",
		"created  robot robot$team+ci", "created  project team: user dev as developer", "created  rule"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply lacks %q:\n%s", want, out)
		}
	}
	robot := newSession(t, reg, "robot$team+ci", secretFrom(t, out, "robot$team+ci"))
	mustOK(t, robot.cranePush(t, "team/app-1:1", "robot app"))
	mustRefuse(t, robot.cranePush(t, "team/web:1", "robot web"))
	dev := newSession(t, reg, "dev", "Dev-pass-1")
	mustRefuse(t, dev.cranePush(t, "team/release/x:1", "dev release"))
	mustOK(t, dev.cranePush(t, "team/app:1", "dev app"))
	bob := newSession(t, reg, "bob", "Bob-pass-1")
	mustOK(t, bob.cranePull("team/app:1"))

	if out := a.cli(t, "apply", "-f", file); strings.TrimSpace(out) != "no change" {
		t.Errorf("the same file again:\n%s", out)
	}
	exported := filepath.Join(dir, "export.yaml")
	text := a.cli(t, "export")
	if strings.Contains(text, "secret") {
		t.Errorf("export holds a secret:\n%s", text)
	}
	if err := os.WriteFile(exported, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := a.cli(t, "apply", "-f", exported, "--prune"); strings.TrimSpace(out) != "no change" {
		t.Errorf("the export applied with --prune:\n%s", out)
	}

	write(`version: 1
projects:
  - name: team
    members:
      - {user: dev, role: developer}
`)
	out = a.cli(t, "apply", "-f", file, "--prune")
	for _, want := range []string{"removed  project docs", "removed  group builders", "removed  robot robot$team+ci", "removed  rule"} {
		if !strings.Contains(out, want) {
			t.Errorf("prune lacks %q:\n%s", want, out)
		}
	}
	mustRefuse(t, robot.cranePush(t, "team/app-1:2", "robot after prune"))
	mustOK(t, dev.cranePush(t, "team/release/x:2", "dev release after prune"))
	mustRefuse(t, bob.cranePull("team/app:1"))
	if out := a.cli(t, "apply", "-f", file, "--prune"); strings.TrimSpace(out) != "no change" {
		t.Errorf("prune again:\n%s", out)
	}
	// A file with a typo is refused whole.
	write("version: 1\nprojects:\n  - name: other\n    visibilty: public\n")
	if r := a.tryCLI("", "apply", "-f", file); r.err == nil || !strings.Contains(r.stderr, "visibilty") {
		t.Errorf("a misspelt key was accepted:\n%s", r)
	}
}

var secretLine = regexp.MustCompile(`(?m)^secret:\s+(\S+)`)

// secretOf is the secret `robot create` printed.
func secretOf(t testing.TB, out string) string {
	t.Helper()
	m := secretLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no secret in:\n%s", out)
	}
	return m[1]
}

// secretFrom is the secret `apply` printed for login.
func secretFrom(t testing.TB, out, login string) string {
	t.Helper()
	m := regexp.MustCompile(`secret of ` + regexp.QuoteMeta(login) + `: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no secret of %s in:\n%s", login, out)
	}
	return m[1]
}

// decodeJWTPayload decodes a JWT's payload (unverified) into v.
func decodeJWTPayload(t testing.TB, jwt string, v any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload %q: %v", parts[1], err)
	}
	testenv.DecodeJSON(t, raw, v)
}

// startSourceProxy is a reverse proxy to a that connects from the
// loopback address in from (a string, e.g. "127.0.0.2"): the client
// address authserver sees, with no X-Forwarded-For. It returns a copy of
// a whose url is the proxy's.
func startSourceProxy(t testing.TB, a *authServer, from *atomic.Value) *authServer {
	t.Helper()
	target, err := url.Parse(a.url)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(target)
	p.Transport = &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		ip, _ := from.Load().(string)
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		return d.DialContext(ctx, "tcp4", strings.Replace(addr, "localhost", "127.0.0.1", 1))
	}}
	// Clients send no X-Forwarded-For; the proxy must not add one either.
	inner := p.Director
	p.Director = func(r *http.Request) {
		inner(r)
		r.Header["X-Forwarded-For"] = nil
	}
	port := testenv.FreePort(t)
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: p, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	cp := *a
	cp.url = fmt.Sprintf("http://localhost:%d", port)
	return &cp
}
