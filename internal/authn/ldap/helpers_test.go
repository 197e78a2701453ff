//go:build integration

package ldap_test

import (
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	authldap "github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/testenv"
)

// TestMain stops the slapds (and PostgreSQL servers) the tests started.
func TestMain(m *testing.M) { testenv.Main(m) }

// ldapConfig is the configuration of one test area (an OU of the
// fixtures: ou=people,ou=AREA and ou=groups,ou=AREA) on slapd s, plain
// LDAP, search account, cache off. mods adjust it.
func ldapConfig(s *testenv.SlapdServer, area string, mods ...func(*config.LDAP)) config.LDAP {
	base := "ou=" + area + "," + testenv.LDAPSuffix
	cfg := config.LDAP{
		URL:          s.URL(),
		BindDN:       testenv.LDAPSearchDN,
		BindPassword: testenv.LDAPSearchPassword,
		Timeout:      config.Duration(5 * time.Second),
		UserSearch: config.LDAPUserSearch{
			BaseDN: "ou=people," + base, Filter: "(objectClass=inetOrgPerson)", UsernameAttribute: "uid", Scope: "sub",
		},
		GroupSearch: config.LDAPGroupSearch{
			BaseDN: "ou=groups," + base, Filter: "(objectClass=groupOfNames)",
			MemberAttribute: "member", MemberValue: "dn", NameAttribute: "cn",
		},
		AdminGroupDN: "cn=registry-admins,ou=groups,ou=logins," + testenv.LDAPSuffix,
	}
	for _, m := range mods {
		m(&cfg)
	}
	return cfg
}

func withCache(ttl time.Duration) func(*config.LDAP) {
	return func(c *config.LDAP) { c.CacheTTL = config.Duration(ttl) }
}

func withTimeout(d time.Duration) func(*config.LDAP) {
	return func(c *config.LDAP) { c.Timeout = config.Duration(d) }
}

// newLDAP builds an authenticator, closed when the test ends.
func newLDAP(t testing.TB, cfg config.LDAP) *authldap.Directory {
	t.Helper()
	l, err := authldap.New(cfg, nil)
	if err != nil {
		t.Fatalf("NewLDAP: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

// requests is the number of per-login LDAP round trips so far.
func requests(l *authldap.Directory) int64 { return l.Stats().Requests }

// groupNames lists the names of u's groups.
func groupNames(u authn.DirectoryUser) []string {
	out := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		out[i] = g.Name
	}
	return out
}
