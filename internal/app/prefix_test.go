package app_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
)

// TestPublicURLPath: with server.public_url "http://auth.test/auth" the
// realm is http://auth.test/auth/service/token and is served, behind a
// proxy that passes the path on; without the prefix (a proxy that strips
// it, a probe) the same endpoints answer; other paths under the prefix are
// not invented.
func TestPublicURLPath(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.Server.PublicURL = "http://auth.test/auth/"
	a := apptest.New(t, cfg, app.Options{})
	if a.Server.Realm != "http://auth.test/auth/service/token" {
		t.Fatalf("realm %q", a.Server.Realm)
	}
	for path, want := range map[string]int{
		"/auth/service/token": 200, "/service/token": 200, "/auth/healthz": 200, "/healthz": 200,
		"/auth/.well-known/jwks.json": 200, "/authx/service/token": 404, "/auth/nothing": 404,
	} {
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
	// The challenge of a refused login names the realm with its path.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/auth/service/token", nil)
	req.SetBasicAuth("nobody", "Wrong-pass-1")
	a.Handler.ServeHTTP(rec, req)
	if ch := rec.Header().Get("WWW-Authenticate"); !strings.Contains(ch, `realm="http://auth.test/auth/service/token"`) {
		t.Fatalf("challenge %q", ch)
	}
}
