//go:build integration

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// bin holds the absolute paths of the programs the tests run, filled by
// TestMain. Every one of them is required: a missing program fails the run.
var bin = map[string]string{
	"authserver":      "", // built by TestMain
	"registry":        "", // distribution v3.1.2 (scripts/install-test-deps.sh)
	"docker-registry": "", // Debian's distribution 2.8.2
	"crane":           "",
	"oras":            "",
	"regctl":          "",
	"skopeo":          "",
	"docker":          "", // the docker CLI of the machine image; no daemon is used
	"podman":          "",
	"buildah":         "",
	"containerd":      "", // a private instance per test (containerd_test.go)
	"ctr":             "",
	"helm":            "",
	"chromium":        "", // Debian's, headless, for the SSO browser tests (sso_test.go)
}

// cmdTimeout bounds every single CLI or client invocation.
const cmdTimeout = 90 * time.Second

func TestMain(m *testing.M) {
	if err := setup(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		fmt.Fprintln(os.Stderr, "e2e: run `bash scripts/install-test-deps.sh` (or `make test-deps`) to install the registries and clients")
		os.Exit(1)
	}
	// Runs the tests, then stops the PostgreSQL server TestPostgres started.
	testenv.Main(m)
}

// setup builds authserver into <repo>/tmp/authserver and finds the tools.
func setup() error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	out := filepath.Join(root, "tmp", "authserver")
	build := exec.Command("go", "build", "-o", out, "./cmd/authserver")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/authserver: %v\n%s", err, b)
	}
	bin["authserver"] = out

	toolsDir := os.Getenv("AUTHSERVER_TOOLS")
	if toolsDir == "" {
		home, _ := os.UserHomeDir()
		toolsDir = filepath.Join(home, ".cache", "authserver-tools")
	}
	var missing []string
	for name := range bin {
		if name == "authserver" {
			continue
		}
		p := filepath.Join(toolsDir, "bin", name)
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			if p, err = exec.LookPath(name); err != nil {
				missing = append(missing, name)
				continue
			}
		}
		bin[name] = p
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("required programs not found in %s/bin nor on PATH: %s", toolsDir, strings.Join(missing, ", "))
	}
	return nil
}

// repoRoot is the directory holding go.mod (the parent of e2e/).
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

// startProcess runs a long-lived program through testenv.StartProcess, with
// its output in a log file. On cleanup it is stopped (SIGTERM, then
// SIGKILL) and, if the test failed, its log is printed. exited is closed
// when the process ends.
func startProcess(t testing.TB, name string, env []string, dir string, args ...string) (exited <-chan struct{}) {
	t.Helper()
	p := startLogged(t, name, filepath.Join(t.TempDir(), name+".log"), env, dir, args...)
	return p.Done()
}

// startLogged starts args[0] with env added to the environment, in dir,
// its output in logPath; on cleanup it is stopped and, when the test
// failed, its output printed.
func startLogged(t testing.TB, name, logPath string, env []string, dir string, args ...string) *testenv.Process {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	p, err := testenv.StartProcess(cmd, logPath)
	if err != nil {
		t.Fatalf("start %s (%s): %v", name, args[0], err)
	}
	t.Cleanup(func() {
		p.Stop(syscall.SIGTERM, 5*time.Second)
		if t.Failed() {
			t.Logf("--- %s output (exit: %v) ---\n%s--- end of %s output ---", name, p.Err(), p.Log(), name)
		}
	})
	return p
}

// waitFor polls ready until it returns nil, the process exits, or the
// deadline passes; the last two fail the test (and startProcess's cleanup
// prints the process's output).
func waitFor(t testing.TB, what string, exited <-chan struct{}, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = ready(); err == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before becoming ready (last check: %v)", what, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s not ready after 30s: %v", what, err)
}

// result is the outcome of one command.
type result struct {
	cmdline        string
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("$ %s\nerr: %v\nstdout:\n%s\nstderr:\n%s", r.cmdline, r.err, r.stdout, r.stderr)
}

// run executes a program to completion with extra environment and stdin.
func run(env []string, stdin string, args ...string) result {
	return runIn("", env, stdin, args...)
}

