//go:build integration

package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// copyTree copies the files git tracks (and the working tree's changes to
// them) from the repository root into dir.
func copyTree(t *testing.T, root, dir string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		info, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReleaseReproducible: `make release` (scripts/release.sh) run on the
// same source in two places gives byte-identical binaries, so anyone can
// check a published SHA256SUMS by building the tag themselves.
func TestReleaseReproducible(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	commit, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	// One snapshot of the tree, copied to a second place: the two builds
	// see the same source even while someone edits the working tree.
	srcs := [2]string{filepath.Join(t.TempDir(), "checkouta"), filepath.Join(t.TempDir(), "elsewhere", "checkoutb")}
	copyTree(t, root, srcs[0])
	if err := os.MkdirAll(filepath.Dir(srcs[1]), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", srcs[0], srcs[1]).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	var sums [2][]byte
	for i := range sums {
		src := srcs[i]
		out := filepath.Join(t.TempDir(), "dist")
		cmd := exec.Command("bash", "scripts/release.sh", out)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "AUTHSERVER_COMMIT="+strings.TrimSpace(string(commit)))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("release in %s: %v\n%s", src, err, b)
		}
		if sums[i], err = os.ReadFile(filepath.Join(out, "SHA256SUMS")); err != nil {
			t.Fatal(err)
		}
		for _, arch := range []string{"amd64", "arm64"} {
			if !bytes.Contains(sums[i], []byte("-linux-"+arch+"\n")) {
				t.Fatalf("SHA256SUMS lacks linux/%s:\n%s", arch, sums[i])
			}
		}
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Fatalf("two builds of the same source differ:\n%s\n%s", sums[0], sums[1])
	}
	version, _ := os.ReadFile(filepath.Join(root, "VERSION"))
	if !bytes.Contains(sums[0], []byte("authserver-"+strings.TrimSpace(string(version))+"-linux-amd64")) {
		t.Fatalf("binaries not named by VERSION %q:\n%s", version, sums[0])
	}
}
