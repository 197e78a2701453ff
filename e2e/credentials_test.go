//go:build integration

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// credWorld is one authserver and one registry for the credential tests:
// refresh tokens with docker's own client library and with the identity
// tokens other clients read from their configs, logins of every client,
// robots and personal access tokens.
type credWorld struct {
	auth    *authServer
	reg     *registry
	bind    bool   // refresh_tokens.bind_client_id
	devPass string // changes in the revocation step
	digest  string // of team/app:1
}

// TestCredentials runs against registry v3 with bind_client_id: true
// (refresh tokens bound to their client_id) and against 2.8 with the
// default, unbound, where every client may use the token docker got.
func TestCredentials(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			w := &credWorld{bind: f.bin == "registry", devPass: "Dev-pass-1"}
			extra := ""
			if w.bind {
				extra = "refresh_tokens:\n  bind_client_id: true\n"
			}
			w.auth = startAuthServer(t, authOptions{extraConfig: extra})
			w.reg = startRegistry(t, f, w.auth)
			w.auth.addUser(t, "dev", w.devPass)
			for _, args := range [][]string{
				{"project", "create", "team"},
				{"project", "create", "pub", "--public"},
				{"project", "create", "other"},
				{"member", "add", "team", "--user", "dev", "--role", "developer"},
			} {
				w.auth.cli(t, args...)
			}
			dev := newSession(t, w.reg, "dev", w.devPass)
			mustOK(t, dev.cranePush(t, "team/app:1", "hello from dev"))
			w.digest = dev.craneDigest(t, "team/app:1")
			admin := newSession(t, w.reg, "admin", w.auth.adminPass)
			mustOK(t, admin.cranePush(t, "pub/base:1", "public base"))

			t.Run("docker client library", w.testDockerLibrary)
			t.Run("identity tokens in client configs", w.testIdentityTokens)
			t.Run("client logins", w.testClientLogins)
			t.Run("robot", w.testRobot)
			t.Run("personal access token", w.testPAT)
			t.Run("revocation", w.testRevocation) // last: changes dev's password
		})
	}
}

func (w *credWorld) testDockerLibrary(t *testing.T) {
	t.Run("login with offline token, pull with the refresh token", func(t *testing.T) {
		rt := w.dockerLogin(t, "dev", w.devPass, false)
		status, digest := w.dockerPull(t, rt, "team/app", "1")
		if status != http.StatusOK || digest != w.digest {
			t.Fatalf("pull with refresh token: %d %s, want 200 %s", status, digest, w.digest)
		}
		// The token is the user's: nothing outside dev's projects.
		if status, _ := w.dockerPull(t, rt, "other/app", "1"); status != http.StatusUnauthorized {
			t.Fatalf("pull from a project dev is not in: %d, want 401", status)
		}
	})
	t.Run("OAuth2 password grant", func(t *testing.T) {
		rt := w.dockerLogin(t, "dev", w.devPass, true)
		if status, digest := w.dockerPull(t, rt, "team/app", "1"); status != http.StatusOK || digest != w.digest {
			t.Fatalf("pull: %d %s", status, digest)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		creds := &dockerCreds{user: "dev", pass: "wrong"}
		resp, err := w.dockerClient(t, creds, false).Get(w.reg.url + "/v2/")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("login with a wrong password: %s, want an error", resp.Status)
		}
	})
	t.Run("token list shows docker's tokens", func(t *testing.T) {
		out := w.auth.cli(t, "token", "list", "--user", "dev")
		if strings.Count(out, "docker") < 2 || strings.Contains(out, "asr_") {
			t.Fatalf("token list:\n%s", out)
		}
	})
}

// idClient is a client that reads an identity token from its config.
type idClient struct {
	name     string
	clientID string // what it sends as client_id
	pull     func(s *session) result
}

