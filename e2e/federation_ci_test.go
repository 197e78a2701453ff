//go:build integration

package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/authserver/authserver/internal/oidctest"
)

// The CI snippets of docs/FEDERATION.md, run as their platforms run them:
// the YAML is read from the doc, the shell lines run with bash exactly as
// written, only the registry host and the commit SHA substituted. No
// daemon is available, so each `docker push` line is checked for its
// image and crane pushes that image with what `docker login` stored.

// docHost is the registry host of the doc's snippets.
const docHost = "registry.example.org"

// sectionYAML is the first yaml block of the doc's section.
func sectionYAML(t *testing.T, doc, section string) []byte {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n## "+section+"\n")
	if !ok {
		t.Fatalf("docs/FEDERATION.md has no section %q", section)
	}
	rest, _, _ = strings.Cut(rest, "\n## ")
	blocks := fenced(rest, "yaml")
	if len(blocks) == 0 {
		t.Fatalf("section %q has no yaml block", section)
	}
	return []byte(blocks[0])
}

// tool is the path of a program the snippets call (installed by
// scripts/install-test-deps.sh).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (scripts/install-test-deps.sh installs it): %v", name, err)
	}
	return p
}

// ciShell runs a snippet's shell lines in the session's home with the
// session's DOCKER_CONFIG and no docker daemon, with bash as GitHub's
// runners invoke it (`bash --noprofile --norc -eo pipefail`).
func ciShell(t *testing.T, d dockerCLI, env []string, script string) result {
	t.Helper()
	tool(t, "curl")
	tool(t, "jq")
	env = append(append(d.s.env(), "DOCKER_HOST=unix://"+filepath.Join(d.s.home, "no-docker-daemon.sock")), env...)
	return runIn(d.s.home, env, "", tool(t, "bash"), "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
}

// pushLine is the image of a snippet's `docker push HOST/REPO:TAG` line,
// HOST replaced by the test registry's, as "REPO:TAG".
func pushLine(t *testing.T, line string) string {
	t.Helper()
	ref, ok := strings.CutPrefix(strings.TrimSpace(line), "docker push "+docHost+"/")
	if !ok || strings.ContainsAny(ref, " \t") {
		t.Fatalf("not a `docker push %s/REPO:TAG` line: %q", docHost, line)
	}
	return ref
}

// githubTokenEndpoint behaves as GitHub's OIDC token request endpoint
// (ACTIONS_ID_TOKEN_REQUEST_URL) does for a job with `id-token: write`:
// the request must carry `Authorization: bearer
// $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, the `audience` query parameter becomes
// the JWT's aud, and the answer is JSON {"count": N, "value": JWT}. It
// returns the job's two environment variables.
func githubTokenEndpoint(t *testing.T, is *oidctest.Issuer, claims map[string]any) []string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	secret := hex.EncodeToString(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		switch {
		case !strings.EqualFold(scheme, "bearer") || tok != secret:
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		case r.URL.Query().Get("api-version") != "2.0" || r.URL.Query().Get("audience") == "":
			http.Error(w, `{"message":"want api-version and audience"}`, http.StatusBadRequest)
			return
		}
		jwt := is.Mint(r.URL.Query().Get("audience"), claims)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"count": len(jwt), "value": jwt})
	}))
	t.Cleanup(srv.Close)
	return []string{"ACTIONS_ID_TOKEN_REQUEST_URL=" + srv.URL + "/_apis/distributedtask/hubs/build/plans/p/jobs/j/idtoken?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + secret}
}

