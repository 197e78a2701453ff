//go:build integration

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// world is one authserver, one registry and a client session per user,
// set up as in the issue: admin (sysadmin); dev, guest and a group member in
// the private project team; an outsider; the public project pub and the
// private project library.
type world struct {
	auth *authServer
	reg  *registry
	pass map[string]string   // user name → password
	as   map[string]*session // user name → session; "" is anonymous
}

// users are created through the CLI; admin is bootstrapped by serve.
var users = []struct {
	name, pass string
}{
	{"dev", "Dev-pass-1"},
	{"guest", "Guest-pass-1"},
	{"outsider", "Outsider-pass-1"},
	{"grouped", "Grouped-pass-1"},
}

// TestRegistries runs the whole scenario against registry v3.1.2 and
// Debian's docker-registry 2.8.2, each with its own authserver, and checks
// every token the clients used with zot's rules as well.
func TestRegistries(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, f)
			// Later steps depend on what earlier ones pushed; they share w.
			t.Run("sysadmin push pull catalog", w.testSysadmin)
			t.Run("developer with every client", w.testClients)
			t.Run("access matrix", w.testAccess)
			t.Run("delete", w.testDelete)
			t.Run("zot rules", w.testZot)
			t.Run("bad credentials", w.testBadCredentials)
			t.Run("harbor flow", w.testHarborFlow)
			t.Run("live CLI changes", w.testLiveChanges)
		})
	}
}

// newWorld starts authserver and the registry and creates the users,
// projects, group and memberships through the CLI while serve runs.
func newWorld(t *testing.T, f flavour) *world {
	a := startAuthServer(t, authOptions{})
	// Every token a client shows the registry is also checked with zot's
	// rules (zot_test.go).
	reg := zotChecked(t, startRegistry(t, f, a), a)
	w := &world{auth: a, reg: reg, pass: map[string]string{"admin": a.adminPass}, as: map[string]*session{}}
	for _, u := range users {
		a.addUser(t, u.name, u.pass)
		w.pass[u.name] = u.pass
	}
	for _, args := range [][]string{
		{"project", "create", "team"},
		{"project", "create", "pub", "--public"},
		{"project", "create", "library"},
		{"member", "add", "team", "--user", "dev", "--role", "developer"},
		{"member", "add", "team", "--user", "guest", "--role", "Guest"}, // roles match case-insensitively
		{"group", "create", "builders"},
		{"group", "add-user", "builders", "grouped"},
		{"member", "add", "team", "--group", "builders", "--role", "developer"},
	} {
		a.cli(t, args...)
	}
	if out := a.cli(t, "user", "list"); !strings.Contains(out, "admin") || !strings.Contains(out, "grouped") {
		t.Fatalf("user list lacks the bootstrapped admin or a CLI user:\n%s", out)
	}
	for name, pass := range w.pass {
		w.as[name] = newSession(t, reg, name, pass)
	}
	w.as[""] = newSession(t, reg, "", "")
	return w
}

func (w *world) testSysadmin(t *testing.T) {
	admin := w.as["admin"]
	mustOK(t, admin.cranePush(t, "library/busybox:1", "busybox from admin"))
	mustOK(t, admin.cranePull("library/busybox:1"))
	r := admin.crane("ls", w.reg.ref("library/busybox"))
	mustOK(t, r)
	if !containsLine(r.stdout, "1") {
		t.Errorf("crane ls library/busybox: want tag 1, got:\n%s", r.stdout)
	}
	r = admin.crane("catalog", w.reg.host)
	mustOK(t, r)
	if !containsLine(r.stdout, "library/busybox") {
		t.Errorf("crane catalog: want library/busybox, got:\n%s", r.stdout)
	}
}

