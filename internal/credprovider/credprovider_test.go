package credprovider

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/oidctest"
)

// TestAnswer feeds Answer a kubelet request, as the kubelet sends it
// (JSON on stdin), and checks the response as it is printed.
func TestAnswer(t *testing.T) {
	is := oidctest.New(t)
	sat := is.Mint("harbor-registry", oidctest.Kubernetes("ci", "builder"))
	request := func(image string, annotations map[string]string) string {
		b, _ := json.Marshal(map[string]any{"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest",
			"image": image, "serviceAccountToken": sat, "serviceAccountAnnotations": annotations})
		return string(b)
	}
	tests := []struct {
		name     string
		robot    string
		stdin    string
		wantHost string
		wantUser string
		wantErr  string
	}{
		{name: "robot from flag", robot: "robot$builder", stdin: request("localhost:5000/team/app:1", nil),
			wantHost: "localhost:5000", wantUser: "robot$builder"},
		{name: "robot from the service account's annotation", robot: "robot$builder",
			stdin:    request("registry.example.org/team/app@sha256:abc", map[string]string{RobotAnnotation: "robot$team+puller"}),
			wantHost: "registry.example.org", wantUser: "robot$team+puller"},
		{name: "no robot", stdin: request("localhost:5000/team/app:1", nil), wantErr: "no robot"},
		{name: "no token", robot: "r",
			stdin:   `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"localhost:5000/a"}`,
			wantErr: "serviceAccountTokenAudience"},
		{name: "wrong kind", robot: "r", stdin: `{"apiVersion":"v1","kind":"Pod"}`, wantErr: "CredentialProviderRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, err := Answer(strings.NewReader(tt.stdin), tt.robot, time.Now())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(answer)
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				APIVersion, Kind, CacheKeyType, CacheDuration string
				Auth                                          map[string]struct{ Username, Password string }
			}
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("%v: %s", err, string(out))
			}
			if resp.APIVersion != "credentialprovider.kubelet.k8s.io/v1" || resp.Kind != "CredentialProviderResponse" || resp.CacheKeyType != "Image" {
				t.Fatalf("response %s", string(out))
			}
			if d, err := time.ParseDuration(resp.CacheDuration); err != nil || d <= 0 || d > 10*time.Minute {
				t.Fatalf("cacheDuration %q: want the token's remaining life", resp.CacheDuration)
			}
			got, ok := resp.Auth[tt.wantHost]
			if !ok || len(resp.Auth) != 1 || got.Username != tt.wantUser || got.Password != sat {
				t.Fatalf("auth %+v, want %s: %s with the token", resp.Auth, tt.wantHost, tt.wantUser)
			}
		})
	}
}
