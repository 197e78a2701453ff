package oidcop

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// User is a person the provider knows. Sub, when empty, is derived from the
// username (stable across restarts); Groups go into the `groups` claim.
type User struct {
	Sub      string   `json:"sub,omitempty"`
	Username string   `json:"username"`
	Password string   `json:"password"`
	Email    string   `json:"email,omitempty"`
	Name     string   `json:"name,omitempty"`
	Groups   []string `json:"groups"`
}

// Options configure a provider. ClientID defaults to "authserver",
// ClientSecret to a random-looking fixed test value; RedirectURIs are
// required (authserver's is <public_url>/login/callback).
type Options struct {
	ClientID     string
	ClientSecret string
	RedirectURIs []string
	Users        []User
	// RotateRefreshTokens makes every refresh return a new refresh token
	// (and kill the old one), as some providers do.
	RotateRefreshTokens bool
}

// Provider is a running test OpenID provider.
type Provider struct {
	Issuer       string // http://localhost:PORT
	ClientID     string
	ClientSecret string

	addr string
	args []string
	dir  string

	mu   sync.Mutex
	proc *testenv.Process
}

const startTimeout = 60 * time.Second

// Start builds the provider (once per test binary), starts it on a free
// loopback port and waits until its discovery document answers. The test
// fails when it cannot; the provider is stopped when the test ends.
func Start(tb testing.TB, opts Options) *Provider {
	tb.Helper()
	binPath, err := build()
	if err != nil {
		tb.Fatalf("oidcop: build the test provider: %v", err)
	}
	if len(opts.RedirectURIs) == 0 {
		tb.Fatal("oidcop: Options.RedirectURIs is required")
	}
	p := &Provider{ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, dir: tb.TempDir()}
	if p.ClientID == "" {
		p.ClientID = "authserver"
	}
	if p.ClientSecret == "" {
		p.ClientSecret = "test-provider-client-secret"
	}
	users, err := json.Marshal(slices.Clone(opts.Users))
	if err != nil {
		tb.Fatal(err)
	}
	usersPath := filepath.Join(p.dir, "users.json")
	if err := os.WriteFile(usersPath, users, 0o600); err != nil {
		tb.Fatal(err)
	}
	port := testenv.FreePort(tb)
	p.addr = "127.0.0.1:" + strconv.Itoa(port)
	p.Issuer = "http://localhost:" + strconv.Itoa(port)
	p.args = []string{binPath, "-addr", p.addr, "-issuer", p.Issuer, "-client-id", p.ClientID,
		"-client-secret", p.ClientSecret, "-users", usersPath, "-key", filepath.Join(p.dir, "key.pem"),
		"-redirect", strings.Join(opts.RedirectURIs, ",")}
	if opts.RotateRefreshTokens {
		p.args = append(p.args, "-rotate-refresh-tokens")
	}
	tb.Cleanup(func() {
		p.Stop()
		if tb.Failed() {
			tb.Logf("--- test provider log ---\n%s--- end of test provider log ---", p.Log())
		}
	})
	if err := p.start(); err != nil {
		tb.Fatalf("oidcop: %v", err)
	}
	return p
}

func (p *Provider) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		return errors.New("provider already running")
	}
	proc, err := testenv.StartProcess(exec.Command(p.args[0], p.args[1:]...), filepath.Join(p.dir, "provider.log"))
	if err != nil {
		return err
	}
	p.proc = proc
	deadline := time.Now().Add(startTimeout)
	for {
		err := p.discovery()
		if err == nil {
			return nil
		}
		select {
		case <-proc.Done():
			p.proc = nil
			return fmt.Errorf("test provider exited on start (%v)\n%s", proc.Err(), p.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			proc.Stop(syscall.SIGKILL, time.Second)
			p.proc = nil
			return fmt.Errorf("test provider not ready after %v: %v\n%s", startTimeout, err, p.Log())
		}
	}
}

func (p *Provider) discovery() error {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("discovery: %s", resp.Status)
	}
	return nil
}

// Stop ends the provider (SIGTERM to its pid, then SIGKILL). Stopping a
// stopped provider does nothing.
func (p *Provider) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		p.proc.Stop(syscall.SIGTERM, 5*time.Second)
		p.proc = nil
	}
}

// Restart stops the provider and starts it again on the same address with
// the same users, client and signing key. Everything it held in memory is
// gone: browser sessions, codes, access and refresh tokens — as when a
// person's session at the company's provider ends.
func (p *Provider) Restart(tb testing.TB) {
	tb.Helper()
	p.Stop()
	if err := p.start(); err != nil {
		tb.Fatalf("oidcop: restart: %v", err)
	}
}

// Log is everything the provider has logged (every run).
func (p *Provider) Log() string {
	b, err := os.ReadFile(filepath.Join(p.dir, "provider.log"))
	if err != nil {
		return err.Error() + "\n"
	}
	return string(b)
}

var built struct {
	once sync.Once
	path string
	err  error
}

// build compiles e2e/oidcprovider (its own module, so zitadel/oidc stays out
// of authserver's go.mod) once per test binary, into a directory named by a
// hash of its sources and the Go version: binaries that ran the same code
// share it, and a changed source builds anew.
func build() (string, error) {
	built.once.Do(func() { built.path, built.err = buildOnce() })
	return built.path, built.err
}

func buildOnce() (string, error) {
	src, err := sourceDir()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if n := d.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d\n", path[len(src):], len(b))
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), "authserver-oidcprovider-"+hex.EncodeToString(h.Sum(nil))[:16])
	binPath := filepath.Join(dir, "oidcprovider")
	if st, err := os.Stat(binPath); err == nil && st.Mode()&0o111 != 0 {
		return binPath, nil
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "authserver-oidcprovider-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "build", "-o", filepath.Join(tmp, "oidcprovider"), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %v\n%s", src, err, out)
	}
	// Another test binary may have built the same sources meanwhile: the
	// rename of the whole directory is atomic, and either copy is right.
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(binPath); serr != nil {
			return "", fmt.Errorf("install the test provider: %w", err)
		}
	}
	return binPath, nil
}

// sourceDir is e2e/oidcprovider of this repository.
func sourceDir() (string, error) {
	dir := filepath.Join(testenv.RepoRoot(), "e2e", "oidcprovider")
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("the test provider's source: %w", err)
	}
	return dir, nil
}
