//go:build integration

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// containerdD is a private containerd (its own root, state and socket, the
// CRI plugin disabled) driven with ctr, stopped by its pid when the test
// ends. Each user gets a containerd namespace of their own, so no image
// one pulled is seen by another.
type containerdD struct {
	addr string // the gRPC socket
}

// startContainerd starts containerd in a short temp dir (a unix socket
// path must stay under 108 bytes, which t.TempDir can exceed).
func startContainerd(t testing.TB) *containerdD {
	t.Helper()
	dir, err := os.MkdirTemp("", "ctd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) }) // after the process is stopped (cleanups run last first)
	c := &containerdD{addr: filepath.Join(dir, "containerd.sock")}
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.addr, c.addr+".ttrpc")
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	exited := startProcess(t, "containerd", nil, dir, bin["containerd"], "--config", cfgPath)
	waitFor(t, "containerd", exited, func() error {
		if r := run(nil, "", bin["ctr"], "--address", c.addr, "version"); r.err != nil {
			return fmt.Errorf("ctr version: %v: %s", r.err, r.stderr)
		}
		return nil
	})
	return c
}

// ctr is one session's view of containerd: the session's user (none when
// anonymous) and a namespace of its own.
type ctr struct {
	d *containerdD
	s *session
}

func (c ctr) run(args ...string) result {
	ns := "anonymous"
	if c.s.user != "" {
		ns = "u-" + filepath.Base(c.s.home) // unique per session, whatever the user name holds
	}
	full := []string{bin["ctr"], "--address", c.d.addr, "--namespace", ns}
	return runIn(c.s.home, c.s.env(), "", append(full, args...)...)
}

// remote runs an images command against the registry: plain HTTP and,
// for a named user, --user U:P, which makes ctr use the OAuth2 password
// grant (POST, client_id containerd-client).
func (c ctr) remote(cmd string, args ...string) result {
	full := []string{"images", cmd, "--plain-http"}
	if c.s.user != "" {
		full = append(full, "--user", c.s.user+":"+c.s.pass)
	}
	return c.run(append(full, args...)...)
}

// pull fetches repoTag and unpacks it with the native snapshotter (no
// overlay mounts needed).
func (c ctr) pull(repoTag string) result {
	return c.remote("pull", "--snapshotter", "native", c.s.reg.ref(repoTag))
}

// push tags an image this session already pulled (from) as repoTag and
// pushes that.
func (c ctr) push(t testing.TB, from, repoTag string) result {
	t.Helper()
	if r := c.run("images", "tag", "--force", c.s.reg.ref(from), c.s.reg.ref(repoTag)); r.err != nil {
		t.Fatalf("ctr images tag:\n%s", r)
	}
	return c.remote("push", c.s.reg.ref(repoTag))
}

// pushRefused pushes as push does and returns the result of the refused
// push. Registry 2.8.2 answers a manifest PUT without push rights with 401
// and closes the connection before it has read the body; ctr, still
// writing, then may print only the broken write ("read/write on closed
// pipe") and not the 401. Such a race is tried again (three times at most),
// and the tag is checked to be absent afterwards, so a push that got
// through can never pass as refused.
func (c ctr) pushRefused(t testing.TB, from, repoTag string, as *session) result {
	t.Helper()
	var r result
	for range 3 {
		if r = c.push(t, from, repoTag); r.err == nil || !strings.Contains(r.stderr, "closed pipe") {
			break
		}
		t.Logf("ctr push lost the registry's answer to a closed connection; trying again: %s", lastLine(r))
	}
	if as.cranePull(repoTag).err == nil {
		t.Fatalf("%s exists after a refused push", repoTag)
	}
	return r
}
