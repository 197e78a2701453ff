// Package deploy holds deployment files; this test keeps them parseable and in step with the config schema.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/authserver/authserver/internal/config"
)

// docs parses every YAML document in a file.
func docs(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return docsOf(t, path, data)
}

// docsOf parses every YAML document in data, read from where.
func docsOf(t *testing.T, where string, data []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
}

// loadConfig checks that an authserver config text decodes strictly and
// validates, with the variables it references set.
func loadConfig(t *testing.T, where, text string) config.Config {
	t.Helper()
	for _, v := range []string{"POSTGRES_PASSWORD", "LDAP_BIND_PASSWORD"} {
		t.Setenv(v, "x")
	}
	cfg, err := config.Parse([]byte(text))
	if err != nil {
		t.Fatalf("%s: not a valid authserver config: %v", where, err)
	}
	return cfg
}

func TestEveryYAMLParses(t *testing.T) {
	n := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "templates" && filepath.Base(filepath.Dir(filepath.Dir(path))) == "helm" {
			return filepath.SkipDir // Helm templates: checked by helm lint and helm template (TestHelmChart)
		}
		if d.IsDir() || d.Name() == "go.mod" {
			return nil
		}
		if ext := filepath.Ext(path); ext == ".yml" || ext == ".yaml" {
			n++
			if len(docs(t, path)) == 0 {
				t.Errorf("%s: no YAML document", path)
			}
		}
		return nil
	})
	if err != nil || n < 6 {
		t.Fatalf("walked %d YAML files, err %v", n, err)
	}
}

func TestComposeReferencesRealConfig(t *testing.T) {
	compose := docs(t, "docker-compose.yml")[0]
	services := compose["services"].(map[string]any)
	for _, name := range []string{"registry", "authserver", "postgres", "openldap"} {
		if services[name] == nil {
			t.Fatalf("compose has no %s service", name)
		}
	}
	as := services["authserver"].(map[string]any)
	var mounted string
	for _, v := range as["volumes"].([]any) {
		if s := v.(string); strings.HasSuffix(s, ":/etc/authserver/config.yaml:ro") {
			mounted = strings.SplitN(s, ":", 2)[0]
		}
	}
	if mounted == "" {
		t.Fatal("authserver config is not mounted at /etc/authserver/config.yaml")
	}
	text, err := os.ReadFile(mounted)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, mounted, string(text))
	if cfg.Storage.Driver != "postgres" || cfg.LDAP == nil {
		t.Fatalf("compose config should use postgres and ldap: %+v", cfg.Storage)
	}
	reg := docs(t, "registry/config.yml")[0]
	tok := reg["auth"].(map[string]any)["token"].(map[string]any)
	if tok["issuer"] != cfg.Token.Issuer || tok["service"] != cfg.Token.Service {
		t.Fatalf("registry issuer/service %v/%v differ from authserver's %s/%s", tok["issuer"], tok["service"], cfg.Token.Issuer, cfg.Token.Service)
	}
	if !strings.HasSuffix(tok["realm"].(string), "/service/token") {
		t.Fatalf("realm %v", tok["realm"])
	}
	if filepath.Base(tok["rootcertbundle"].(string)) != filepath.Base(cfg.Token.Certificate) {
		t.Fatalf("registry trusts %v, authserver signs with %s", tok["rootcertbundle"], cfg.Token.Certificate)
	}
}

