//go:build integration

package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/testenv"
)

// credOU is this test's own part of the shared slapd, created at run time.
var credOU = "ou=e2e-credentials," + testenv.LDAPSuffix

// TestLDAPCredentials: an LDAP user's personal access token and refresh
// token work without their directory password, end when it changes (those
// made after the change work), and stop once the directory no longer knows
// the user.
func TestLDAPCredentials(t *testing.T) {
	t.Parallel()
	s := testenv.Slapd(t)
	root := s.Root(t)
	addEntries(t, root)

	extra := ldapSection(s, credOU, "  cache_ttl: 1s\n")
	w := &credWorld{bind: true}
	w.auth = startAuthServer(t, authOptions{extraConfig: extra})
	w.reg = startRegistry(t, flavours[0], w.auth)
	w.auth.cli(t, "project", "create", "lteam")
	w.auth.cli(t, "member", "add", "lteam", "--group", "cbuilders", "--role", "developer")

	// First login with the directory password onboards lena.
	lena := newSession(t, w.reg, "lena", "lena-pw")
	mustOK(t, lena.cranePush(t, "lteam/app:1", "pushed by an LDAP user"))
	_, pat := w.createSecret(t, "pat", "create", "--user", "lena", "--name", "ci")
	rt := w.dockerLogin(t, "lena", "lena-pw", false)

	// Neither needs the password.
	withPAT := newSession(t, w.reg, "lena", pat)
	mustOK(t, withPAT.cranePush(t, "lteam/app:2", "pushed with an LDAP user's PAT"))
	mustOK(t, withPAT.cranePull("lteam/app:1"))
	mustRefuse(t, withPAT.cranePush(t, "other/app:1", "not her project"))
	if status, _ := w.dockerPull(t, rt, "lteam/app", "1"); status == http.StatusUnauthorized {
		t.Fatalf("refresh token refused while lena is still in the directory")
	}

	// Her directory password changes (pwdChangedTime, whole seconds): the
	// refresh token minted from the old password and the PAT made before
	// end within cache_ttl; those made after the change work.
	time.Sleep(1100 * time.Millisecond)
	mod := ldap.NewModifyRequest(lenaDN, nil)
	mod.Replace("userPassword", []string{"lena-new-pw"})
	if err := root.Modify(mod); err != nil {
		t.Fatalf("change lena's password: %v", err)
	}
	waitUntilRefused(t, func() result { return withPAT.cranePull("lteam/app:1") })
	if status, _ := w.dockerPull(t, rt, "lteam/app", "1"); status != http.StatusUnauthorized {
		t.Fatalf("refresh token minted before the password change: %d, want 401", status)
	}
	_, pat = w.createSecret(t, "pat", "create", "--user", "lena", "--name", "ci2")
	rt = w.dockerLogin(t, "lena", "lena-new-pw", false)
	withPAT = newSession(t, w.reg, "lena", pat)
	mustOK(t, withPAT.cranePull("lteam/app:1"))
	if status, _ := w.dockerPull(t, rt, "lteam/app", "1"); status == http.StatusUnauthorized {
		t.Fatalf("refresh token made after the password change refused")
	}

	// She leaves the directory: both stop within the LDAP cache TTL.
	if err := root.Del(ldap.NewDelRequest(lenaDN, nil)); err != nil {
		t.Fatalf("delete lena: %v", err)
	}
	waitUntilRefused(t, func() result { return withPAT.cranePull("lteam/app:1") })
	if status, _ := w.dockerPull(t, rt, "lteam/app", "1"); status != http.StatusUnauthorized {
		t.Fatalf("refresh token of a user gone from the directory: %d, want 401", status)
	}
}

var lenaDN = "uid=lena,ou=people," + credOU

// addEntries creates credOU with lena in group cbuilders, and removes it
// when the test ends.
func addEntries(t *testing.T, c *ldap.Conn) {
	t.Helper()
	entries := []struct {
		dn    string
		attrs map[string][]string
	}{
		{credOU, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"e2e-credentials"}}},
		{"ou=people," + credOU, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"people"}}},
		{"ou=groups," + credOU, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"groups"}}},
		{lenaDN, map[string][]string{"objectClass": {"inetOrgPerson"}, "uid": {"lena"}, "cn": {"Lena"}, "sn": {"Ldap"},
			"userPassword": {"lena-pw"}}},
		{"cn=cbuilders,ou=groups," + credOU, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {"cbuilders"}, "member": {lenaDN}}},
	}
	for _, e := range entries {
		req := ldap.NewAddRequest(e.dn, nil)
		for k, v := range e.attrs {
			req.Attribute(k, v)
		}
		if err := c.Add(req); err != nil {
			t.Fatalf("add %s: %v", e.dn, err)
		}
	}
	t.Cleanup(func() {
		for i := len(entries) - 1; i >= 0; i-- {
			if err := c.Del(ldap.NewDelRequest(entries[i].dn, nil)); err != nil && !strings.Contains(err.Error(), "No Such Object") {
				t.Logf("remove %s: %v", entries[i].dn, err)
			}
		}
	})
}
