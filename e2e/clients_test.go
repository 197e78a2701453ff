//go:build integration

package e2e

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// session is one user of one registry with the real clients, each with its
// own isolated configuration (HOME, DOCKER_CONFIG, regctl and containers
// auth files), so no credentials leak between users or from the machine.
// An empty user is anonymous.
type session struct {
	reg        *registry
	user, pass string
	home       string
}

// newSession makes an isolated client home. For a named user, crane's
// credentials are stored with `crane auth login` (which does not contact the
// registry); regctl is told the registry speaks plain HTTP.
func newSession(t testing.TB, reg *registry, user, pass string) *session {
	t.Helper()
	s := &session{reg: reg, user: user, pass: pass, home: t.TempDir()}
	for _, d := range []string{"docker", "config", "run"} {
		if err := os.MkdirAll(filepath.Join(s.home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if user != "" {
		mustOK(t, s.crane("auth", "login", reg.host, "-u", user, "-p", pass))
	}
	mustOK(t, s.regctl("registry", "set", "--tls", "disabled", reg.host))
	return s
}

// env isolates every client's configuration in s.home.
func (s *session) env() []string {
	return []string{
		"HOME=" + s.home,
		"DOCKER_CONFIG=" + filepath.Join(s.home, "docker"),
		"XDG_CONFIG_HOME=" + filepath.Join(s.home, "config"),
		"XDG_RUNTIME_DIR=" + filepath.Join(s.home, "run"),
		"REGISTRY_AUTH_FILE=" + filepath.Join(s.home, "containers-auth.json"),
		"REGCTL_CONFIG=" + filepath.Join(s.home, "regctl.json"),
	}
}

func (s *session) crane(args ...string) result {
	return runIn(s.home, s.env(), "", append([]string{bin["crane"]}, args...)...)
}

// oras passes the credentials on the command line (none when anonymous).
func (s *session) oras(args ...string) result {
	full := []string{bin["oras"]}
	full = append(full, args...)
	full = append(full, "--plain-http")
	if s.user != "" {
		full = append(full, "-u", s.user, "-p", s.pass)
	}
	return runIn(s.home, s.env(), "", full...)
}

func (s *session) regctl(args ...string) result {
	return runIn(s.home, s.env(), "", append([]string{bin["regctl"]}, args...)...)
}

// skopeoCopy copies between two skopeo references (docker://, oci:, dir:),
// without signature policy or TLS, with the session's credentials on both
// sides (none when anonymous).
func (s *session) skopeoCopy(src, dst string) result {
	args := []string{bin["skopeo"], "--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false"}
	if s.user != "" {
		args = append(args, "--src-creds", s.user+":"+s.pass, "--dest-creds", s.user+":"+s.pass)
	}
	return runIn(s.home, s.env(), "", append(args, src, dst)...)
}

func (s *session) skopeo(args ...string) result {
	return runIn(s.home, s.env(), "", append([]string{bin["skopeo"]}, args...)...)
}

// cranePush pushes a one-layer image whose only file holds content.
func (s *session) cranePush(t testing.TB, repoTag, content string) result {
	t.Helper()
	layer := writeLayer(t, s.home, content)
	return s.crane("append", "-f", layer, "-t", s.reg.ref(repoTag))
}

// cranePull pulls an image with its layers into a tarball.
func (s *session) cranePull(repoTag string) result {
	return s.crane("pull", s.reg.ref(repoTag), filepath.Join(s.home, "pulled.tar"))
}

// craneDigest returns the manifest digest of repoTag.
func (s *session) craneDigest(t testing.TB, repoTag string) string {
	t.Helper()
	r := s.crane("digest", s.reg.ref(repoTag))
	mustOK(t, r)
	return strings.TrimSpace(r.stdout)
}

// writeLayer writes a tar holding hello.txt = content, with a unique name.
func writeLayer(t testing.TB, dir, content string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "layer-*.tar")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// mustOK fails the test unless the command succeeded.
func mustOK(t testing.TB, r result) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("command failed, want success:\n%s", r)
	}
}

// refusedWords are what clients print when the registry or the token
// endpoint refuses: the registry's UNAUTHORIZED/DENIED errcodes and the
// clients' own wording for a 401/403 (no bare status numbers: they would
// match port numbers in a connection error); ctr prints the challenge's
// insufficient_scope.
var refusedWords = []string{"unauthorized", "denied", "authentication required", "invalid username/password", "forbidden", "insufficient_scope"}

// mustRefuse fails the test unless the command failed with a message that
// says access was refused (not, say, a connection error).
func mustRefuse(t testing.TB, r result) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("command succeeded, want it refused:\n%s", r)
	}
	out := strings.ToLower(r.stderr + r.stdout)
	for _, w := range refusedWords {
		if strings.Contains(out, w) {
			t.Logf("refused as expected: %s", lastLine(r))
			return
		}
	}
	t.Fatalf("command failed, but not with unauthorized/denied:\n%s", r)
}

// lastLine is the last line of stderr (else stdout): usually the error.
func lastLine(r result) string {
	s := strings.TrimSpace(r.stderr)
	if s == "" {
		s = strings.TrimSpace(r.stdout)
	}
	return s[strings.LastIndex(s, "\n")+1:]
}
