package app_test

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// apiServer is the whole stack of cfg with sysadmin "root" and user "dev"
// created through app.NewAdmin, as the CLI does, each with the password
// apiPassword(name).
type apiServer struct {
	t   *testing.T
	app *app.App
}

func newAPIServer(t *testing.T, mod func(*config.Config)) *apiServer {
	t.Helper()
	cfg := apptest.Config(t)
	if mod != nil {
		mod(&cfg)
	}
	a := apptest.New(t, cfg, app.Options{Version: "v9.9.9"})
	adm, err := app.NewAdmin(cfg, a.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli := admin.Actor{Name: "cli", Admin: true}
	for _, u := range []admin.NewUser{{Name: "root", Password: apiPassword("root"), Admin: true}, {Name: "dev", Password: apiPassword("dev")}} {
		if _, err := adm.CreateUser(t.Context(), cli, u); err != nil {
			t.Fatal(err)
		}
	}
	return &apiServer{t: t, app: a}
}

// apiPassword is the password of an apiServer user.
func apiPassword(user string) string { return "Pw-" + user + "-secret-1" }

// call serves method path (with a JSON body when not empty) as user/pass
// ("": anonymous) from 192.0.2.1 and returns the status and the body.
func (s *apiServer) call(method, path, user, pass, body string) (int, []byte) {
	s.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	s.app.Handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// TestAPIMounted: app.New mounts the REST API at /api when api.enabled is
// on (the default), with what the config and Options say, and not at all
// when it is off.
func TestAPIMounted(t *testing.T) {
	tests := []struct {
		name     string
		mod      func(*config.Config)
		status   int
		creation string
	}{
		{name: "default", status: http.StatusOK, creation: "everyone"},
		{name: "adminonly", mod: func(c *config.Config) { c.API.ProjectCreation = config.ProjectCreationAdminOnly },
			status: http.StatusOK, creation: "adminonly"},
		{name: "disabled", mod: func(c *config.Config) { c.API.Enabled = false }, status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAPIServer(t, tt.mod)
			if (s.app.Server.API != nil) != (tt.status == http.StatusOK) {
				t.Fatalf("server.Options.API set: %v", s.app.Server.API != nil)
			}
			status, body := s.call("GET", "/api/v2.0/systeminfo", "", "", "")
			if status != tt.status {
				t.Fatalf("systeminfo: status %d, want %d: %s", status, tt.status, body)
			}
			if status != http.StatusOK {
				return
			}
			var info map[string]any
			if err := json.Unmarshal(body, &info); err != nil {
				t.Fatal(err)
			}
			if info["auth_mode"] != "db_auth" || info["harbor_version"] != "authserver v9.9.9" ||
				info["registry_url"] != "http://auth.test" || info["project_creation_restriction"] != tt.creation {
				t.Fatalf("systeminfo %v", info)
			}
		})
	}
}

// TestAPIProjectCreation: api.project_creation reaches internal/admin
// through app.NewAdmin: adminonly refuses a plain user, everyone lets them
// create (and become projectAdmin of) a project; the change is an admin
// audit record with the API caller's address.
func TestAPIProjectCreation(t *testing.T) {
	for _, tt := range []struct {
		name    string
		setting string
		dev     int
	}{
		{name: "everyone", setting: config.ProjectCreationEveryone, dev: http.StatusCreated},
		{name: "adminonly", setting: config.ProjectCreationAdminOnly, dev: http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newAPIServer(t, func(c *config.Config) { c.API.ProjectCreation = tt.setting })
			if status, body := s.call("POST", "/api/v2.0/projects", "dev", apiPassword("dev"), `{"project_name":"devs"}`); status != tt.dev {
				t.Fatalf("dev creates a project: status %d, want %d: %s", status, tt.dev, body)
			}
			if status, body := s.call("POST", "/api/v2.0/projects", "root", apiPassword("root"), `{"project_name":"roots"}`); status != http.StatusCreated {
				t.Fatalf("root creates a project: status %d: %s", status, body)
			}
			recs, err := s.app.Store.ListAudit(t.Context(), store.AuditFilter{Kind: store.AuditKindAdmin, Subject: "root", Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Action != "project.create" || recs[0].ClientIP != "192.0.2.1" {
				t.Fatalf("admin audit of root: %+v", recs)
			}
		})
	}
}

// TestAPISharesTokenEndpointCredentials: the API checks Basic credentials
// with the token endpoint's authenticator and counts failures in the same
// throttle, so guessing through /api locks the token endpoint too.
func TestAPISharesTokenEndpointCredentials(t *testing.T) {
	s := newAPIServer(t, func(c *config.Config) {
		c.Throttle = config.Throttle{Enabled: true, UserIPFailures: 3, IPFailures: 100, BaseDelay: config.Duration(time.Minute),
			MaxDelay: config.Duration(time.Hour), Forget: config.Duration(time.Hour), MaxEntries: 1000, IPv4Prefix: 32, IPv6Prefix: 64}
	})
	if status, body := s.call("GET", "/api/v2.0/users/current", "dev", apiPassword("dev"), ""); status != http.StatusOK {
		t.Fatalf("dev with the right password: status %d: %s", status, body)
	}
	for i := range 3 {
		if status, _ := s.call("GET", "/api/v2.0/users/current", "dev", "wrong", ""); status != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d, want 401", i, status)
		}
	}
	if status, body := s.call("GET", "/service/token?service="+s.app.Config.Token.Service, "dev", apiPassword("dev"), ""); status != http.StatusTooManyRequests {
		t.Fatalf("token endpoint after 3 failures through /api: status %d, want 429: %s", status, body)
	}
}

// TestHarborPasswordThroughStack: a user imported with Harbor's PBKDF2
// hash logs in at the token endpoint and at the API of the same stack, and
// the first login replaces the hash with bcrypt.
func TestHarborPasswordThroughStack(t *testing.T) {
	s := newAPIServer(t, nil)
	key, err := pbkdf2.Key(sha256.New, "Harbor12345", []byte("somesalt"), 4096, 16)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := secret.HarborPasswordHash("sha256", "somesalt", hex.EncodeToString(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.app.Store.CreateUser(t.Context(), &store.User{Name: "imported", PasswordHash: hash, Source: store.SourceLocal}); err != nil {
		t.Fatal(err)
	}
	if status, body := s.call("GET", "/service/token?service="+s.app.Config.Token.Service, "imported", "Harbor12345", ""); status != http.StatusOK {
		t.Fatalf("token with the Harbor password: status %d: %s", status, body)
	}
	u, err := s.app.Store.GetUser(t.Context(), "imported")
	if err != nil {
		t.Fatal(err)
	}
	if kind := secret.HashKind(u.PasswordHash); kind != "bcrypt" {
		t.Fatalf("hash after the first login: %s, want bcrypt", kind)
	}
	if status, body := s.call("GET", "/api/v2.0/users/current", "imported", "Harbor12345", ""); status != http.StatusOK {
		t.Fatalf("API with the same password after rehashing: status %d: %s", status, body)
	}
}
