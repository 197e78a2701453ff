//go:build integration

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// podmanArgs are the global flags podman needs on this kind of machine
// (../shared/TESTING.md): buildah's vfs storage, cgroupfs, runc.
var podmanArgs = []string{"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--runtime", "runc"}

func podman(args ...string) result {
	return run(nil, "", append(append([]string{bin["podman"]}, podmanArgs...), args...)...)
}

// TestContainerImage: `make image` builds the image without pulling
// anything; podman runs it on its embedded default (SQLite and a generated
// key in a mounted directory owned by the image's user 65532); a registry
// on the host trusts the key the container wrote, a push works, an admin
// command in the container reaches the server's database, the healthcheck
// follows the configured address, and SIGTERM stops it cleanly (exit 0).
func TestContainerImage(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	image := "localhost/authserver-e2e:" + strconv.Itoa(os.Getpid())
	mustOK(t, runIn(root, nil, "", "make", "image", "IMAGE="+image))
	t.Cleanup(func() { podman("rmi", "-f", image) })
	if r := podman("image", "inspect", "--format", "{{.Config.User}} {{.Config.WorkingDir}}", image); r.err != nil ||
		strings.TrimSpace(r.stdout) != "65532:65532 /var/lib/authserver" {
		t.Fatalf("image user and workdir: %s", r)
	}

	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, 65532, 65532); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(testenv.FreePort(t))
	name := "authserver-e2e-" + port
	adminPass := "Admin-secret-" + port
	mustOK(t, podman("run", "-d", "--name", name, "--network", "host",
		"--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
		"-e", "AUTHSERVER_ADDR=127.0.0.1:"+port, "-e", "AUTHSERVER_ADMIN_PASSWORD="+adminPass,
		"-v", data+":/var/lib/authserver/data", image))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container log:\n%s", podman("logs", name))
		}
		podman("rm", "-f", name)
	})
	a := &authServer{url: "http://localhost:" + port, adminPass: adminPass}
	waitFor(t, "the container", nil, func() error {
		resp, err := http.Get(a.url + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &httpStatusError{resp.Status}
		}
		return nil
	})
	for _, f := range []string{"authserver.db", "token.key", "token.crt"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Fatalf("the container did not keep %s in the mounted directory: %v", f, err)
		}
	}

	exec := func(args ...string) result {
		return podman(append([]string{"exec", name, "/usr/local/bin/authserver"}, args...)...)
	}
	if r := exec("healthcheck"); r.err != nil || strings.TrimSpace(r.stdout) != "ok" {
		t.Fatalf("healthcheck in the container: %s", r)
	}
	mustOK(t, exec("project", "create", "team"))
	block := exec("registry-config")
	mustOK(t, block)
	reg := startRegistryWithAuth(t, flavours[0], a,
		rootCertBundle.ReplaceAllString(block.stdout, "${1} "+filepath.Join(data, "token.crt")))
	s := newSession(t, reg, "admin", adminPass)
	mustOK(t, s.cranePush(t, "team/app:1", "from the container's token"))
	mustOK(t, s.cranePull("team/app:1"))

	start := time.Now()
	mustOK(t, podman("stop", "-t", "20", name))
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("stop took %s: SIGTERM was not obeyed", took)
	}
	if r := podman("inspect", "--format", "{{.State.ExitCode}}", name); strings.TrimSpace(r.stdout) != "0" {
		t.Fatalf("exit code after SIGTERM: %s", r)
	}
	if logs := podman("logs", name); !strings.Contains(logs.stdout+logs.stderr, "authserver stopped") {
		t.Fatalf("no clean shutdown in the log:\n%s", logs)
	}
}

type httpStatusError struct{ status string }

func (e *httpStatusError) Error() string { return "answered " + e.status }
