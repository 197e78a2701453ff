//go:build integration

package e2e

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// TestRepositoryNames: the repository names of distribution's reference
// grammar that real clients use beyond project/repo, nested paths and every
// separator, are pushed and pulled by crane, oras, regctl and skopeo
// through both registries (the token endpoint checks the grammar before
// authentication), and a name outside it is a 400, never a token.
func TestRepositoryNames(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, f)
			dev := w.as["dev"]
			if err := os.WriteFile(filepath.Join(dev.home, "note.txt"), []byte("nested\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			layout := "oci:" + filepath.Join(dev.home, "layout") + ":img"
			steps := []struct {
				what string
				run  func() result
			}{
				{"crane push nested", func() result { return dev.cranePush(t, "team/base/img:crane", "nested base image") }},
				{"crane pull nested", func() result { return dev.cranePull("team/base/img:crane") }},
				{"oras push separators", func() result {
					return dev.oras("push", w.reg.ref("team/base/my-app_v2.x__y--z:oras"), "note.txt:text/plain")
				}},
				{"oras pull separators", func() result {
					return dev.oras("pull", "-o", "oras-out", w.reg.ref("team/base/my-app_v2.x__y--z:oras"))
				}},
				{"regctl copy across nested repositories", func() result {
					return dev.regctl("image", "copy", w.reg.ref("team/base/img:crane"), w.reg.ref("team/a.b/c_d/e__f:regctl"))
				}},
				{"skopeo pull nested", func() result { return dev.skopeoCopy("docker://"+w.reg.ref("team/a.b/c_d/e__f:regctl"), layout) }},
				{"skopeo push nested", func() result { return dev.skopeoCopy(layout, "docker://"+w.reg.ref("team/base/img:skopeo")) }},
			}
			for _, st := range steps {
				if r := st.run(); r.err != nil {
					t.Fatalf("%s failed:\n%s", st.what, r)
				}
			}
			r := dev.crane("ls", w.reg.ref("team/base/img"))
			mustOK(t, r)
			for _, tag := range []string{"crane", "skopeo"} {
				if !containsLine(r.stdout, tag) {
					t.Errorf("team/base/img lacks tag %s; tags:\n%s", tag, r.stdout)
				}
			}
			for _, repo := range []string{"team/../secret/app", "Team/app", "team//app"} {
				q := url.Values{"service": {"harbor-registry"}, "scope": {"repository:" + repo + ":pull,push"}}
				r := w.auth.getToken(t, "dev", w.pass["dev"], q.Encode())
				wantErrcode(t, "scope "+repo, r.status, r.body, 400, "INVALID_REQUEST")
			}
		})
	}
}
