//go:build integration

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestInterop runs the clients beyond crane, oras, regctl and skopeo
// against both registries: the docker CLI, podman, buildah, containerd's
// ctr and helm. Each client gets its own config and storage in a temp
// home; every token they show the registry is also checked with zot's
// rules (newWorld's registry is zotChecked). The clients of one registry
// run in parallel: they use their own tags.
func TestInterop(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, f)
			mustOK(t, w.as["dev"].cranePush(t, "team/app:base", "base image for the clients"))
			robot, secret := w.robot(t, "ci", "team", "push")
			w.pass[robot] = secret
			w.as[robot] = newSession(t, w.reg, robot, secret)

			t.Run("docker", func(t *testing.T) { t.Parallel(); w.testDocker(t) })
			t.Run("podman", func(t *testing.T) { t.Parallel(); w.testPodman(t, robot) })
			t.Run("buildah", func(t *testing.T) { t.Parallel(); w.testBuildah(t, robot) })
			t.Run("containerd", func(t *testing.T) { t.Parallel(); w.testContainerd(t) })
			t.Run("helm", func(t *testing.T) { t.Parallel(); w.testHelm(t) })
		})
	}
}

// robot creates a robot account of project with actions; it returns the
// robot's login name and secret.
func (w *world) robot(t *testing.T, name, project, actions string) (login, secret string) {
	t.Helper()
	out := w.auth.cli(t, "robot", "create", name, "--project", project, "--actions", actions, "--expires", "1h", "--output", "json")
	var v struct{ Name, Secret string }
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Secret == "" {
		t.Fatalf("robot create printed %q (%v)", out, err)
	}
	return v.Name, v.Secret
}

// testDocker: `docker login` (GET with offline_token=true, client_id
// docker) stores the refresh token as identitytoken; crane, reading the
// same DOCKER_CONFIG, pulls with it (POST grant_type=refresh_token).
func (w *world) testDocker(t *testing.T) {
	pass := w.pass["dev"]
	s := newSession(t, w.reg, "", "") // no crane login: only what docker stores
	d := dockerCLI{s: s}
	t.Run("wrong password fails the login", func(t *testing.T) {
		mustRefuse(t, d.login("dev", "not-"+pass))
		if entry, file := d.auth(t); entry != nil {
			t.Fatalf("a failed login left credentials behind:\n%s", file)
		}
	})
	t.Run("developer login stores an identity token", func(t *testing.T) {
		mustOK(t, d.login("dev", pass))
		entry, file := d.auth(t)
		if !strings.HasPrefix(entry["identitytoken"], "asr_") {
			t.Fatalf("config.json holds no authserver refresh token as identitytoken:\n%s", file)
		}
		if strings.Contains(file, pass) || strings.Contains(file, base64.StdEncoding.EncodeToString([]byte("dev:"+pass))) {
			t.Fatalf("config.json holds the password:\n%s", file)
		}
	})
	t.Run("crane pulls with the identity token", func(t *testing.T) {
		mustOK(t, s.cranePull("team/app:base"))
		mustRefuse(t, s.crane("delete", w.reg.ref("team/app:base"))) // a developer's token, no more
	})
	t.Run("the refresh token is listed", func(t *testing.T) {
		if out := w.auth.cli(t, "token", "list", "--user", "dev"); !strings.Contains(out, "docker") || strings.Contains(out, "asr_") {
			t.Fatalf("token list --user dev should show docker's token (and never its secret):\n%s", out)
		}
	})
	t.Run("logout leaves nothing behind", func(t *testing.T) {
		mustOK(t, d.logout())
		if entry, file := d.auth(t); entry != nil || strings.Contains(file, "asr_") {
			t.Fatalf("config.json after logout:\n%s", file)
		}
		mustRefuse(t, s.cranePull("team/app:base")) // anonymous again: team is private
		// A logout is local: the refresh token stays valid on the server
		// until revoked (docs/CLIENTS.md).
		if out := w.auth.cli(t, "token", "list", "--user", "dev"); !strings.Contains(out, "docker") {
			t.Fatalf("token list --user dev after docker logout:\n%s", out)
		}
	})
}

