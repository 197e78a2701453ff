package authn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
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
func newLDAP(t testing.TB, cfg config.LDAP) *authn.LDAP {
	t.Helper()
	l, err := authn.NewLDAP(cfg, nil)
	if err != nil {
		t.Fatalf("NewLDAP: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

// newStore is a migrated SQLite store in the test's temp dir.
func newStore(t testing.TB) *sqlite.Store {
	t.Helper()
	return sqlitetest.Open(t)
}

// addLocal creates a local user with password pass (bcrypt cost 4).
func addLocal(t testing.TB, st store.Store, name, pass string, admin bool) {
	t.Helper()
	hash, err := authn.HashPassword(pass, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(context.Background(), &store.User{Name: name, PasswordHash: hash, Admin: admin}); err != nil {
		t.Fatal(err)
	}
}

// newChain is the server's authenticator: local users first, then dir.
func newChain(t testing.TB, st store.Store, dir authn.DirectoryAuthenticator) *authn.Chain {
	t.Helper()
	local, err := authn.NewLocal(st, 4)
	if err != nil {
		t.Fatal(err)
	}
	return authn.NewChain(st, local, dir, nil)
}

// mustMember gives a group (created with dn when missing) or user a role.
func mustMember(t testing.TB, st store.Store, project string, kind store.MemberKind, name, dn string, role store.Role) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.GetProject(ctx, project); errors.Is(err, store.ErrNotFound) {
		if err := st.CreateProject(ctx, &store.Project{Name: project}); err != nil {
			t.Fatal(err)
		}
	}
	if kind == store.MemberGroup {
		if _, err := st.GetGroup(ctx, name); errors.Is(err, store.ErrNotFound) {
			if err := st.CreateGroup(ctx, &store.Group{Name: name, DN: dn}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.SetMember(ctx, store.Member{Project: project, Kind: kind, Name: name, Role: role}); err != nil {
		t.Fatal(err)
	}
}

// requests is the number of per-login LDAP round trips so far.
func requests(l *authn.LDAP) int64 { return l.Stats().Requests }

// groupNames lists the names of u's groups.
func groupNames(u authn.DirectoryUser) []string {
	out := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		out[i] = g.Name
	}
	return out
}
