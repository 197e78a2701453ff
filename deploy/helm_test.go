//go:build integration

package deploy

import (
	"os/exec"
	"slices"
	"testing"
)

// TestHelmChart: `helm lint` passes, and the config the chart renders is a
// valid authserver config that matches the Deployment it runs in: the key
// pair where the keys Secret is mounted, PostgreSQL from the DSN Secret,
// the trusted proxies given, extra sections merged in.
func TestHelmChart(t *testing.T) {
	if out, err := exec.Command("helm", "lint", "--strict", "helm/authserver").CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	out, err := exec.Command("helm", "template", "rel", "helm/authserver",
		"--set", "config.trustedProxies={10.244.0.16/29}", "--set", "config.extra.throttle.user_ip_failures=3").CombinedOutput()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	kinds := map[string]map[string]any{}
	for _, d := range docsOf(t, "helm template", out) {
		kinds[d["kind"].(string)] = d
	}
	t.Setenv("AUTHSERVER_DB_DSN", "postgres://u:p@db:5432/authserver?sslmode=verify-full")
	cfg := loadConfig(t, "the chart's ConfigMap", kinds["ConfigMap"]["data"].(map[string]any)["config.yaml"].(string))
	if cfg.Storage.Driver != "postgres" || cfg.Storage.DSN != "postgres://u:p@db:5432/authserver?sslmode=verify-full" {
		t.Fatalf("storage %+v", cfg.Storage)
	}
	if !slices.Equal(cfg.Server.TrustedProxies, []string{"10.244.0.16/29"}) || cfg.Throttle.UserIPFailures != 3 {
		t.Fatalf("values not rendered: proxies %v, throttle %+v", cfg.Server.TrustedProxies, cfg.Throttle)
	}
	spec := kinds["Deployment"]["spec"].(map[string]any)
	if spec["replicas"].(int) < 2 || kinds["PodDisruptionBudget"] == nil || kinds["NetworkPolicy"] == nil {
		t.Fatalf("want 2 replicas, a PDB and a NetworkPolicy by default")
	}
	c := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	var keyDir string
	for _, m := range c["volumeMounts"].([]any) {
		if mm := m.(map[string]any); mm["name"] == "keys" {
			keyDir = mm["mountPath"].(string)
		}
	}
	if keyDir == "" || cfg.Token.Key != keyDir+"/token.key" || cfg.Token.Certificate != keyDir+"/token.crt" {
		t.Fatalf("key %s not in the mounted Secret %s", cfg.Token.Key, keyDir)
	}
}
