//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/testenv"
)

// TestProjectRegistry runs, on registry v3.1.2 and 2.8.2, what authserver
// asks the registry of registry.url through the registry's own API with
// tokens it signs for itself: a project's repositories from the catalog,
// deleting a project answered 412 PRECONDITION while it holds repositories,
// terraform's force_destroy (GET the repositories, DELETE each: its
// manifests go, so a pull fails), the project deleted once they are gone
// and its name free again (no reservation with a registry to ask), the
// deletions in the admin audit trail.
func TestProjectRegistry(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			port := testenv.FreePort(t)
			a := startAuthServer(t, authOptions{extraConfig: fmt.Sprintf("registry:\n  url: http://localhost:%d\n", port)})
			reg := startRegistryOn(t, f, a, a.cli(t, "registry-config"), port)
			a.addUser(t, "owner", "Owner-pass-1")
			admin := newSession(t, reg, "admin", a.adminPass)
			api := func(user, pass, method, path string, body any) reply {
				t.Helper()
				var rd *strings.Reader
				if body != nil {
					b, _ := json.Marshal(body)
					rd = strings.NewReader(string(b))
				} else {
					rd = strings.NewReader("")
				}
				req := newRequest(t, method, a.url+"/api/v2.0"+path, rd)
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				req.SetBasicAuth(user, pass)
				return send(t, http.DefaultClient, req)
			}
			as := func(method, path string, body any) reply { return api("owner", "Owner-pass-1", method, path, body) }

			if r := as("POST", "/projects", map[string]any{"project_name": "team"}); r.status != 201 {
				t.Fatalf("create team: %d %s", r.status, r.body)
			}
			var sys map[string]any
			if r := as("GET", "/systeminfo", nil); json.Unmarshal(r.body, &sys) != nil || sys["registry_url"] != reg.url {
				t.Errorf("systeminfo registry_url = %v, want %s", sys["registry_url"], reg.url)
			}
			repos := func() []string {
				t.Helper()
				r := as("GET", "/projects/team/repositories?page_size=100", nil)
				if r.status != 200 {
					t.Fatalf("repositories: %d %s", r.status, r.body)
				}
				var rs []struct {
					Name string `json:"name"`
				}
				if err := json.Unmarshal(r.body, &rs); err != nil {
					t.Fatal(err)
				}
				out := []string{}
				for _, x := range rs {
					out = append(out, x.Name)
				}
				return out
			}
			if got := repos(); len(got) != 0 {
				t.Errorf("a new project's repositories: %v", got)
			}
			// A project beside it whose name sorts between: never counted.
			if r := as("POST", "/projects", map[string]any{"project_name": "team-x"}); r.status != 201 {
				t.Fatalf("create team-x: %d %s", r.status, r.body)
			}
			mustOK(t, admin.cranePush(t, "team/app:1", "app one"))
			mustOK(t, admin.cranePush(t, "team/app:2", "app two"))
			mustOK(t, admin.crane("tag", reg.ref("team/app:2"), "latest"))
			mustOK(t, admin.cranePush(t, "team/tools/lint:1", "lint"))
			mustOK(t, admin.cranePush(t, "team-x/app:1", "beside"))
			if got := repos(); !slices.Equal(got, []string{"team/app", "team/tools/lint"}) {
				t.Fatalf("repositories = %v, want team/app and team/tools/lint", got)
			}
			r := as("DELETE", "/projects/team", nil)
			if r.status != 412 || !strings.Contains(string(r.body), `"PRECONDITION"`) || !strings.Contains(string(r.body), "team/app") {
				t.Fatalf("delete a project holding repositories: %d %s, want 412 PRECONDITION", r.status, r.body)
			}
			// The CLI asks the registry too, signing with the config's key.
			if out := a.tryCLI("", "project", "delete", "team"); out.err == nil || !strings.Contains(out.stderr, "still has 2 repositories") {
				t.Errorf("CLI project delete of a project holding repositories:\n%s", out)
			}

			// terraform's force_destroy: each repository, its name under the
			// project encoded twice (Harbor's clients do).
			for _, name := range []string{"app", url.PathEscape(url.PathEscape("tools/lint"))} {
				if r := as("DELETE", "/projects/team/repositories/"+name, nil); r.status != 200 {
					t.Fatalf("delete repository %s: %d %s", name, r.status, r.body)
				}
			}
			if r := admin.cranePull("team/app:1"); r.err == nil {
				t.Errorf("team/app:1 still pulls after its repository was deleted")
			}
			if r := as("DELETE", "/projects/team/repositories/app", nil); r.status != 404 {
				t.Errorf("delete a deleted repository: %d %s, want 404", r.status, r.body)
			}
			if got := repos(); len(got) != 0 {
				t.Fatalf("repositories after force_destroy: %v", got)
			}
			mustOK(t, admin.cranePull("team-x/app:1")) // the neighbour is untouched
			if r := as("DELETE", "/projects/team", nil); r.status != 200 {
				t.Fatalf("delete the emptied project: %d %s", r.status, r.body)
			}
			// With a registry to ask, the name is free again for anyone.
			if r := as("POST", "/projects", map[string]any{"project_name": "team"}); r.status != 201 {
				t.Errorf("re-create team: %d %s, want 201 (nothing reserved with registry.url)", r.status, r.body)
			}
			out := a.cli(t, "audit", "list", "--kind", "admin", "--output", "json")
			for _, want := range []string{"repository team/app", "repository team/tools/lint", "project team"} {
				if !strings.Contains(out, want) {
					t.Errorf("admin audit trail lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
