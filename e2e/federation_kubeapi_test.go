//go:build integration

package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// kubeAPI is a loopback stand-in for the Kubernetes API server that
// answers, over HTTPS and as the API server does on the wire, exactly the
// requests of the two kubectl commands of docs/FEDERATION.md:
//
//   - GET /version (unauthenticated; the kubectl dispatcher of this machine
//     image asks it to pick a kubectl build),
//   - GET /openid/v1/jwks (`kubectl get --raw`): the cluster's JWKS,
//     application/jwk-set+json,
//   - POST /apis/rbac.authorization.k8s.io/v1/clusterrolebindings (`kubectl
//     create clusterrolebinding`, which sends protobuf): recorded, answered
//     201 with the created object in JSON.
//
// Everything else is a 404 Status and fails the test: a kubectl that asks
// for more is noticed, not silently served. Requests must carry the
// kubeconfig's bearer token (401 Status otherwise); with down set every
// authenticated request is a 503 Status.
type kubeAPI struct {
	t     *testing.T
	srv   *httptest.Server
	token string
	jwks  func() []byte
	down  atomic.Bool

	mu       sync.Mutex
	bindings []clusterRoleBinding
}

// clusterRoleBinding is rbac.authorization.k8s.io/v1 ClusterRoleBinding,
// the fields kubectl create sets, in Kubernetes' JSON.
type clusterRoleBinding struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name              string `json:"name"`
		UID               string `json:"uid,omitempty"`
		ResourceVersion   string `json:"resourceVersion,omitempty"`
		CreationTimestamp string `json:"creationTimestamp,omitempty"`
	} `json:"metadata"`
	Subjects []rbacSubject `json:"subjects,omitempty"`
	RoleRef  rbacRoleRef   `json:"roleRef"`
}

type rbacSubject struct {
	Kind      string `json:"kind"`
	APIGroup  string `json:"apiGroup,omitempty"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type rbacRoleRef struct {
	APIGroup string `json:"apiGroup"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
}

// startKubeAPI starts the stand-in serving jwks() and writes a kubeconfig
// for it (its CA, a bearer token) into dir; it returns the kubeconfig path.
func startKubeAPI(t *testing.T, dir string, jwks func() []byte) (*kubeAPI, string) {
	t.Helper()
	k := &kubeAPI{t: t, token: rand.Text(), jwks: jwks}
	k.srv = httptest.NewTLSServer(http.HandlerFunc(k.serve))
	t.Cleanup(k.srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.srv.Certificate().Raw})
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster: {server: %q, certificate-authority-data: %s}
users:
  - name: admin
    user: {token: %q}
contexts:
  - name: test
    context: {cluster: test, user: admin}
current-context: test
`, k.srv.URL, base64.StdEncoding.EncodeToString(ca), k.token)
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return k, path
}

// Bindings are the ClusterRoleBindings created so far.
func (k *kubeAPI) Bindings() []clusterRoleBinding {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]clusterRoleBinding(nil), k.bindings...)
}

// kubeStatus writes a meta/v1 Status, as the API server answers errors.
func kubeStatus(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

func (k *kubeAPI) serve(w http.ResponseWriter, r *http.Request) {
	const bindings = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
	if r.Method == http.MethodGet && r.URL.Path == "/version" {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"major": "1", "minor": "34", "gitVersion": "v1.34.0",
			"gitTreeState": "clean", "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64"})
		return
	}
	switch {
	case r.Header.Get("Authorization") != "Bearer "+k.token:
		kubeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
	case k.down.Load():
		kubeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the server is currently unable to handle the request")
	case r.Method == http.MethodGet && r.URL.Path == "/openid/v1/jwks":
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(k.jwks())
	case r.Method == http.MethodPost && r.URL.Path == bindings:
		b, err := readBinding(r)
		if err != nil {
			k.t.Errorf("kube API stand-in: POST %s: %v", bindings, err)
			kubeStatus(w, http.StatusBadRequest, "BadRequest", err.Error())
			return
		}
		k.mu.Lock()
		k.bindings = append(k.bindings, b)
		k.mu.Unlock()
		b.Metadata.UID = "0b6b4c33-0000-4000-8000-000000000003"
		b.Metadata.ResourceVersion = "1"
		b.Metadata.CreationTimestamp = time.Now().UTC().Format(time.RFC3339)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(b)
	default:
		k.t.Errorf("kube API stand-in: kubectl asked %s %s, which the doc's commands should not need", r.Method, r.URL)
		kubeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
	}
}

// readBinding decodes a POSTed ClusterRoleBinding, in JSON or in the
// Kubernetes protobuf envelope (what kubectl sends).
func readBinding(r *http.Request) (clusterRoleBinding, error) {
	var b clusterRoleBinding
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return b, err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		return b, dec.Decode(&b)
	case "application/vnd.kubernetes.protobuf":
		return protoBinding(body)
	}
	return b, fmt.Errorf("content type %q", ct)
}

// protoBinding decodes the protobuf envelope ("k8s\x00" and a
// runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw) around a
// ClusterRoleBinding (1 metadata {1 name}, 2 subjects {1 kind, 2 apiGroup,
// 3 name, 4 namespace}, 3 roleRef {1 apiGroup, 2 kind, 3 name}); the field
// numbers are those of k8s.io/apimachinery runtime/generated.proto and
// k8s.io/api rbac/v1/generated.proto.
func protoBinding(body []byte) (clusterRoleBinding, error) {
	var b clusterRoleBinding
	env, ok := bytes.CutPrefix(body, []byte("k8s\x00"))
	if !ok {
		return b, errors.New("protobuf body without the k8s magic")
	}
	unknown, err := protoFields(env)
	if err != nil {
		return b, err
	}
	tm, err := protoFields(unknown.msg(1))
	if err != nil {
		return b, err
	}
	b.APIVersion, b.Kind = tm.str(1), tm.str(2)
	crb, err := protoFields(unknown.msg(2))
	if err != nil {
		return b, err
	}
	meta, err := protoFields(crb.msg(1))
	if err != nil {
		return b, err
	}
	b.Metadata.Name = meta.str(1)
	for _, raw := range crb[2] {
		s, err := protoFields(raw)
		if err != nil {
			return b, err
		}
		b.Subjects = append(b.Subjects, rbacSubject{Kind: s.str(1), APIGroup: s.str(2), Name: s.str(3), Namespace: s.str(4)})
	}
	ref, err := protoFields(crb.msg(3))
	if err != nil {
		return b, err
	}
	b.RoleRef = rbacRoleRef{APIGroup: ref.str(1), Kind: ref.str(2), Name: ref.str(3)}
	return b, nil
}

// protoMessage is the length-delimited fields of one protobuf message by
// number (other wire types are skipped: the fields read here are all
// strings and messages).
type protoMessage map[protowire.Number][][]byte

func protoFields(b []byte) (protoMessage, error) {
	m := protoMessage{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m[num] = append(m[num], v)
		b = b[n:]
	}
	return m, nil
}

// msg is the last occurrence of field num (protobuf's rule), nil if absent.
func (m protoMessage) msg(num protowire.Number) []byte {
	if v := m[num]; len(v) > 0 {
		return v[len(v)-1]
	}
	return nil
}

func (m protoMessage) str(num protowire.Number) string { return string(m.msg(num)) }