// testPodman: GET flow, no client_id; podman import makes each image from
// a layer tarball, so a push needs no pull first.
func (w *world) testPodman(t *testing.T, robot string) {
	t.Run("developer login push pull", func(t *testing.T) {
		p := newContainersStore(t, w.as["dev"], "podman")
		mustOK(t, p.login("dev", w.pass["dev"]))
		mustOK(t, p.push(t, "team/app:podman", "pushed by podman"))
		mustOK(t, p.pull("team/app:base"))
	})
	t.Run("guest pulls, cannot push", func(t *testing.T) {
		p := newContainersStore(t, w.as["guest"], "podman")
		mustOK(t, p.login("guest", w.pass["guest"]))
		mustOK(t, p.pull("team/app:base"))
		mustRefuse(t, p.push(t, "team/app:podman-guest", "guest tries podman")) // a new tag: the registry asks push
	})
	t.Run("robot pushes", func(t *testing.T) {
		p := newContainersStore(t, w.as[robot], "podman")
		mustOK(t, p.login(robot, w.pass[robot]))
		mustOK(t, p.push(t, "team/app:podman-robot", "pushed by a robot with podman"))
	})
}

// testBuildah: a robot builds from a base it pulls, commits and pushes.
func (w *world) testBuildah(t *testing.T, robot string) {
	b := newContainersStore(t, w.as[robot], "buildah")
	mustOK(t, b.login(robot, w.pass[robot]))
	mustOK(t, b.buildFrom(t, "team/app:base", "team/app:buildah"))
	mustOK(t, w.as["dev"].cranePull("team/app:buildah"))
}

// testContainerd: ctr with --user uses the OAuth2 password grant (POST,
// client_id containerd-client), the path the kubelet's pulls take.
func (w *world) testContainerd(t *testing.T) {
	d := startContainerd(t)
	guest, dev := ctr{d: d, s: w.as["guest"]}, ctr{d: d, s: w.as["dev"]}
	t.Run("guest pulls", func(t *testing.T) {
		mustOK(t, guest.pull("team/app:base"))
	})
	t.Run("developer pushes", func(t *testing.T) {
		mustOK(t, dev.pull("team/app:base"))
		mustOK(t, dev.push(t, "team/app:base", "team/app:containerd"))
		mustOK(t, w.as["guest"].cranePull("team/app:containerd"))
	})
	t.Run("guest push of a new tag refused", func(t *testing.T) {
		mustOK(t, guest.pull("team/app:base"))
		mustRefuse(t, guest.pushRefused(t, "team/app:base", "team/app:containerd-guest", w.as["dev"]))
	})
	t.Run("audit shows containerd's POST", func(t *testing.T) {
		// The audit writer flushes once a second: give it a few.
		var out string
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			out = w.auth.cli(t, "audit", "list", "--user", "guest", "--output", "json", "--limit", "100000")
			var recs []struct {
				ClientID string `json:"client_id"`
				Method   string `json:"method"`
				Result   string `json:"result"`
			}
			if err := json.Unmarshal([]byte(out), &recs); err != nil {
				t.Fatalf("audit list: %v\n%s", err, out)
			}
			for _, r := range recs {
				if r.ClientID == "containerd-client" && r.Result == "issued" {
					return
				}
			}
			if time.Now().After(deadline) {
				break
			}
		}
		t.Fatalf("no issued token with client_id containerd-client in guest's audit trail:\n%s", out)
	})
}

// testHelm: charts as OCI artifacts, oci://HOST/PROJECT.
func (w *world) testHelm(t *testing.T) {
	t.Run("developer pushes a chart", func(t *testing.T) {
		h := newHelm(w.as["dev"])
		mustOK(t, h.login("dev", w.pass["dev"]))
		mustOK(t, h.push(t, "team", "hello", "0.1.0"))
	})
	t.Run("guest pulls it, cannot push", func(t *testing.T) {
		h := newHelm(w.as["guest"])
		mustOK(t, h.login("guest", w.pass["guest"]))
		mustOK(t, h.pull(t, "team/hello", "0.1.0"))
		mustRefuse(t, h.push(t, "team", "hello", "0.2.0")) // a new version: a new tag
	})
}