// TestComposeRuns checks what made the compose file fail to come up: every
// image fully qualified (Debian's registries.conf has no search registries,
// and tags of third-party images vanish), commands in the authserver
// container reaching its config (and so PostgreSQL), volumes mounted where
// the image's user owns the directory, and the registry mounting only the
// certificate, never the private key.
func TestComposeRuns(t *testing.T) {
	compose := docs(t, "docker-compose.yml")[0]
	services := compose["services"].(map[string]any)
	for name, svc := range services {
		image, _ := svc.(map[string]any)["image"].(string)
		host, _, _ := strings.Cut(image, "/")
		if image == "" || (!strings.Contains(host, ".") && host != "localhost") || !strings.Contains(image, ":") {
			t.Errorf("service %s: image %q is not fully qualified with a tag", name, image)
		}
		if _, build := svc.(map[string]any)["build"]; build {
			t.Errorf("service %s builds an image: the compose file must not need network access to build", name)
		}
	}
	as := services["authserver"].(map[string]any)
	env := as["environment"].(map[string]any)
	mounts := map[string]string{} // container path → source
	for _, v := range as["volumes"].([]any) {
		parts := strings.Split(v.(string), ":")
		mounts[parts[1]] = parts[0]
	}
	if env["AUTHSERVER_CONFIG"] == nil || mounts[env["AUTHSERVER_CONFIG"].(string)] == "" {
		t.Fatalf("AUTHSERVER_CONFIG %v is not the mounted config: `compose exec authserver authserver …` would use the embedded default's SQLite", env["AUTHSERVER_CONFIG"])
	}
	cfgFile := mounts[env["AUTHSERVER_CONFIG"].(string)]
	text, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, cfgFile, string(text))
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for path, src := range mounts {
		if strings.HasPrefix(src, ".") {
			continue // a file from this folder
		}
		rel, ok := strings.CutPrefix(path, "/var/lib/authserver/")
		if !ok || !bytes.Contains(makefile, []byte("dist/image/state/"+rel)) {
			t.Errorf("volume %s mounted at %s: not a directory the image creates for its user (make image-context)", src, path)
		}
	}
	keyVol, certVol := mounts[filepath.Dir(cfg.Token.Key)], mounts[filepath.Dir(cfg.Token.Certificate)]
	if keyVol == "" || certVol == "" || keyVol == certVol {
		t.Fatalf("key in volume %q, certificate in %q: want two volumes, so the registry can mount the certificate alone", keyVol, certVol)
	}
	reg := services["registry"].(map[string]any)
	for _, v := range reg["volumes"].([]any) {
		if src := strings.Split(v.(string), ":")[0]; src == keyVol {
			t.Fatalf("the registry mounts %s, which holds the private signing key", src)
		}
	}
}

func TestKubernetesManifests(t *testing.T) {
	kinds := map[string]map[string]any{}
	files, _ := filepath.Glob("kubernetes/*.yaml")
	for _, f := range files {
		for _, d := range docs(t, f) {
			kinds[d["kind"].(string)] = d
		}
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap"} {
		if kinds[k] == nil {
			t.Fatalf("no %s manifest", k)
		}
	}
	cm := kinds["ConfigMap"]["data"].(map[string]any)["config.yaml"].(string)
	cfg := loadConfig(t, "ConfigMap authserver", cm)

	dep := kinds["Deployment"]["spec"].(map[string]any)
	if dep["replicas"].(int) < 2 {
		t.Fatal("want at least two replicas")
	}
	c := dep["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	probe := func(name string) string {
		return c[name].(map[string]any)["httpGet"].(map[string]any)["path"].(string)
	}
	if probe("livenessProbe") != "/healthz" || probe("readinessProbe") != "/readyz" {
		t.Fatalf("probes %s %s", probe("livenessProbe"), probe("readinessProbe"))
	}
	var keyDir string
	for _, m := range c["volumeMounts"].([]any) {
		if mm := m.(map[string]any); mm["name"] == "keys" {
			keyDir = mm["mountPath"].(string)
		}
	}
	if filepath.Dir(cfg.Token.Key) != keyDir || filepath.Dir(cfg.Token.Certificate) != keyDir {
		t.Fatalf("key %s / cert %s not under the mounted secret %s", cfg.Token.Key, cfg.Token.Certificate, keyDir)
	}
	if cfg.Storage.Driver != "postgres" {
		t.Fatal("replicas must share PostgreSQL")
	}
	// Only the ingress is trusted to name the client, not the pod network.
	if len(cfg.Server.TrustedProxies) == 0 {
		t.Fatal("no trusted proxies: behind an ingress every client would be the ingress")
	}
	for _, p := range cfg.Server.TrustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				t.Fatalf("trusted proxy %q: %v", p, err)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if min := map[bool]int{true: 24, false: 112}[pfx.Addr().Is4()]; pfx.Bits() < min {
			t.Fatalf("trusted proxy %s is wider than /%d: trust only the ingress controller", p, min)
		}
	}
}
