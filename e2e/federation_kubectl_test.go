//go:build integration

package e2e

import (
	"bytes"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/authserver/authserver/internal/oidctest"
)

// TestFederationKubectl runs the two kubectl commands of the doc's "A
// Kubernetes cluster" section, as written, against a loopback stand-in of
// the API server (kubeAPI; there is no cluster here), then the jwks_file
// path with the authserver process: the JWKS `kubectl get --raw` wrote is
// the cluster issuer's jwks_file of the doc's Configuration block, and
// crane pulls as the doc's builder robot with a service-account token. The
// cluster rotates its key, kubectl rewrites the file and a real SIGHUP
// retires the old key at once; a kubectl that fails (an empty file) before
// a SIGHUP leaves the keys as they were.
func TestFederationKubectl(t *testing.T) {
	t.Parallel()
	doc := readDoc(t, "docs/FEDERATION.md")
	bind, get, docFile := kubectlLines(t, doc)
	tool(t, "kubectl") // the doc's lines name it; bash finds it on PATH
	bash := tool(t, "bash")
	dir := t.TempDir()
	// The cluster's service-account signing keys; kubeAPI publishes them,
	// the issuer's own HTTP endpoints are never asked.
	cluster := oidctest.New(t)
	api, kubeconfig := startKubeAPI(t, dir, cluster.JWKS)
	kubectl := func(line string) result {
		return runIn(dir, []string{"HOME=" + dir, "KUBECONFIG=" + kubeconfig}, "", bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", line)
	}

	// The discovery binding: kubectl POSTs exactly the binding the doc promises.
	r := kubectl(bind)
	mustOK(t, r)
	if !strings.Contains(r.stdout, "clusterrolebinding.rbac.authorization.k8s.io/service-account-issuer-discovery-unauthenticated created") {
		t.Errorf("kubectl create clusterrolebinding printed %q", r.stdout)
	}
	var want clusterRoleBinding
	want.APIVersion, want.Kind = "rbac.authorization.k8s.io/v1", "ClusterRoleBinding"
	want.Metadata.Name = "service-account-issuer-discovery-unauthenticated"
	want.RoleRef = rbacRoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:service-account-issuer-discovery"}
	want.Subjects = []rbacSubject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "system:unauthenticated"}}
	if got := api.Bindings(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("the API server got the bindings %+v, want exactly %+v", got, want)
	}

	// The keys into a file, the doc's line with only the path changed.
	file := filepath.Join(dir, "cluster-jwks.json")
	fetch := strings.Replace(get, docFile, file, 1)
	fetchKeys := func() {
		t.Helper()
		mustOK(t, kubectl(fetch))
		if got := bytes.TrimSpace(readFile(t, file)); !bytes.Equal(got, cluster.JWKS()) {
			t.Fatalf("kubectl wrote %s, want the cluster's JWKS %s", got, cluster.JWKS())
		}
	}
	fetchKeys()

	// authserver with the doc's configuration, jwks_file uncommented: the
	// issuer URL (kubernetes.default.svc) is never reachable from here.
	cfg := string(sectionYAML(t, doc, "Configuration (infrastructure)"))
	commented := "# jwks_file: " + docFile
	if !strings.Contains(cfg, commented) {
		t.Fatalf("the Configuration block has no %q, the file kubectl writes", commented)
	}
	cfg = strings.Replace(cfg, commented, "jwks_file: "+file, 1)
	o := newOpsServer(t, opsOptions{extra: cfg})
	o.start(t)
	reg := startRegistry(t, flavours[0], o.authServer)
	o.cli(t, "project", "create", "team")
	mustOK(t, newSession(t, reg, "admin", o.adminPass).cranePush(t, "team/app:base", "the image pods pull"))
	o.cli(t, clusterRobot(t, doc)...)
	user := providerRobot(t, doc)

	iss := clusterIssuerURL(t, cfg)
	saToken := func() string {
		c := oidctest.Kubernetes("ci", "builder")
		c["iss"] = iss
		return cluster.Mint("harbor-registry", c)
	}
	pull := func(jwt string) result { return newSession(t, reg, user, jwt).cranePull("team/app:base") }
	tokenStatus := func(jwt string) int {
		return o.getToken(t, user, jwt, "service=harbor-registry&scope=repository:team/app:pull").status
	}
	old := saToken()
	mustOK(t, pull(old))

	// The cluster rotates its key and drops the old one; the doc's kubectl
	// line rewrites the file, SIGHUP: the old key stops at once, also for
	// the JWT already verified with it; the new one logs in.
	cluster.Rotate("RS256")
	cluster.Retire()
	fetchKeys()
	o.signal(t, syscall.SIGHUP)
	o.waitLog(t, "reload: jwks_file keys loaded", 1)
	if s := tokenStatus(old); s != http.StatusUnauthorized {
		t.Errorf("a JWT of the key taken out of jwks_file after SIGHUP: %d, want 401", s)
	}
	mustOK(t, pull(saToken()))

	// The API server is unavailable: kubectl fails and the redirect leaves
	// an empty file. SIGHUP refuses it and keeps the keys.
	api.down.Store(true)
	if r := kubectl(fetch); r.err == nil {
		t.Fatalf("kubectl get --raw with the API server unavailable succeeded:\n%s", r)
	}
	if b := readFile(t, file); len(b) != 0 {
		t.Fatalf("after a failed kubectl get --raw the file holds %q, want it empty", b)
	}
	o.signal(t, syscall.SIGHUP)
	o.waitLog(t, "reload: jwks_file refused; keeping the old keys", 1)
	mustOK(t, pull(saToken()))
	// A key no file has held is still refused (401, or 503 as the re-read
	// that an unknown kid asks for fails).
	if s := tokenStatus(old); s != http.StatusUnauthorized && s != http.StatusServiceUnavailable {
		t.Errorf("the removed key after a refused reload: %d, want 401 or 503", s)
	}
}