func (w *credWorld) idClients() []idClient {
	ref := w.reg.ref("team/app:1")
	return []idClient{
		{name: "crane", clientID: "go-containerregistry", pull: func(s *session) result { return s.cranePull("team/app:1") }},
		{name: "regctl", clientID: "regclient/regctl (v0.11.7)", pull: func(s *session) result { return s.regctl("manifest", "get", ref) }},
		{name: "oras", clientID: "oras-go", pull: func(s *session) result {
			return runIn(s.home, s.env(), "", bin["oras"], "manifest", "fetch", "--plain-http", ref)
		}},
		{name: "skopeo", clientID: "containers/image", pull: func(s *session) result {
			return s.skopeo("inspect", "--tls-verify=false", "docker://"+ref)
		}},
	}
}

// identitySession is a client home whose docker config.json and
// containers auth.json hold only an identity token for the registry.
func (w *credWorld) identitySession(t *testing.T, rt string) *session {
	t.Helper()
	s := newSession(t, w.reg, "", "")
	// As docker writes it: "auth" holds "user:" (no password) beside the
	// token; containers/image skips entries without a valid "auth".
	entry := map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("dev:")), "identitytoken": rt}
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{w.reg.host: entry}})
	for _, p := range []string{filepath.Join(s.home, "docker", "config.json"), filepath.Join(s.home, "containers-auth.json")} {
		if err := os.WriteFile(p, cfg, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// postToken asks the token endpoint with the OAuth2 password grant.
func (w *credWorld) postToken(t *testing.T, form url.Values) map[string]any {
	t.Helper()
	form.Set("service", "harbor-registry")
	resp, err := http.PostForm(w.auth.url+"/service/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST token: %s %v (%v)", resp.Status, body, err)
	}
	return body
}

func (w *credWorld) testIdentityTokens(t *testing.T) {
	dockerRT := w.dockerLogin(t, "dev", w.devPass, false)
	for _, c := range w.idClients() {
		t.Run(c.name, func(t *testing.T) {
			rt := dockerRT
			if w.bind {
				// Bound tokens: only docker may use docker's; this client
				// gets its own, issued to its client_id.
				mustRefuse(t, c.pull(w.identitySession(t, dockerRT)))
				body := w.postToken(t, url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {w.devPass},
					"client_id": {c.clientID}, "access_type": {"offline"}})
				rt, _ = body["refresh_token"].(string)
			}
			s := w.identitySession(t, rt)
			mustOK(t, c.pull(s))
			if c.name == "crane" {
				mustOK(t, s.cranePush(t, "team/idtoken:crane", "pushed with an identity token"))
				mustOK(t, s.cranePull("team/idtoken:crane"))
				mustRefuse(t, s.cranePush(t, "other/idtoken:crane", "not dev's project"))
			}
		})
	}
}

