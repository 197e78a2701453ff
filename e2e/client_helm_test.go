//go:build integration

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// helmCLI is helm v3 with its registry config, config, cache and data in
// the session's home. Charts are OCI artifacts: oci://HOST/PROJECT/CHART,
// tagged with the chart version.
type helmCLI struct {
	s   *session
	dir string
}

func newHelm(s *session) helmCLI { return helmCLI{s: s, dir: filepath.Join(s.home, "helm")} }

func (h helmCLI) run(stdin string, args ...string) result {
	env := append(h.s.env(),
		"HELM_REGISTRY_CONFIG="+filepath.Join(h.dir, "registry.json"),
		"HELM_CONFIG_HOME="+filepath.Join(h.dir, "config"),
		"HELM_CACHE_HOME="+filepath.Join(h.dir, "cache"),
		"HELM_DATA_HOME="+filepath.Join(h.dir, "data"),
	)
	return runIn(h.s.home, env, stdin, append([]string{bin["helm"]}, args...)...)
}

func (h helmCLI) login(user, pass string) result {
	return h.run(pass+"\n", "registry", "login", "--insecure", "-u", user, "--password-stdin", h.s.reg.host)
}

// push packages a tiny chart (a Chart.yaml and one template) at version and
// pushes it to oci://HOST/project.
func (h helmCLI) push(t testing.TB, project, chart, version string) result {
	t.Helper()
	src := filepath.Join(h.dir, "src", chart+"-"+version)
	if err := os.MkdirAll(filepath.Join(src, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\ndescription: authserver e2e chart\n", chart, version)
	if err := os.WriteFile(filepath.Join(src, "Chart.yaml"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + chart + "\ndata:\n  version: \"" + version + "\"\n"
	if err := os.WriteFile(filepath.Join(src, "templates", "cm.yaml"), []byte(cm), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(h.dir, "packages")
	if r := h.run("", "package", src, "-d", out); r.err != nil {
		t.Fatalf("helm package:\n%s", r)
	}
	return h.run("", "push", filepath.Join(out, chart+"-"+version+".tgz"), "oci://"+h.s.reg.host+"/"+project, "--plain-http")
}

// pull fetches oci://HOST/repo at version into the helm dir.
func (h helmCLI) pull(t testing.TB, repo, version string) result {
	t.Helper()
	out := filepath.Join(h.dir, "pulled")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return h.run("", "pull", "oci://"+h.s.reg.ref(repo), "--version", version, "--plain-http", "-d", out)
}