// kubectlLines are the two kubectl commands of the doc's Kubernetes
// section (continuations joined): the discovery binding, the JWKS fetch,
// and the file that fetch writes.
func kubectlLines(t *testing.T, doc string) (bind, get, file string) {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n## A Kubernetes cluster\n")
	if !ok {
		t.Fatal("docs/FEDERATION.md has no section \"A Kubernetes cluster\"")
	}
	rest, _, _ = strings.Cut(rest, "\n## ")
	var lines []string
	for _, block := range fenced(rest, "sh") {
		for _, l := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
			if strings.HasPrefix(l, "kubectl ") {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "kubectl create clusterrolebinding ") {
		t.Fatalf("section \"A Kubernetes cluster\": want `kubectl create clusterrolebinding` then `kubectl get --raw`, got %q", lines)
	}
	m := regexp.MustCompile(`^kubectl get --raw /openid/v1/jwks > (\S+)$`).FindStringSubmatch(lines[1])
	if m == nil {
		t.Fatalf("not `kubectl get --raw /openid/v1/jwks > FILE`: %q", lines[1])
	}
	return lines[0], lines[1], m[1]
}

// clusterRobot is the doc's `authserver robot create` for the cluster issuer.
func clusterRobot(t *testing.T, doc string) []string {
	t.Helper()
	for _, args := range docCommands(t, doc, "authserver robot create ") {
		if i := slices.Index(args, "--federate"); i >= 0 && i+1 < len(args) && args[i+1] == "cluster" {
			return args
		}
	}
	t.Fatal("docs/FEDERATION.md: no `authserver robot create ... --federate cluster`")
	return nil
}

// providerRobot is the --robot of the kubelet provider's args: the user
// a pod's token logs in as.
func providerRobot(t *testing.T, doc string) string {
	t.Helper()
	args := kubeletProviderArgs(t, doc)
	if i := slices.Index(args, "--robot"); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	t.Fatalf("the kubelet provider's args %q have no --robot", args)
	return ""
}

// clusterIssuerURL is the url of the issuer named cluster in cfg.
func clusterIssuerURL(t *testing.T, cfg string) string {
	t.Helper()
	var c struct {
		Federation struct {
			Issuers []struct{ Name, URL string }
		}
	}
	if err := yaml.Unmarshal([]byte(cfg), &c); err != nil {
		t.Fatal(err)
	}
	for _, is := range c.Federation.Issuers {
		if is.Name == "cluster" {
			return is.URL
		}
	}
	t.Fatal("the Configuration block has no issuer named cluster")
	return ""
}
