//go:build integration

package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/testenv"
)

// TestLDAP runs authserver with an ldap: section against a real slapd
// (StartTLS with a CA made at test time) and the v3 registry: the directory
// group of an LDAP user is made developer of a project with one `member
// add` (the group is found in the directory and created), and the user
// pushes and pulls with crane using their directory password.
func TestLDAP(t *testing.T) {
	t.Parallel()
	s := testenv.Slapd(t)
	base := "ou=e2e," + testenv.LDAPSuffix
	extra := ldapSection(s, base, "  start_tls: true\n  ca_file: "+s.CAFile+"\n  cache_ttl: 1m\n")
	a := startAuthServer(t, authOptions{extraConfig: extra})
	reg := startRegistry(t, flavours[0], a)

	a.cli(t, "project", "create", "ldapteam")
	out := a.cli(t, "member", "add", "ldapteam", "--group", "pushers", "--role", "developer")
	if !strings.Contains(out, "group pushers created from directory group cn=pushers,ou=groups,"+base) {
		t.Fatalf("member add did not create the group from the directory:\n%s", out)
	}
	if r := a.tryCLI("eddie-pw\n", "ldap", "test", "--user", "eddie", "--password-stdin"); r.err != nil ||
		!strings.Contains(r.stdout, "dn:       uid=eddie,ou=people,"+base) || !strings.Contains(r.stdout, "pushers") ||
		!strings.Contains(r.stdout, "entry id: entryUUID:") ||
		!strings.Contains(r.stdout, "password: accepted") || !strings.Contains(r.stdout, "sysadmin: no") {
		t.Fatalf("ldap test:\n%s", r)
	} else {
		t.Logf("authserver ldap test --user eddie:\n%s", r.stdout)
	}
	if r := a.tryCLI("wrong\n", "ldap", "test", "--user", "eddie", "--password-stdin"); r.err == nil || !strings.Contains(r.stdout, "password: refused") {
		t.Fatalf("ldap test with a wrong password should fail:\n%s", r)
	}

	eddie := newSession(t, reg, "eddie", "eddie-pw")
	mustOK(t, eddie.cranePush(t, "ldapteam/app:1", "pushed by an LDAP user"))
	mustOK(t, eddie.cranePull("ldapteam/app:1"))
	wantUnauthorized(t, a.getToken(t, "eddie", "not-eddies-password", "service=harbor-registry&scope=repository:ldapteam/app:pull"))

	// A user not yet seen is found in the directory by `member add --user`;
	// unknown names are errors that say where they were looked for.
	if out := a.cli(t, "member", "add", "ldapteam", "--user", "erin", "--role", "guest"); !strings.Contains(out, "user erin added from the directory") {
		t.Errorf("member add --user for a directory user:\n%s", out)
	}
	erin := newSession(t, reg, "erin", "erin-pw")
	mustOK(t, erin.cranePull("ldapteam/app:1"))
	mustRefuse(t, erin.cranePush(t, "ldapteam/app:2", "guests may not push"))
	for _, args := range [][]string{
		{"member", "add", "ldapteam", "--group", "nosuchgroup", "--role", "guest"},
		{"member", "add", "ldapteam", "--user", "nosuchuser", "--role", "guest"},
	} {
		if r := a.tryCLI("", args...); r.err == nil || !strings.Contains(r.stderr, "directory") {
			t.Errorf("%v should fail naming the directory:\n%s", args, r)
		}
	}

	// Onboarded on first login; explain uses the groups recorded then.
	if out := a.cli(t, "user", "list"); !strings.Contains(out, "eddie") || !strings.Contains(out, "ldap") {
		t.Errorf("user list lacks the onboarded LDAP user:\n%s", out)
	}
	out = a.cli(t, "explain", "--user", "eddie", "repository:ldapteam/app:pull,push")
	if !strings.Contains(out, "granted pull,push") || !strings.Contains(out, "through group pushers") {
		t.Errorf("explain for an LDAP user:\n%s", out)
	}

	// The directory work above shows in /metrics: searches and binds (the
	// wrong password is a refused bind, not an error), cache hits from
	// crane's repeated logins, and the LDAP method on issued tokens.
	status, body := getBody(t, a.url+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	for _, m := range []struct{ name, labels string }{
		{"authserver_ldap_operations_total", `op="search",result="ok"`},
		{"authserver_ldap_operations_total", `op="bind",result="ok"`},
		{"authserver_ldap_operation_duration_seconds_count", `op="bind"`},
		{"authserver_credential_cache_hits_total", `cache="ldap"`},
		{"authserver_credential_cache_misses_total", `cache="ldap"`},
		{"authserver_token_requests_total", `method="ldap",result="issued"`},
	} {
		if v, ok := metricValue(string(body), m.name, m.labels); !ok || v < 1 {
			t.Errorf("metric %s{%s} = %v (found %v), want at least 1", m.name, m.labels, v, ok)
		}
	}
}

// ldapSection is the ldap: section of an authserver config for the test
// slapd s: the search account, users under ou=people and groups under
// ou=groups of ou (the test's own OU), a 5s timeout, and the keys in more
// (lines indented by two spaces).
func ldapSection(s *testenv.SlapdServer, ou, more string) string {
	return fmt.Sprintf(`ldap:
  url: %s
  bind_dn: %s
  bind_password: %s
  timeout: 5s
%s  user_search:
    base_dn: ou=people,%s
  group_search:
    base_dn: ou=groups,%s
`, s.URL(), testenv.LDAPSearchDN, testenv.LDAPSearchPassword, more, ou, ou)
}
