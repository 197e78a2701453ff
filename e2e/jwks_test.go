//go:build integration

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRegistryJWKS runs registry v3.1.2 trusting only auth.token.jwks (no
// rootcertbundle), as `registry-config` prints it for token.x5c: false.
// Clients push and pull; a token from the same key with x5c in its header
// (token.x5c: true) is refused by the same registry, which verifies x5c by
// its chain and has none to verify it with. Registry 2.8 has no jwks
// option, so this runs on v3 only.
func TestRegistryJWKS(t *testing.T) {
	t.Parallel()
	a := startAuthServer(t, authOptions{token: "  x5c: false\n"})
	block := a.cli(t, "registry-config")
	wantJWKS := "jwks: " + filepath.Join(a.dir, "keys", "jwks.json")
	if !strings.Contains(block, wantJWKS) || strings.Contains(block, "rootcertbundle") {
		t.Fatalf("registry-config with x5c: false should print %q and no rootcertbundle:\n%s", wantJWKS, block)
	}
	// registry-config --jwks prints the same keys (plus previous ones, if any).
	if got, want := jwksKIDs(t, []byte(a.cli(t, "registry-config", "--jwks"))), jwksKIDs(t, readFile(t, filepath.Join(a.dir, "keys", "jwks.json"))); !slices.Equal(got, want) {
		t.Fatalf("registry-config --jwks lists kids %v, keygen's jwks.json %v", got, want)
	}
	reg := startRegistryWithAuth(t, flavours[0], a, block)
	a.addUser(t, "dev", "Dev-pass-1")
	a.cli(t, "project", "create", "team")
	a.cli(t, "member", "add", "team", "--user", "dev", "--role", "developer")

	dev := newSession(t, reg, "dev", "Dev-pass-1")
	mustOK(t, dev.cranePush(t, "team/app:1", "pushed to a JWKS-only registry"))
	mustOK(t, dev.cranePull("team/app:1"))
	mustOK(t, dev.skopeo("inspect", "--tls-verify=false", "--creds", "dev:Dev-pass-1", "docker://"+reg.ref("team/app:1")))

	// The same key, but x5c in the header: the same registry refuses.
	withX5C := startAuthServer(t, authOptions{keysFrom: filepath.Join(a.dir, "keys")})
	manifest := reg.url + "/v2/team/app/manifests/1"
	scope := "service=harbor-registry&scope=repository:team/app:pull"
	for _, tc := range []struct {
		name string
		auth *authServer
		want int
	}{
		{"x5c false", a, http.StatusOK},
		{"x5c true", withX5C, http.StatusUnauthorized},
	} {
		tok := wantToken(t, tc.auth.getToken(t, "admin", tc.auth.adminPass, scope))
		if hasX5C := jwtHeaderHas(t, tok, "x5c"); hasX5C != (tc.auth == withX5C) {
			t.Fatalf("%s: token header has x5c = %v", tc.name, hasX5C)
		}
		req, _ := http.NewRequest(http.MethodHead, manifest, nil)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: HEAD %s = %s, want %d", tc.name, manifest, resp.Status, tc.want)
		}
	}
}

// jwtHeaderHas reports whether the token's JOSE header has the field.
func jwtHeaderHas(t *testing.T, tok, field string) bool {
	t.Helper()
	seg, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("JWT header %q: %v", seg, err)
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("JWT header %s: %v", raw, err)
	}
	_, ok := h[field]
	return ok
}
