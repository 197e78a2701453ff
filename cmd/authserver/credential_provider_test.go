package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/oidctest"
)

// TestCredentialProvider feeds the command a kubelet request, as the
// kubelet does (JSON on stdin), and checks the response it prints.
func TestCredentialProvider(t *testing.T) {
	is := oidctest.New(t)
	sat := is.Mint("harbor-registry", oidctest.Kubernetes("ci", "builder"))
	request := func(image string, annotations map[string]string) string {
		b, _ := json.Marshal(map[string]any{"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest",
			"image": image, "serviceAccountToken": sat, "serviceAccountAnnotations": annotations})
		return string(b)
	}
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantHost string
		wantUser string
		wantErr  string
	}{
		{name: "robot from flag", args: []string{"--robot", "robot$builder"}, stdin: request("localhost:5000/team/app:1", nil),
			wantHost: "localhost:5000", wantUser: "robot$builder"},
		{name: "robot from the service account's annotation", args: []string{"--robot", "robot$builder"},
			stdin:    request("registry.example.org/team/app@sha256:abc", map[string]string{RobotAnnotation: "robot$team+puller"}),
			wantHost: "registry.example.org", wantUser: "robot$team+puller"},
		{name: "no robot", stdin: request("localhost:5000/team/app:1", nil), wantErr: "no robot"},
		{name: "no token", args: []string{"--robot", "r"},
			stdin:   `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"localhost:5000/a"}`,
			wantErr: "serviceAccountTokenAudience"},
		{name: "wrong kind", args: []string{"--robot", "r"}, stdin: `{"apiVersion":"v1","kind":"Pod"}`, wantErr: "CredentialProviderRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			a := &app{stdin: strings.NewReader(tt.stdin), stdout: &out, stderr: &errOut}
			root := a.root()
			root.SetArgs(append([]string{"credential-provider"}, tt.args...))
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				APIVersion, Kind, CacheKeyType, CacheDuration string
				Auth                                          map[string]struct{ Username, Password string }
			}
			if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			if resp.APIVersion != "credentialprovider.kubelet.k8s.io/v1" || resp.Kind != "CredentialProviderResponse" || resp.CacheKeyType != "Image" {
				t.Fatalf("response %s", out.String())
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
