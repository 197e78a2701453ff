package main

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/authserver/authserver/internal/credprovider"
)

// kubeletCredentialProviderConfig is kubelet.config.k8s.io/v1
// CredentialProviderConfig with the fields of the Kubernetes reference
// (kubelet-config.v1, 1.34: CredentialProvider and
// ServiceAccountTokenAttributes), written out so an unknown or misspelt
// key in the documented YAML fails the strict decode below.
type kubeletCredentialProviderConfig struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Providers  []struct {
		Name                 string   `yaml:"name"`
		MatchImages          []string `yaml:"matchImages"`
		DefaultCacheDuration string   `yaml:"defaultCacheDuration"`
		APIVersion           string   `yaml:"apiVersion"`
		Args                 []string `yaml:"args"`
		Env                  []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		TokenAttributes *struct {
			ServiceAccountTokenAudience          string   `yaml:"serviceAccountTokenAudience"`
			CacheType                            string   `yaml:"cacheType"`
			RequireServiceAccount                *bool    `yaml:"requireServiceAccount"`
			RequiredServiceAccountAnnotationKeys []string `yaml:"requiredServiceAccountAnnotationKeys"`
			OptionalServiceAccountAnnotationKeys []string `yaml:"optionalServiceAccountAnnotationKeys"`
		} `yaml:"tokenAttributes"`
	} `yaml:"providers"`
}

// TestCredentialProviderDoc: the kubelet configuration of
// docs/FEDERATION.md decodes strictly as a CredentialProviderConfig, meets
// the kubelet's validation rules for the fields it sets, and its args run
// this command successfully on a real request.
func TestCredentialProviderDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/FEDERATION.md")
	if err != nil {
		t.Fatal(err)
	}
	var block string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(m[1], "kind: CredentialProviderConfig") {
			block = m[1]
		}
	}
	if block == "" {
		t.Fatal("docs/FEDERATION.md has no CredentialProviderConfig")
	}
	var cfg kubeletCredentialProviderConfig
	dec := yaml.NewDecoder(strings.NewReader(block))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("the documented CredentialProviderConfig: %v", err)
	}
	if cfg.APIVersion != "kubelet.config.k8s.io/v1" || cfg.Kind != "CredentialProviderConfig" || len(cfg.Providers) != 1 {
		t.Fatalf("apiVersion %q kind %q, %d providers", cfg.APIVersion, cfg.Kind, len(cfg.Providers))
	}
	p := cfg.Providers[0]
	// The name is the executable's in --image-credential-provider-bin-dir,
	// which the doc says to install authserver as.
	if p.Name != "authserver" || !strings.Contains(string(doc), "/etc/kubernetes/credential-providers/authserver") {
		t.Errorf("provider name %q: want authserver, the installed binary's name", p.Name)
	}
	if len(p.MatchImages) == 0 {
		t.Error("matchImages is required")
	}
	if _, err := time.ParseDuration(p.DefaultCacheDuration); err != nil {
		t.Errorf("defaultCacheDuration (required): %v", err)
	}
	// tokenAttributes is only allowed with the v1 request version.
	if p.APIVersion != credprovider.APIVersion {
		t.Errorf("apiVersion %q, want %s", p.APIVersion, credprovider.APIVersion)
	}
	ta := p.TokenAttributes
	switch {
	case ta == nil:
		t.Fatal("no tokenAttributes: the kubelet would send no service-account token")
	case ta.ServiceAccountTokenAudience != "harbor-registry":
		t.Errorf("serviceAccountTokenAudience %q: want harbor-registry, the audience the doc's issuers accept", ta.ServiceAccountTokenAudience)
	case ta.CacheType != "Token" && ta.CacheType != "ServiceAccount":
		t.Errorf("cacheType %q: required, Token or ServiceAccount", ta.CacheType)
	case ta.RequireServiceAccount == nil || !*ta.RequireServiceAccount:
		t.Error("requireServiceAccount is required, and must be true: the plugin needs the pod's token")
	case !slices.Contains(ta.OptionalServiceAccountAnnotationKeys, credprovider.RobotAnnotation):
		t.Errorf("optionalServiceAccountAnnotationKeys %q should list %s", ta.OptionalServiceAccountAnnotationKeys, credprovider.RobotAnnotation)
	}

	// The documented args, on a request as the kubelet sends it.
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: &out}
	root := a.root()
	root.SetArgs(p.Args)
	root.SetIn(strings.NewReader(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest",` +
		`"image":"registry.example.org/team/app:1","serviceAccountToken":"a.b.c","serviceAccountAnnotations":{}}`))
	root.SetOut(&out)
	if err := root.Execute(); err != nil || !strings.Contains(out.String(), `"username":"robot$builder"`) {
		t.Fatalf("authserver %s: %v\n%s", strings.Join(p.Args, " "), err, out.String())
	}
}
