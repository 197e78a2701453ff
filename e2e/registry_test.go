//go:build integration

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/testenv"
)

// flavour is a registry implementation the scenario runs against.
type flavour struct {
	name string
	bin  string   // key in bin
	env  []string // extra environment
}

// flavours are the two registries authserver must work with, both with the
// same default authserver config (thumbprint kid + x5c certificate).
var flavours = []flavour{
	{name: "registry-v3.1.2", bin: "registry", env: []string{"OTEL_TRACES_EXPORTER=none"}},
	{name: "docker-registry-2.8.2", bin: "docker-registry"},
}

// registry is a running registry that trusts one authserver.
type registry struct {
	host string    // localhost:PORT, as clients name it
	url  string    // http://localhost:PORT
	rec  *recorder // the requests clients made, behind zotChecked; else nil
}

// startRegistry writes a minimal registry config around the auth block that
// `authserver registry-config` prints, starts the registry and waits until
// GET /v2/ answers 401 with a Bearer challenge pointing at the authserver.
func startRegistry(t testing.TB, f flavour, a *authServer) *registry {
	t.Helper()
	authBlock := a.cli(t, "registry-config")
	if !strings.HasPrefix(authBlock, "auth:\n") || !strings.Contains(authBlock, "rootcertbundle:") {
		t.Fatalf("registry-config printed an unexpected block:\n%s", authBlock)
	}
	wantRealm := "realm: " + a.url + "/service/token"
	if !strings.Contains(authBlock, wantRealm) {
		t.Fatalf("registry-config block lacks %q:\n%s", wantRealm, authBlock)
	}
	return startRegistryWithAuth(t, f, a, authBlock)
}

// startRegistryWithAuth starts a registry with a minimal config around the
// given auth: block.
func startRegistryWithAuth(t testing.TB, f flavour, a *authServer, authBlock string) *registry {
	t.Helper()
	return startRegistryOn(t, f, a, authBlock, testenv.FreePort(t))
}

// startRegistryOn is startRegistryWithAuth on a chosen port (one an
// authserver's registry.url already names).
func startRegistryOn(t testing.TB, f flavour, a *authServer, authBlock string, port int) *registry {
	t.Helper()
	dir := t.TempDir()
	r := &registry{host: "localhost:" + strconv.Itoa(port)}
	r.url = "http://" + r.host
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: e2e-not-a-secret
`, filepath.Join(dir, "data"), r.host) + authBlock
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	exited := startProcess(t, f.name, f.env, dir, bin[f.bin], "serve", cfgPath)
	waitFor(t, f.name, exited, func() error {
		resp, err := http.Get(r.url + "/v2/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		ch := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(ch, "Bearer ") {
			return fmt.Errorf("GET /v2/: %s, WWW-Authenticate %q; want 401 with a Bearer challenge", resp.Status, ch)
		}
		if !strings.Contains(ch, `realm="`+a.url+`/service/token"`) {
			return fmt.Errorf("GET /v2/: challenge %q does not name the authserver realm", ch)
		}
		return nil
	})
	return r
}

// ref names a repository:tag (or @digest) in this registry.
func (r *registry) ref(repoTag string) string { return r.host + "/" + repoTag }
