package app_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/config"
)

// TestAPIOriginIsPublicURL: the API's own origin is server.public_url, or
// without one the default derived from server.addr (config.RealmBase): a
// change sent with that Origin is served, one from another origin is 403.
func TestAPIOriginIsPublicURL(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*config.Config)
		own    string
		others []string
	}{
		{name: "public_url", mod: func(c *config.Config) { c.Server.PublicURL = "https://registry-auth.example.org/auth" },
			own: "https://registry-auth.example.org", others: []string{"https://evil.example", "http://registry-auth.example.org"}},
		{name: "default from addr", mod: func(c *config.Config) { c.Server.PublicURL, c.Server.Addr = "", "0.0.0.0:5001" },
			own: "http://localhost:5001", others: []string{"https://evil.example", "http://localhost:5002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAPIServer(t, tt.mod)
			post := func(name, origin string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/api/v2.0/projects", strings.NewReader(`{"project_name":"`+name+`"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Origin", origin)
				req.SetBasicAuth("root", apiPassword("root"))
				rec := httptest.NewRecorder()
				s.app.Handler.ServeHTTP(rec, req)
				return rec
			}
			if rec := post("own", tt.own); rec.Code != http.StatusCreated {
				t.Fatalf("Origin %s: status %d %s, want 201", tt.own, rec.Code, rec.Body)
			}
			for _, o := range tt.others {
				if rec := post("other", o); rec.Code != http.StatusForbidden {
					t.Fatalf("Origin %s: status %d %s, want 403", o, rec.Code, rec.Body)
				}
			}
		})
	}
}
