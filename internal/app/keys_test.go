package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/token"
)

// TestReplicaSaysItsKey: each replica says which kid it signs with, in
// authserver_signing_key_info{kid} and in /readyz, and both follow a
// reload; the JWKS has a max-age of token.jwks_max_age (60 s) and an ETag
// that answers 304 until the key set changes.
func TestReplicaSaysItsKey(t *testing.T) {
	cfg := apptest.Config(t)
	a := apptest.New(t, cfg, app.Options{})
	get := func(path string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return serveFrom(a, req, "127.0.0.1:1")
	}
	says := func(kid string) {
		t.Helper()
		var ready map[string]string
		if rec := get("/readyz"); rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &ready) != nil || ready["signing_kid"] != kid {
			t.Fatalf("/readyz: %d %s, want signing_kid %s", rec.Code, rec.Body, kid)
		}
		if m := get("/metrics").Body.String(); !strings.Contains(m, `authserver_signing_key_info{kid="`+kid+`"} 1`) ||
			strings.Count(m, "authserver_signing_key_info{") != 1 {
			t.Fatalf("metrics do not say kid %s alone:\n%s", kid, grepLines(m, "signing_key"))
		}
	}
	oldKID := a.Keys.Issuer().Signer().KID()
	says(oldKID)

	jwks := get("/.well-known/jwks.json")
	etag := jwks.Header().Get("ETag")
	if jwks.Code != http.StatusOK || jwks.Header().Get("Cache-Control") != "public, max-age=60" || etag == "" {
		t.Fatalf("JWKS: %d, Cache-Control %q, ETag %q", jwks.Code, jwks.Header().Get("Cache-Control"), etag)
	}
	if rec := get("/.well-known/jwks.json", "If-None-Match", etag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("JWKS with its ETag: %d %q, want 304 and no body", rec.Code, rec.Body)
	}

	// A new key in place of the old, and a reload (SIGHUP).
	next := t.TempDir()
	if _, err := token.EnsureKeyPair(filepath.Join(next, "token.key"), filepath.Join(next, "token.crt")); err != nil {
		t.Fatal(err)
	}
	for _, f := range [][2]string{{"token.key", cfg.Token.Key}, {"token.crt", cfg.Token.Certificate}} {
		b, err := os.ReadFile(filepath.Join(next, f[0]))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a.Reload(t.Context())
	newKID := a.Keys.Issuer().Signer().KID()
	if newKID == oldKID {
		t.Fatal("the reload kept the old key")
	}
	says(newKID)
	if rec := get("/.well-known/jwks.json", "If-None-Match", etag); rec.Code != http.StatusOK || rec.Header().Get("ETag") == etag {
		t.Fatalf("JWKS after a new key, with the old ETag: %d, ETag %q; want 200 and a new ETag", rec.Code, rec.Header().Get("ETag"))
	}
}

// grepLines is the lines of text holding substr.
func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