// runIn is run in the working directory dir ("" = the test's).
func runIn(dir string, env []string, stdin string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", cmdTimeout, err)
	}
	return result{cmdline: strings.Join(args, " "), stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// authServer is a running authserver with its own config, database and key.
type authServer struct {
	dir       string // holds config.yaml, the key pair and the SQLite file
	config    string // path of config.yaml
	url       string // http://localhost:PORT
	adminPass string
}

// authOptions vary the generated config; the zero value is the default
// (SQLite in the temp dir, a key made by `authserver keygen`).
type authOptions struct {
	postgresDSN string // use the postgres driver with this DSN
	server      string // YAML lines added under server: (indented two spaces)
	token       string // YAML lines added under token:
	extraConfig string // YAML appended to the config: further top-level sections
	keysFrom    string // copy token.key, token.crt and jwks.json from here instead of running keygen
	kid         string // token.kid; "" means thumbprint
	port        int    // listen on this port (one an OpenID provider already redirects to); 0 = a free one
	// prepare, when set, runs after the config is written and before serve
	// starts, instead of keygen: it puts the key pair in place itself.
	prepare func(a *authServer)
}

// authConfig is the config every e2e authserver runs with: listening on
// addr, the key pair in keys (made by `authserver keygen`), SQLite in dir
// unless opts names a PostgreSQL DSN, and opts' additions.
func authConfig(addr, keys, dir string, opts authOptions) string {
	driver, dsn := "sqlite", filepath.Join(dir, "authserver.db")
	if opts.postgresDSN != "" {
		driver, dsn = "postgres", opts.postgresDSN
	}
	kid := opts.kid
	if kid == "" {
		kid = "thumbprint"
	}
	return fmt.Sprintf(`server:
  addr: %s
%stoken:
  issuer: harbor-token-issuer
  service: harbor-registry
  expiration: 30m
  key: %s
  certificate: %s
  kid: %s
%sstorage:
  driver: %s
  dsn: %q
passwords:
  bcrypt_cost: 10
log:
  format: text
  level: info
%s`, addr, opts.server, filepath.Join(keys, "token.key"), filepath.Join(keys, "token.crt"),
		kid, opts.token, driver, dsn, opts.extraConfig)
}

// keygen runs `authserver keygen --dir dir`.
func keygen(t testing.TB, dir string) {
	t.Helper()
	if r := run(nil, "", bin["authserver"], "keygen", "--dir", dir); r.err != nil {
		t.Fatalf("keygen failed:\n%s", r)
	}
}

// copyKeys copies the files keygen writes from one key directory to another.
func copyKeys(t testing.TB, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"token.key", "token.crt", "jwks.json"} {
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// startAuthServer writes a config, generates a key, starts `authserver
// serve` and waits until the token endpoint answers.
func startAuthServer(t testing.TB, opts authOptions) *authServer {
	t.Helper()
	dir := t.TempDir()
	port := opts.port
	if port == 0 {
		port = testenv.FreePort(t)
	}
	a := &authServer{
		dir:       dir,
		config:    filepath.Join(dir, "config.yaml"),
		url:       "http://localhost:" + strconv.Itoa(port),
		adminPass: "Admin-secret-" + strconv.Itoa(port),
	}
	// 127.0.0.1 on purpose: the realm must come out as localhost.
	cfg := authConfig("127.0.0.1:"+strconv.Itoa(port), filepath.Join(dir, "keys"), dir, opts)
	if err := os.WriteFile(a.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	switch {
	case opts.prepare != nil:
		opts.prepare(a)
	case opts.keysFrom != "":
		copyKeys(t, opts.keysFrom, filepath.Join(dir, "keys"))
	default:
		keygen(t, filepath.Join(dir, "keys"))
	}
	exited := startProcess(t, "authserver", []string{
		"AUTHSERVER_ADMIN_PASSWORD=" + a.adminPass,
		"AUTHSERVER_CONFIG=",
	}, dir, bin["authserver"], "serve", "--config", a.config)
	waitFor(t, "authserver", exited, tokenEndpointReady(http.DefaultClient, a.url))
	return a
}

// tokenEndpointReady reports whether the authserver at url answers an
// anonymous token request with 200.
func tokenEndpointReady(c *http.Client, url string) func() error {
	return func() error {
		resp, err := c.Get(url + "/service/token?service=harbor-registry")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /service/token: %s", resp.Status)
		}
		return nil
	}
}

// cli runs an authserver command against this server's config and fails
// the test when it does not succeed.
func (a *authServer) cli(t testing.TB, args ...string) string {
	t.Helper()
	r := a.tryCLI("", args...)
	if r.err != nil {
		t.Fatalf("authserver CLI failed:\n%s", r)
	}
	return r.stdout
}

// tryCLI runs an authserver command; stdin is given to it.
func (a *authServer) tryCLI(stdin string, args ...string) result {
	full := append([]string{bin["authserver"]}, args...)
	full = append(full, "--config", a.config)
	return run([]string{"AUTHSERVER_CONFIG=", "AUTHSERVER_PASSWORD="}, stdin, full...)
}

// addUser creates a user with the password on stdin.
func (a *authServer) addUser(t testing.TB, name, pass string, extra ...string) {
	t.Helper()
	r := a.tryCLI(pass+"\n", append([]string{"user", "add", name, "--password-stdin"}, extra...)...)
	if r.err != nil {
		t.Fatalf("user add %s failed:\n%s", name, r)
	}
}

// tokenReply is what GET /service/token answered.
type tokenReply struct {
	status int
	header http.Header
	body   []byte
}

// getToken asks GET /service/token; user "" means no credentials.
func (a *authServer) getToken(t testing.TB, user, pass, query string) tokenReply {
	t.Helper()
	return a.getTokenAt(t, "/service/token", user, pass, query)
}

// getTokenAt asks the token endpoint at path.
func (a *authServer) getTokenAt(t testing.TB, path, user, pass, query string) tokenReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+path+"?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", req.URL, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("GET %s: read body: %v", req.URL, err)
	}
	return tokenReply{status: resp.StatusCode, header: resp.Header, body: body.Bytes()}
}
