package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// api sends a JSON body (nil: none) to the REST API as user/pass and
// returns the reply.
func (f *fixture) api(method, path, user, pass string, body any) reply {
	f.t.Helper()
	var data []byte
	if body != nil {
		var err error
		data, err = json.Marshal(body)
		f.must(err)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(data))
	f.must(err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(user, pass)
	return f.do(req)
}

// userID is the API's user_id of name.
func (f *fixture) userID(name string) string {
	f.t.Helper()
	u, err := f.st.GetUser(f.t.Context(), name)
	f.must(err)
	return fmt.Sprint(u.ID)
}

// TestRevocationThroughAPI, the whole stack: a user changing their own
// password (PUT /users/{id}/password with old_password) ends their docker
// logins (refresh tokens) and keeps their personal access tokens; a
// sysadmin's reset of the same user ends both.
func TestRevocationThroughAPI(t *testing.T) {
	f := newFixture(t)
	pat := f.addPAT("dev", "ci", time.Time{})
	path := "/api/v2.0/users/" + f.userID("dev") + "/password"
	token := func(rt string) int {
		return f.post("/service/token", refreshForm(rt, nil), "").status
	}
	patLogin := func() int { return f.get("GET", "/service/token", scopeQuery(), "dev", pat).status }

	rt := f.login("dev")
	if r := f.api("PUT", path, "dev", f.users["dev"], map[string]string{"old_password": f.users["dev"], "new_password": "Dev-secret-2"}); r.status != 200 {
		t.Fatalf("own password change: %d %v", r.status, r.body)
	}
	f.users["dev"] = "Dev-secret-2"
	if s := token(rt); s != 401 {
		t.Errorf("refresh token after one's own password change: %d, want 401", s)
	}
	if s := patLogin(); s != 200 {
		t.Errorf("PAT after one's own password change: %d, want 200 (kept)", s)
	}

	rt = f.login("dev")
	if r := f.api("PUT", path, "root", f.users["root"], map[string]string{"new_password": "Reset-secret-3"}); r.status != 200 {
		t.Fatalf("sysadmin's reset: %d %v", r.status, r.body)
	}
	if s := token(rt); s != 401 {
		t.Errorf("refresh token after a sysadmin's reset: %d, want 401", s)
	}
	if s := patLogin(); s != 401 {
		t.Errorf("PAT after a sysadmin's reset: %d, want 401 (revoked)", s)
	}
	if r := f.post("/service/token", url.Values{"grant_type": {"password"}, "service": {"test-registry"}, "username": {"dev"},
		"password": {"Reset-secret-3"}}, ""); r.status != 200 {
		t.Errorf("the new password: %d %v", r.status, r.body)
	}
}

func ptr[T any](v T) *T { return &v }

// TestPasswordMinLength: passwords.min_length reaches internal/admin (the
// API refuses a password under it), and config's default is admin's.
func TestPasswordMinLength(t *testing.T) {
	if got := config.Defaults().Passwords.MinLength; got != admin.DefaultMinPasswordLength {
		t.Fatalf("config's default min_length %d, admin's %d", got, admin.DefaultMinPasswordLength)
	}
	s := newAPIServer(t, func(c *config.Config) { c.Passwords.MinLength = 14 })
	for _, tt := range []struct {
		pw     string
		status int
	}{{"Short-pass-1", http.StatusBadRequest}, {"Longer-pass-12", http.StatusCreated}} {
		status, body := s.call("POST", "/api/v2.0/users", "root", apiPassword("root"), `{"username":"u`+strconv.Itoa(tt.status)+`","password":"`+tt.pw+`"}`)
		if status != tt.status {
			t.Errorf("user with %q under min_length 14: %d %s, want %d", tt.pw, status, body, tt.status)
		}
	}
}

// TestOldPasswordThroughGate, the whole stack: the old password of a
// password change goes through the login gate. A wrong one is 403, counts
// against the throttle (the sixth try is 429 with Retry-After, the right
// password included) and is one audit record (endpoint api, action
// user.password); a personal access token given as the old password is
// not the password.
func TestOldPasswordThroughGate(t *testing.T) {
	f, a := newFixtureWith(t, func(c *config.Config, _ *app.Options) {
		c.Throttle = config.Defaults().Throttle
		c.Audit.Enabled = true
	})
	pat := f.addPAT("dev", "ci", time.Time{})
	path := "/api/v2.0/users/" + f.userID("dev") + "/password"
	change := func(old string) reply {
		return f.api("PUT", path, "dev", f.users["dev"], map[string]string{"old_password": old, "new_password": "Dev-secret-9"})
	}
	if r := change(pat); r.status != 403 {
		t.Fatalf("a PAT as the old password: %d %v, want 403", r.status, r.body)
	}
	for i := range 4 {
		if r := change(fmt.Sprintf("Wrong-pass-%d", i)); r.status != 403 {
			t.Fatalf("wrong old password %d: %d %v, want 403", i, r.status, r.body)
		}
	}
	r := change(f.users["dev"])
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("after 5 wrong old passwords: %d %v, want 429 with Retry-After", r.status, r.body)
	}
	ctx := t.Context()
	a.Audit.Flush(ctx)
	recs, err := a.Store.ListAudit(ctx, store.AuditFilter{Subject: "dev", Limit: 100})
	f.must(err)
	got := map[string]int{}
	for _, rec := range recs {
		got[rec.Endpoint+" "+rec.Action+" "+rec.Result]++
	}
	if got["api user.password unauthorized"] != 5 || got["api user.password throttled"] != 1 {
		t.Fatalf("audit records %v, want 5 refused and 1 throttled user.password at the api", got)
	}
	if u, _ := a.Store.GetUser(ctx, "dev"); !secret.VerifyPassword(u.PasswordHash, f.users["dev"]) {
		t.Fatal("the password changed")
	}
}