// testClients has dev push and pull with each real client at least once.
func (w *world) testClients(t *testing.T) {
	dev := w.as["dev"]
	mustOK(t, dev.cranePush(t, "team/app:crane", "app built by crane"))
	if err := os.WriteFile(filepath.Join(dev.home, "note.txt"), []byte("pushed by oras\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	layout := "oci:" + filepath.Join(dev.home, "layout") + ":app"
	exported := filepath.Join(dev.home, "regctl.tar")

	type step struct {
		what string // push or pull
		run  func() result
	}
	tests := []struct {
		name  string
		steps []step // run in order; each must succeed
	}{
		{"crane", []step{
			{"push", func() result { return dev.cranePush(t, "team/app:crane2", "another crane image") }},
			{"pull", func() result { return dev.cranePull("team/app:crane2") }},
		}},
		{"oras", []step{
			{"push", func() result { return dev.oras("push", w.reg.ref("team/app:oras"), "note.txt:text/plain") }},
			{"pull", func() result { return dev.oras("pull", "-o", "oras-out", w.reg.ref("team/app:oras")) }},
		}},
		{"regctl", []step{
			{"login", func() result { return dev.regctl("registry", "login", w.reg.host, "-u", "dev", "-p", w.pass["dev"]) }},
			{"pull", func() result { return dev.regctl("image", "export", w.reg.ref("team/app:crane"), exported) }},
			{"push", func() result { return dev.regctl("image", "import", w.reg.ref("team/app:regctl"), exported) }},
			// A copy to another repository mounts the blobs across
			// repositories, which needs pull on the source as well.
			{"copy", func() result {
				return dev.regctl("image", "copy", w.reg.ref("team/app:regctl"), w.reg.ref("team/tools:regctl"))
			}},
		}},
		{"skopeo", []step{
			{"pull", func() result { return dev.skopeoCopy("docker://"+w.reg.ref("team/app:crane"), layout) }},
			{"push", func() result { return dev.skopeoCopy(layout, "docker://"+w.reg.ref("team/app:skopeo")) }},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, st := range tc.steps {
				if r := st.run(); r.err != nil {
					t.Fatalf("%s %s failed:\n%s", tc.name, st.what, r)
				}
			}
		})
	}

	if b, err := os.ReadFile(filepath.Join(dev.home, "oras-out", "note.txt")); err != nil || string(b) != "pushed by oras\n" {
		t.Errorf("oras pull: note.txt = %q, %v; want what oras pushed", b, err)
	}
	admin := w.as["admin"]
	r := admin.crane("ls", w.reg.ref("team/app"))
	mustOK(t, r)
	for _, tag := range []string{"crane", "crane2", "oras", "regctl", "skopeo"} {
		if !containsLine(r.stdout, tag) {
			t.Errorf("team/app lacks tag %s after the client pushes; tags:\n%s", tag, r.stdout)
		}
	}
	if a, b := admin.craneDigest(t, "team/app:regctl"), admin.craneDigest(t, "team/tools:regctl"); a != b {
		t.Errorf("regctl copy: team/tools:regctl is %s, want %s", b, a)
	}
}

// op is a client operation in the access matrix, done with crane.
type op string

const (
	pull    op = "pull"
	push    op = "push"
	catalog op = "catalog"
)

// try does op as the session's user; push makes a fresh image per user.
func (w *world) try(t *testing.T, s *session, o op, repoTag string) result {
	switch o {
	case pull:
		return s.cranePull(repoTag)
	case push:
		return s.cranePush(t, repoTag, "pushed by "+s.user+" to "+repoTag)
	case catalog:
		return s.crane("catalog", w.reg.host)
	}
	t.Fatalf("unknown op %q", o)
	return result{}
}

// check asserts that op succeeds (want) or is refused.
func (w *world) check(t *testing.T, user string, o op, repoTag string, want bool) {
	t.Helper()
	r := w.try(t, w.as[user], o, repoTag)
	if want {
		mustOK(t, r)
	} else {
		mustRefuse(t, r)
	}
}

func (w *world) testAccess(t *testing.T) {
	mustOK(t, w.as["admin"].cranePush(t, "pub/x:1", "public image"))
	tests := []struct {
		name    string
		user    string // "" = anonymous
		op      op
		repoTag string
		want    bool
	}{
		{"guest pulls team", "guest", pull, "team/app:crane", true},
		{"guest cannot push team", "guest", push, "team/app:guest", false},
		{"group member pushes team", "grouped", push, "team/app:group", true},
		{"group member pulls team", "grouped", pull, "team/app:crane", true},
		{"anonymous pulls public", "", pull, "pub/x:1", true},
		{"anonymous cannot pull private", "", pull, "team/app:crane", false},
		{"anonymous cannot push public", "", push, "pub/x:anon", false},
		{"outsider cannot pull team", "outsider", pull, "team/app:crane", false},
		{"outsider cannot push team", "outsider", push, "team/app:outsider", false},
		{"outsider pulls public", "outsider", pull, "pub/x:1", true},
		{"developer cannot push library", "dev", push, "library/busybox:dev", false},
		{"developer cannot pull private library", "dev", pull, "library/busybox:1", false},
		{"developer cannot push projectless name", "dev", push, "busybox:dev", false},
		{"sysadmin pushes projectless name", "admin", push, "busybox:1", true},
		{"developer cannot list catalog", "dev", catalog, "", false},
		{"anonymous cannot list catalog", "", catalog, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.check(t, tc.user, tc.op, tc.repoTag, tc.want)
		})
	}
	t.Run("guest push refused by oras too", func(t *testing.T) {
		guest := w.as["guest"]
		if err := os.WriteFile(filepath.Join(guest.home, "g.txt"), []byte("guest\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		mustRefuse(t, guest.oras("push", w.reg.ref("team/app:guest-oras"), "g.txt"))
	})
	t.Run("explain names the group", func(t *testing.T) {
		out := w.auth.cli(t, "explain", "--user", "grouped", "repository:team/app:pull,push")
		if !strings.Contains(out, "builders") || !strings.Contains(out, "granted pull,push") {
			t.Errorf("explain for a group member should grant pull,push through group builders:\n%s", out)
		}
	})
}

// testDelete: developer → pull, push only; sysadmin may delete.
func (w *world) testDelete(t *testing.T) {
	admin, dev := w.as["admin"], w.as["dev"]
	mustOK(t, dev.cranePush(t, "team/app:doomed", "image to delete"))
	digest := admin.craneDigest(t, "team/app:doomed")
	byDigest := w.reg.ref("team/app@" + digest)

	mustRefuse(t, dev.crane("delete", byDigest))
	mustOK(t, dev.crane("manifest", byDigest)) // still there
	mustOK(t, admin.crane("delete", byDigest))
	if r := admin.crane("manifest", byDigest); r.err == nil || !strings.Contains(strings.ToUpper(r.stderr), "MANIFEST_UNKNOWN") {
		t.Errorf("manifest still readable after admin's delete:\n%s", r)
	}
}

// containsLine reports whether out has a line equal to want.
func containsLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}
