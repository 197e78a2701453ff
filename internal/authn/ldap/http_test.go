//go:build integration

package ldap_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
	"github.com/authserver/authserver/internal/token"
)

// TestLDAPThroughServer checks the HTTP answers the token endpoint gives
// LDAP users: 200, 401 for a wrong password, 503 while the directory is
// down (local users still 200), 200 again once it is back.
func TestLDAPThroughServer(t *testing.T) {
	s := testenv.NewSlapd(t)
	st := sqlitetest.Open(t)
	authntest.AddLocal(t, st, "admin", "admin-local-pw", true)
	authntest.MustMember(t, st, "team", store.MemberGroup, "devs", "cn=devs,ou=groups,ou=logins,"+testenv.LDAPSuffix, store.RoleDeveloper)
	l := newLDAP(t, ldapConfig(s, "logins", withTimeout(time.Second)))

	dir := t.TempDir()
	keyPath, certPath, _, err := token.GenerateKeyPair(dir, "ES256", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(keyPath, certPath, "thumbprint")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Options{
		Gate:       login.New(login.Options{Passwords: authntest.NewChain(t, st, l)}),
		Authorizer: authz.New(st),
		Issuer:     token.NewIssuer(signer, "test-issuer", "test-registry", 30*time.Minute),
		Realm:      "http://auth.test/service/token",
	}))
	t.Cleanup(srv.Close)
	get := func(user, pass string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/service/token?service=test-registry&scope=repository:team/app:push", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	steps := []struct {
		name       string
		user, pass string
		want       int
		before     func()
	}{
		{name: "ldap user", user: "alice", pass: "alice-pw", want: http.StatusOK},
		{name: "wrong ldap password", user: "alice", pass: "wrong", want: http.StatusUnauthorized},
		{name: "ldap down", user: "alice", pass: "alice-pw", want: http.StatusServiceUnavailable, before: s.Stop},
		{name: "unknown user while ldap is down", user: "nobody", pass: "x-pw", want: http.StatusServiceUnavailable},
		{name: "local admin while ldap is down", user: "admin", pass: "admin-local-pw", want: http.StatusOK},
		{name: "ldap back", user: "alice", pass: "alice-pw", want: http.StatusOK, before: func() {
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, step := range steps { // in order: they share the slapd
		if step.before != nil {
			step.before()
		}
		if got := get(step.user, step.pass); got != step.want {
			t.Errorf("%s: status %d, want %d", step.name, got, step.want)
		}
	}
}