// testClientLogins: each client's own login command, then a pull and a
// push with the stored credentials only.
func (w *credWorld) testClientLogins(t *testing.T) {
	src := w.reg.ref("team/app:1")
	t.Run("skopeo login and copy", func(t *testing.T) {
		s := newSession(t, w.reg, "", "")
		mustOK(t, s.skopeo("login", "--tls-verify=false", "-u", "dev", "-p", w.devPass, w.reg.host))
		dst := w.reg.ref("team/skopeo:1")
		mustOK(t, s.skopeo("--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "docker://"+src, "docker://"+dst))
		mustOK(t, s.skopeo("--insecure-policy", "copy", "--src-tls-verify=false", "docker://"+dst, "oci:"+filepath.Join(s.home, "oci")+":1"))
		mustRefuse(t, s.skopeo("--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "docker://"+src, "docker://"+w.reg.ref("other/skopeo:1")))
	})
	t.Run("oras login, push and pull", func(t *testing.T) {
		s := newSession(t, w.reg, "", "")
		oras := func(args ...string) result {
			return runIn(s.home, s.env(), "", append([]string{bin["oras"]}, append(args, "--plain-http")...)...)
		}
		mustOK(t, oras("login", "-u", "dev", "-p", w.devPass, w.reg.host))
		if err := os.WriteFile(filepath.Join(s.home, "note.txt"), []byte("oras artifact"), 0o600); err != nil {
			t.Fatal(err)
		}
		mustOK(t, oras("push", w.reg.ref("team/oras:1"), "note.txt"))
		mustOK(t, oras("pull", "-o", filepath.Join(s.home, "out"), w.reg.ref("team/oras:1")))
		if b, err := os.ReadFile(filepath.Join(s.home, "out", "note.txt")); err != nil || string(b) != "oras artifact" {
			t.Fatalf("oras pulled %q, %v", b, err)
		}
	})
	t.Run("regctl login, copy and pull", func(t *testing.T) {
		s := newSession(t, w.reg, "", "")
		mustOK(t, s.regctl("registry", "login", w.reg.host, "-u", "dev", "-p", w.devPass))
		mustOK(t, s.regctl("image", "copy", src, w.reg.ref("team/regctl:1")))
		r := s.regctl("image", "digest", w.reg.ref("team/regctl:1"))
		mustOK(t, r)
		if strings.TrimSpace(r.stdout) != w.digest {
			t.Fatalf("regctl copied digest %q, want %s", r.stdout, w.digest)
		}
	})
}

// createSecret runs a create command with --output json and returns the
// printed secret (and name, for robots).
func (w *credWorld) createSecret(t *testing.T, args ...string) (name, secret string) {
	t.Helper()
	out := w.auth.cli(t, append(args, "--output", "json")...)
	var v struct{ Name, Secret string }
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Secret == "" {
		t.Fatalf("%v printed %q (%v)", args, out, err)
	}
	return v.Name, v.Secret
}

func (w *credWorld) testRobot(t *testing.T) {
	name, secret := w.createSecret(t, "robot", "create", "ci", "--project", "team", "--actions", "push", "--expires", "1h")
	if name != "robot$team+ci" {
		t.Fatalf("robot name %q", name)
	}
	ci := newSession(t, w.reg, name, secret)
	mustOK(t, ci.cranePush(t, "team/robot:1", "pushed by a robot"))
	mustOK(t, ci.cranePull("team/robot:1"))                                // push implies pull
	mustOK(t, ci.cranePull("pub/base:1"))                                  // public project, as anyone
	mustRefuse(t, ci.cranePush(t, "other/robot:1", "outside its project")) // nothing outside
	mustRefuse(t, ci.cranePush(t, "pub/robot:1", "public is pull only"))
	mustRefuse(t, ci.crane("catalog", w.reg.host))
	// explain says the same as the registry did.
	if out := w.auth.cli(t, "explain", "--robot", "team+ci", "repository:other/robot:push", "repository:team/robot:push"); !strings.Contains(out, "repository:other/robot: robot$team+ci asked push, granted nothing") ||
		!strings.Contains(out, "repository:team/robot: robot$team+ci asked push, granted push") {
		t.Fatalf("explain --robot:\n%s", out)
	}

	w.auth.cli(t, "robot", "disable", "team+ci")
	mustRefuse(t, ci.cranePull("team/robot:1"))
	w.auth.cli(t, "robot", "enable", name)
	mustOK(t, ci.cranePull("team/robot:1"))

	_, fresh := w.createSecret(t, "robot", "refresh-secret", "team+ci")
	mustRefuse(t, ci.cranePull("team/robot:1"))
	mustOK(t, newSession(t, w.reg, name, fresh).cranePull("team/robot:1"))

	// A system robot acts on every project, with its actions only.
	sysName, sysSecret := w.createSecret(t, "robot", "create", "puller", "--project", "*", "--actions", "pull", "--expires", "never")
	sys := newSession(t, w.reg, sysName, sysSecret)
	mustOK(t, sys.cranePull("team/app:1"))
	mustRefuse(t, sys.cranePush(t, "team/sys:1", "pull only"))

	// A system robot on two projects (Harbor v2, as terraform makes them)
	// pushes to both and is refused a third.
	depName, depSecret := w.createSecret(t, "robot", "create", "deployer", "--permission", "team:push", "--permission", "pub:push", "--expires", "1h")
	dep := newSession(t, w.reg, depName, depSecret)
	mustOK(t, dep.cranePush(t, "team/deploy:1", "deployed to team"))
	mustOK(t, dep.cranePush(t, "pub/deploy:1", "deployed to pub"))
	mustRefuse(t, dep.cranePush(t, "other/deploy:1", "not one of its projects"))
	if out := w.auth.cli(t, "robot", "list", "--project", "*"); !strings.Contains(out, "pub:pull,push team:pull,push") {
		t.Fatalf("robot list:\n%s", out)
	}

	// An expired robot (expiry renewed into the past is refused by the
	// CLI, so expire one for a second). The session is set up while the
	// robot is valid: regctl checks the credentials when it is configured,
	// and a 1 s robot may already have expired by then on a loaded machine.
	expName, expSecret := w.createSecret(t, "robot", "create", "brief", "--project", "team", "--actions", "pull", "--expires", "1h")
	exp := newSession(t, w.reg, expName, expSecret)
	mustOK(t, exp.cranePull("team/app:1"))
	w.auth.cli(t, "robot", "set", expName, "--expires", "1s")
	waitUntilRefused(t, func() result { return exp.cranePull("team/app:1") })
	w.auth.cli(t, "robot", "set", expName, "--expires", "1h")
	mustOK(t, exp.cranePull("team/app:1"))
}

// waitUntilRefused retries op (for up to 5 s) until a client reports
// refusal.
func waitUntilRefused(t *testing.T, op func() result) {
	t.Helper()
	for i := 0; ; i++ {
		r := op()
		if r.err != nil || i == 25 {
			mustRefuse(t, r)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (w *credWorld) testPAT(t *testing.T) {
	_, pat := w.createSecret(t, "pat", "create", "--user", "dev", "--name", "ci")
	if !strings.HasPrefix(pat, "asp_") {
		t.Fatalf("PAT %q lacks its prefix", pat)
	}
	s := newSession(t, w.reg, "dev", pat)
	mustOK(t, s.cranePush(t, "team/pat:1", "pushed with a PAT"))
	mustOK(t, s.cranePull("team/pat:1"))
	mustRefuse(t, s.cranePush(t, "other/pat:1", "not dev's project"))
	// The password grant takes it too (docker's ForceOAuth path).
	if body := w.postToken(t, url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {pat}}); body["access_token"] == nil {
		t.Fatalf("password grant with a PAT: %v", body)
	}
	if out := w.auth.cli(t, "pat", "list", "--user", "dev"); !strings.Contains(out, "ci") || strings.Contains(out, pat) {
		t.Fatalf("pat list:\n%s", out)
	}
	w.auth.cli(t, "pat", "revoke", "--user", "dev", "--name", "ci")
	mustRefuse(t, s.cranePull("team/pat:1"))
}

// testRevocation: a password change revokes docker's refresh token; the
// token CLI revokes the rest.
func (w *credWorld) testRevocation(t *testing.T) {
	rt := w.dockerLogin(t, "dev", w.devPass, false)
	other := w.dockerLogin(t, "dev", w.devPass, false)
	if status, _ := w.dockerPull(t, rt, "team/app", "1"); status != http.StatusOK {
		t.Fatalf("pull before revocation: %d", status)
	}
	w.auth.cli(t, "token", "revoke", "--user", "dev", "--all")
	for _, tok := range []string{rt, other} {
		if status, _ := w.dockerPull(t, tok, "team/app", "1"); status != http.StatusUnauthorized {
			t.Fatalf("pull after token revoke --all: %d, want 401", status)
		}
	}
	rt = w.dockerLogin(t, "dev", w.devPass, false)
	w.devPass = "Dev-pass-2"
	mustOK(t, w.auth.tryCLI(w.devPass+"\n", "user", "passwd", "dev", "--password-stdin"))
	if status, _ := w.dockerPull(t, rt, "team/app", "1"); status != http.StatusUnauthorized {
		t.Fatalf("pull after a password change: %d, want 401", status)
	}
	rt = w.dockerLogin(t, "dev", w.devPass, false)
	w.auth.cli(t, "user", "disable", "dev")
	w.auth.cli(t, "user", "enable", "dev")
	if status, _ := w.dockerPull(t, rt, "team/app", "1"); status != http.StatusUnauthorized {
		t.Fatalf("pull after disable and enable: %d, want 401", status)
	}
}
