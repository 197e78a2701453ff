//go:build integration

package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// containersStore is podman's or buildah's image storage in the session's
// home (vfs: no overlay mounts needed), with its own auth file; no daemon.
type containersStore struct {
	s        *session
	prog     string // podman or buildah
	flags    []string
	authfile string
}

// newContainersStore gives prog storage under s.home/<prog>. The auth
// file exists from the start (podman refuses a missing --authfile).
func newContainersStore(t testing.TB, s *session, prog string) *containersStore {
	t.Helper()
	dir := filepath.Join(s.home, prog)
	// podman refuses a runroot longer than 50 bytes, which t.TempDir exceeds.
	runroot, err := os.MkdirTemp("", prog+"-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(runroot) })
	c := &containersStore{s: s, prog: prog, authfile: filepath.Join(dir, "auth.json"), flags: []string{
		"--root", filepath.Join(dir, "root"), "--runroot", runroot, "--storage-driver", "vfs",
	}}
	if prog == "podman" {
		c.flags = append(c.flags, "--cgroup-manager", "cgroupfs", "--events-backend", "none")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.authfile, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *containersStore) run(stdin string, args ...string) result {
	full := append([]string{bin[c.prog]}, c.flags...)
	// Commands without --authfile (buildah commit) still check the default.
	env := append(c.s.env(), "REGISTRY_AUTH_FILE="+c.authfile)
	return runIn(c.s.home, env, stdin, append(full, args...)...)
}

// remote runs a command that talks to the registry: plain HTTP, the auth file.
func (c *containersStore) remote(cmd string, args ...string) result {
	return c.run("", append([]string{cmd, "--tls-verify=false", "--authfile", c.authfile}, args...)...)
}

func (c *containersStore) login(user, pass string) result {
	return c.run(pass+"\n", "login", "--tls-verify=false", "--authfile", c.authfile, "-u", user, "--password-stdin", c.s.reg.host)
}

// push (podman) makes a fresh one-layer image from content with `podman
// import`, so nothing has to be pulled first, and pushes it to repoTag.
func (c *containersStore) push(t testing.TB, repoTag, content string) result {
	t.Helper()
	ref := c.s.reg.ref(repoTag)
	if r := c.run("", "import", writeLayer(t, c.s.home, content), ref); r.err != nil {
		t.Fatalf("%s import:\n%s", c.prog, r)
	}
	return c.remote("push", ref)
}

func (c *containersStore) pull(repoTag string) result { return c.remote("pull", c.s.reg.ref(repoTag)) }

// buildFrom (buildah) pulls base, makes a working container from it and
// commits it as repoTag, then pushes that: buildah from + commit + push.
func (c *containersStore) buildFrom(t testing.TB, base, repoTag string) result {
	t.Helper()
	from := c.remote("from", "--pull-always", "--name", "work", c.s.reg.ref(base))
	if from.err != nil {
		return from
	}
	if r := c.run("", "config", "--label", "built-by=buildah-e2e", "work"); r.err != nil {
		t.Fatalf("buildah config:\n%s", r)
	}
	ref := c.s.reg.ref(repoTag)
	if r := c.run("", "commit", "work", ref); r.err != nil {
		t.Fatalf("buildah commit:\n%s", r)
	}
	return c.remote("push", ref)
}
