//go:build integration

package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// walkthrough is README's "From clone to an allowed and a refused push"
// block: the first ```sh fence after that heading.
var walkthrough = regexp.MustCompile("(?s)## From clone to an allowed and a refused push\n.*?```sh\n(.*?)```")

// TestReadmeWalkthrough runs README's walkthrough exactly as written, from
// the repository, with bash -e (every command must succeed; the refused
// push is written `! crane …`), and checks what it says happens: the
// developer pushes, the guest pulls, the guest's push is refused, and
// explain says why.
func TestReadmeWalkthrough(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := walkthrough.FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no walkthrough block")
	}
	// The walkthrough listens on the README's fixed ports: say so plainly
	// when something else holds them.
	for _, port := range []string{"5000", "5001"} {
		if l, err := net.Listen("tcp", "127.0.0.1:"+port); err != nil {
			t.Fatalf("port %s is taken (%v): the README walkthrough needs 5000 and 5001 free", port, err)
		} else {
			l.Close()
		}
	}
	// On any failure the servers it started in the background are stopped
	// by their process ids.
	script := "set -euo pipefail\nset -m\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + string(m[1])
	out := filepath.Join(t.TempDir(), "walkthrough.log")
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = root
	// TMPDIR: the scratch directory (mktemp -d) lands in the test's own.
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir(),
		"PATH="+filepath.Dir(bin["registry"])+":"+filepath.Dir(bin["crane"])+":"+os.Getenv("PATH"))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		err = <-done
	}
	f.Close()
	log, _ := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s", err, log)
	}
	// The guest's push failing is `! crane append` under set -e (crane's
	// message for the refused manifest PUT varies); explain says why.
	for _, want := range []string{"guest asked pull,push, granted pull", "role guest in project team"} {
		if !strings.Contains(string(log), want) {
			t.Fatalf("the walkthrough's output lacks %q:\n%s", want, log)
		}
	}
}