// githubWorkflow runs the doc's GitHub Actions workflow: `permissions:
// id-token: write`, then its login step's `run:` script, the JWT fetched
// with curl and jq from a token endpoint as GitHub's, and returns the
// image its `docker push` step names (`${{ github.sha }}` a fixed SHA).
func githubWorkflow(t *testing.T, doc string, d dockerCLI, is *oidctest.Issuer, claims map[string]any) (result, string) {
	t.Helper()
	var wf struct {
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(sectionYAML(t, doc, "GitHub Actions"), &wf); err != nil {
		t.Fatalf("the GitHub workflow: %v", err)
	}
	if wf.Permissions["id-token"] != "write" {
		t.Fatalf("the GitHub workflow: permissions.id-token is %q, want write (or the job gets no token)", wf.Permissions["id-token"])
	}
	steps := wf.Jobs["push"].Steps
	if len(steps) != 2 {
		t.Fatalf("the GitHub workflow: want job push with a login step and a push step, got %d steps", len(steps))
	}
	login := strings.ReplaceAll(steps[0].Run, docHost, d.s.reg.host)
	r := ciShell(t, d, githubTokenEndpoint(t, is, claims), login)
	sha := "3f786850e387550fdab836ed7e6dc881de23001b"
	return r, pushLine(t, strings.ReplaceAll(steps[1].Run, "${{ github.sha }}", sha))
}

// gitlabJob runs the doc's GitLab job: a JWT minted for the audience of
// its `id_tokens.REGISTRY_TOKEN.aud` (what GitLab does), its first script
// line with bash, and returns the image of its `docker push` line
// ($CI_COMMIT_SHA a fixed SHA).
func gitlabJob(t *testing.T, doc string, d dockerCLI, is *oidctest.Issuer, claims map[string]any) (result, string) {
	t.Helper()
	var ci map[string]struct {
		IDTokens map[string]struct {
			Aud string `yaml:"aud"`
		} `yaml:"id_tokens"`
		Script []string `yaml:"script"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(sectionYAML(t, doc, "GitLab CI")))
	dec.KnownFields(true)
	if err := dec.Decode(&ci); err != nil {
		t.Fatalf("the GitLab job: %v", err)
	}
	job := ci["push"]
	aud := job.IDTokens["REGISTRY_TOKEN"].Aud
	if aud == "" || len(job.Script) != 2 {
		t.Fatalf("the GitLab job: want id_tokens.REGISTRY_TOKEN.aud and two script lines, got %+v", job)
	}
	env := []string{"REGISTRY_TOKEN=" + is.Mint(aud, claims), "CI_COMMIT_SHA=3f786850e387550fdab836ed7e6dc881de23001b"}
	r := ciShell(t, d, env, strings.ReplaceAll(job.Script[0], docHost, d.s.reg.host))
	return r, pushLine(t, strings.ReplaceAll(job.Script[1], "$CI_COMMIT_SHA", "3f786850e387550fdab836ed7e6dc881de23001b"))
}

// k8sVolume is a Kubernetes core/v1 Volume: name and the VolumeSource
// fields of the API reference (1.34); only projected is looked into.
type k8sVolume struct {
	Name      string               `yaml:"name"`
	Projected *k8sProjectedVolume  `yaml:"projected"`
	Other     map[string]yaml.Node `yaml:",inline"`
}

var k8sVolumeSources = []string{"hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo",
	"secret", "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs",
	"flocker", "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
	"photonPersistentDisk", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image"}

// k8sProjectedVolume is a ProjectedVolumeSource with its VolumeProjection
// and ServiceAccountTokenProjection, every field of the reference.
type k8sProjectedVolume struct {
	Sources []struct {
		Secret              yaml.Node `yaml:"secret"`
		DownwardAPI         yaml.Node `yaml:"downwardAPI"`
		ConfigMap           yaml.Node `yaml:"configMap"`
		ClusterTrustBundle  yaml.Node `yaml:"clusterTrustBundle"`
		PodCertificate      yaml.Node `yaml:"podCertificate"`
		ServiceAccountToken *struct {
			Audience          string `yaml:"audience"`
			ExpirationSeconds *int64 `yaml:"expirationSeconds"`
			Path              string `yaml:"path"`
		} `yaml:"serviceAccountToken"`
	} `yaml:"sources"`
	DefaultMode *int32 `yaml:"defaultMode"`
}

// TestFederationDocProjectedVolume decodes the doc's projected-volume YAML
// strictly against the Kubernetes field lists and checks what the API
// server would (a relative path, expirationSeconds of at least 600 s) and
// that the token is for the audience the e2e issuers are configured with.
func TestFederationDocProjectedVolume(t *testing.T) {
	doc := readDoc(t, "docs/FEDERATION.md")
	var block string
	for _, b := range fenced(doc, "yaml") {
		if strings.HasPrefix(b, "volumes:") {
			block = b
		}
	}
	if block == "" {
		t.Fatal("docs/FEDERATION.md: no yaml block starting with volumes:")
	}
	var pod struct {
		Volumes []k8sVolume `yaml:"volumes"`
	}
	dec := yaml.NewDecoder(strings.NewReader(block))
	dec.KnownFields(true)
	if err := dec.Decode(&pod); err != nil {
		t.Fatalf("projected volume: %v", err)
	}
	if len(pod.Volumes) != 1 || pod.Volumes[0].Name == "" || pod.Volumes[0].Projected == nil {
		t.Fatalf("want one named projected volume: %+v", pod.Volumes)
	}
	for k := range pod.Volumes[0].Other {
		if !slices.Contains(k8sVolumeSources, k) {
			t.Errorf("volume field %q is not in the Kubernetes Volume reference", k)
		}
	}
	srcs := pod.Volumes[0].Projected.Sources
	if len(srcs) != 1 || srcs[0].ServiceAccountToken == nil {
		t.Fatalf("want one serviceAccountToken source: %+v", srcs)
	}
	sat := srcs[0].ServiceAccountToken
	switch {
	case sat.Path == "" || strings.HasPrefix(sat.Path, "/") || strings.Contains(sat.Path, ".."):
		t.Errorf("path %q: the API server wants a relative path without '..'", sat.Path)
	case sat.ExpirationSeconds != nil && *sat.ExpirationSeconds < 600:
		t.Errorf("expirationSeconds %d: the API server wants at least 600", *sat.ExpirationSeconds)
	case sat.Audience != "harbor-registry":
		t.Errorf("audience %q: the issuers of this doc and its tests accept harbor-registry", sat.Audience)
	}
}
