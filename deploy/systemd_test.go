//go:build integration

package deploy

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// unitValues reads a unit file's Key=Value lines.
func unitValues(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// TestSystemdUnit: systemd accepts the unit, and its command line, run as an
// unprivileged user with the unit's paths (a read-only, root-owned
// /etc/authserver holding deploy/systemd/config.yaml; the StateDirectory
// owned by the user; the working directory there), starts on a fresh
// machine, writes its key and the generated admin password into the state
// directory, answers /readyz and stops on SIGTERM.
func TestSystemdUnit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test switches to an unprivileged user: run make test as root (as CI does)")
	}
	root := t.TempDir()
	for d := root; d != "/"; d = filepath.Dir(d) { // let the user reach it
		if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o005 != 0o005 {
			if err := os.Chmod(d, st.Mode().Perm()|0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	bin := filepath.Join(root, "usr/local/bin/authserver")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/authserver").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	unit := unitValues(t, "systemd/authserver.service")
	mapPath := func(s string) string {
		for _, p := range []string{"/usr/local/bin/", "/etc/authserver/", "/var/lib/authserver"} {
			s = strings.ReplaceAll(s, p, filepath.Join(root, p)+map[bool]string{true: "/", false: ""}[strings.HasSuffix(p, "/")])
		}
		return s
	}

	// systemd-analyze verify, with ExecStart naming the built binary.
	verify := filepath.Join(root, "authserver.service")
	text, err := os.ReadFile("systemd/authserver.service")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(verify, []byte(strings.ReplaceAll(string(text), "/usr/local/bin/authserver", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("systemd-analyze", "verify", verify).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}

	// The unit's paths: config root-owned and read-only, state the user's.
	if unit["DynamicUser"][0] != "yes" || unit["StateDirectory"][0] != "authserver" || unit["WorkingDirectory"][0] != "/var/lib/authserver" {
		t.Fatalf("unit paths changed: %v", unit)
	}
	etc, state := filepath.Join(root, "etc/authserver"), filepath.Join(root, "var/lib/authserver")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	cfgText, err := os.ReadFile("systemd/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(testenv.FreePort(t))
	cfg := strings.NewReplacer("0.0.0.0:5001", "127.0.0.1:"+port, "127.0.0.1:9101", "127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)),
		"/var/lib/authserver", state).Replace(string(cfgText))
	if err := os.WriteFile(filepath.Join(etc, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(mapPath(unit["ExecStart"][0]))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = mapPath(unit["WorkingDirectory"][0])
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	p, err := testenv.StartProcess(cmd, filepath.Join(root, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(syscall.SIGKILL, time.Second)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://127.0.0.1:" + port + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unit's command did not come up: %v\n%s", err, p.Log())
		}
	}
	for _, f := range []string{"token.key", "token.crt", "authserver.db", "admin-password"} {
		st, err := os.Stat(filepath.Join(state, f))
		if err != nil {
			t.Fatalf("%s not written to the state directory: %v\n%s", f, err, p.Log())
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
			t.Fatalf("%s owned by %d", f, uid)
		}
	}
	if !strings.Contains(p.Log(), filepath.Join(state, "admin-password")) {
		t.Fatalf("the log does not name the password file:\n%s", p.Log())
	}
	p.Stop(syscall.SIGTERM, 20*time.Second)
	if !strings.Contains(p.Log(), "authserver stopped") {
		t.Fatalf("no clean stop on SIGTERM:\n%s", p.Log())
	}
}
