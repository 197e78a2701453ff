//go:build integration

package k8stest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// typed returns the API type a manifest of apiVersion/kind decodes into;
// nil for kinds outside core Kubernetes (CRDs such as ServiceMonitor).
func typed(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}
	case "v1 Service":
		return &corev1.Service{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "v1 Secret":
		return &corev1.Secret{}
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	}
	return nil
}

// decodeAll splits a multi-document YAML stream and decodes every document
// strictly (unknown or misplaced fields are errors) into its API type, and
// returns the kinds it saw.
func decodeAll(t *testing.T, where string, stream []byte) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	for i, doc := range bytes.Split(stream, []byte("\n---")) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("%s document %d: %v", where, i, err)
		}
		if head.Kind == "" {
			continue // comments only
		}
		kinds[head.Kind]++
		obj := typed(head.APIVersion, head.Kind)
		if obj == nil {
			if head.Kind != "ServiceMonitor" || head.APIVersion != "monitoring.coreos.com/v1" {
				t.Fatalf("%s: unexpected %s %s", where, head.APIVersion, head.Kind)
			}
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s: %s does not decode strictly: %v", where, head.Kind, err)
		}
	}
	return kinds
}

// TestManifestsDecode: every file kubectl would apply from
// deploy/kubernetes is a well-formed object of its kind, and none is a
// Secret (applying the folder must never overwrite a real one).
func TestManifestsDecode(t *testing.T) {
	files, err := filepath.Glob("../kubernetes/*")
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]int{}
	for _, f := range files {
		switch filepath.Ext(f) {
		case ".yaml", ".yml", ".json": // what `kubectl apply -f DIR` reads
		default:
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for k, n := range decodeAll(t, f, data) {
			all[k] += n
		}
	}
	if all["Secret"] != 0 {
		t.Fatal("deploy/kubernetes applies a Secret: `kubectl apply -f` would overwrite the real key with a placeholder")
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap"} {
		if all[k] != 1 {
			t.Fatalf("want one %s, got %v", k, all)
		}
	}
}

// TestHelmTemplateDecodes: the chart's output, with its defaults and with
// every optional part on or off, decodes strictly.
func TestHelmTemplateDecodes(t *testing.T) {
	cases := []struct {
		name string
		set  []string
		want map[string]int
	}{
		{name: "defaults", want: map[string]int{"Deployment": 1, "Service": 1, "ConfigMap": 1, "PodDisruptionBudget": 1, "NetworkPolicy": 1}},
		{name: "everything", set: []string{"serviceMonitor.enabled=true", "config.trustedProxies={10.244.0.16/29}",
			"imagePullSecrets[0].name=pull", "networkPolicy.ingressFrom[0].namespaceSelector.matchLabels.name=ingress",
			"nodeSelector.disk=ssd", "config.extra.throttle.user_ip_failures=3"},
			want: map[string]int{"Deployment": 1, "Service": 1, "ConfigMap": 1, "PodDisruptionBudget": 1, "NetworkPolicy": 1, "ServiceMonitor": 1}},
		{name: "minimal", set: []string{"podDisruptionBudget.enabled=false", "networkPolicy.enabled=false", "adminPasswordSecret="},
			want: map[string]int{"Deployment": 1, "Service": 1, "ConfigMap": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"template", "rel", "../helm/authserver"}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			out, err := exec.Command("helm", args...).CombinedOutput()
			if err != nil {
				t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			if got := decodeAll(t, "helm template", out); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("kinds %v, want %v", got, tc.want)
			}
		})
	}
}
