//go:build integration

package ldap_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// granted asks authz what id gets for one scope, as the server would.
func TestChain(t *testing.T) {
	s := testenv.Slapd(t)
	l := newLDAP(t, ldapConfig(s, "logins"))
	st := sqlitetest.Open(t)
	ctx := t.Context()
	authntest.AddLocal(t, st, "admin", "admin-local-pw", true)
	authntest.AddLocal(t, st, "shadow", "shadow-local-pw", false)
	devsDN := "cn=devs,ou=groups,ou=logins," + testenv.LDAPSuffix
	authntest.MustMember(t, st, "team", store.MemberGroup, "devs", devsDN, store.RoleDeveloper)
	chain := authntest.NewChain(t, st, l)

	tests := []struct {
		name        string
		user, pass  string
		wantOK      bool
		wantMethod  string
		wantName    string
		wantAdmin   bool
		wantTeam    []string // granted on repository:team/app:pull,push
		wantCatalog []string // granted on registry:catalog:*
	}{
		{name: "ldap user, group developer", user: "alice", pass: "alice-pw", wantOK: true, wantMethod: authn.MethodLDAP, wantName: "alice",
			wantTeam: []string{"pull", "push"}},
		{name: "ldap user, other spelling", user: "Alice", pass: "alice-pw", wantOK: true, wantMethod: authn.MethodLDAP, wantName: "alice",
			wantTeam: []string{"pull", "push"}},
		{name: "ldap user in no group", user: "bob", pass: "bob-pw", wantOK: true, wantMethod: authn.MethodLDAP, wantName: "bob"},
		{name: "admin group gives the catalog", user: "carol", pass: "carol-pw", wantOK: true, wantMethod: authn.MethodLDAP, wantName: "carol",
			wantAdmin: true, wantTeam: []string{"pull", "push"}, wantCatalog: []string{"*"}},
		{name: "weird uid", user: `we*ir(d)\user`, pass: "weird-pw", wantOK: true, wantMethod: authn.MethodLDAP, wantName: `we*ir(d)\user`},
		{name: "wrong ldap password", user: "alice", pass: "bob-pw"},
		{name: "injection", user: "alice)(uid=*", pass: "alice-pw"},
		{name: "admin is always local", user: "admin", pass: "admin-pw"},
		{name: "admin in another spelling is not taken from the directory", user: "ADMIN", pass: "admin-pw"},
		{name: "admin local password", user: "admin", pass: "admin-local-pw", wantOK: true, wantMethod: authn.MethodPassword, wantName: "admin",
			wantAdmin: true, wantTeam: []string{"pull", "push"}, wantCatalog: []string{"*"}},
		{name: "local user is checked locally only", user: "shadow", pass: "shadow-pw"},
		{name: "local user with local password", user: "shadow", pass: "shadow-local-pw", wantOK: true, wantMethod: authn.MethodPassword, wantName: "shadow"},
		{name: "local name in another spelling is not taken over", user: "SHADOW", pass: "shadow-pw"},
		// The directory ignores insignificant spaces: "admin " finds uid=admin.
		{name: "admin with a trailing space is not taken from the directory", user: "admin ", pass: "admin-pw"},
		{name: "admin with a leading space is not taken from the directory", user: " admin", pass: "admin-pw"},
		{name: "local name with a trailing space is not taken over", user: "shadow ", pass: "shadow-pw"},
		{name: "local name with a leading space is not taken over", user: " shadow", pass: "shadow-pw"},
		{name: "ldap user with a trailing space gets the directory spelling", user: "alice ", pass: "alice-pw", wantOK: true,
			wantMethod: authn.MethodLDAP, wantName: "alice", wantTeam: []string{"pull", "push"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok, err := chain.Login(ctx, tt.user, tt.pass)
			if err != nil || ok != tt.wantOK {
				t.Fatalf("Login = %+v, %t, %v; want ok %t", id, ok, err, tt.wantOK)
			}
			if !ok {
				return
			}
			if id.Method != tt.wantMethod || id.Name != tt.wantName || id.Admin != tt.wantAdmin || id.UserID == 0 {
				t.Errorf("identity %+v; want method %s name %s admin %t and a user ID", id, tt.wantMethod, tt.wantName, tt.wantAdmin)
			}
			if got := authntest.Granted(t, st, id, "repository:team/app:pull,push"); !slices.Equal(got, tt.wantTeam) {
				t.Errorf("team/app granted %v, want %v", got, tt.wantTeam)
			}
			if got := authntest.Granted(t, st, id, "registry:catalog:*"); !slices.Equal(got, tt.wantCatalog) {
				t.Errorf("catalog granted %v, want %v", got, tt.wantCatalog)
			}
		})
	}

	// alice was onboarded once, with her profile and last known groups.
	u, err := st.GetUser(ctx, "alice")
	if err != nil || u.Source != store.SourceLDAP || u.PasswordHash != "" || u.Email != "alice@example.org" || u.DisplayName != "Alice Liddell" || u.Admin {
		t.Fatalf("onboarded alice: %+v, %v", u, err)
	}
	lu, err := st.GetLDAPUser(ctx, "alice")
	if err != nil || !slices.Equal(lu.GroupDNs, []string{devsDN}) || lu.DN != "uid=alice,"+loginsPeople {
		t.Errorf("alice's directory record: %+v, %v", lu, err)
	}
	if lu, _ := st.GetLDAPUser(ctx, "carol"); !lu.Admin {
		t.Errorf("carol's record does not say admin: %+v", lu)
	}
	if c, _ := st.GetUser(ctx, "carol"); c.Admin {
		t.Error("admin group membership was copied into the stored admin flag")
	}
	for _, name := range []string{"Alice", "alice ", "admin ", " admin", "shadow ", " shadow"} {
		if _, err := st.GetUser(ctx, name); err == nil {
			t.Errorf("a second user was onboarded for the spelling %q", name)
		}
	}

	// An onboarded LDAP user can hold direct memberships.
	authntest.MustMember(t, st, "solo", store.MemberUser, "bob", "", store.RoleGuest)
	id, ok, err := chain.Login(ctx, "bob", "bob-pw")
	if !ok || err != nil || !slices.Equal(authntest.Granted(t, st, id, "repository:solo/x:pull,push"), []string{"pull"}) {
		t.Errorf("bob's direct guest membership not applied: %+v, %t, %v", id, ok, err)
	}
}

func TestChainDisabledUser(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "logins", withCache(time.Minute)))
	st := sqlitetest.Open(t)
	chain := authntest.NewChain(t, st, l)
	ctx := t.Context()
	if _, ok, err := chain.Login(ctx, "dave", "dave-pw"); !ok || err != nil {
		t.Fatalf("first login: %t, %v", ok, err)
	}
	authntest.DisableUser(t, st, "dave")
	before := requests(l)
	// The cached login must not bypass it, and the stored name is refused
	// without asking the directory.
	if id, ok, err := chain.Login(ctx, "dave", "dave-pw"); ok || err != nil {
		t.Errorf("disabled dave: %+v, %t, %v; want 401", id, ok, err)
	}
	if requests(l) != before {
		t.Errorf("the disabled user's login asked the directory")
	}
	// Another spelling is only known to be dave after the directory says so.
	if id, ok, err := chain.Login(ctx, "DAVE", "dave-pw"); ok || err != nil {
		t.Errorf("disabled DAVE: %+v, %t, %v; want 401", id, ok, err)
	}
}

// TestChainGroupRemovalAfterTTL removes a user from a group in the
// directory: the role stays until the cached login expires, then goes.
func TestChainGroupRemovalAfterTTL(t *testing.T) {
	s := testenv.Slapd(t)
	const ttl = time.Second
	l := newLDAP(t, ldapConfig(s, "removal", withCache(ttl)))
	st := sqlitetest.Open(t)
	tempsDN := "cn=temps,ou=groups,ou=removal," + testenv.LDAPSuffix
	authntest.MustMember(t, st, "temp", store.MemberGroup, "temps", tempsDN, store.RoleMaintainer)
	chain := authntest.NewChain(t, st, l)
	const scope = "repository:temp/app:pull,push,delete"
	id, ok, err := chain.Login(t.Context(), "rita", "rita-pw")
	if !ok || err != nil || !slices.Equal(authntest.Granted(t, st, id, scope), []string{"pull", "push", "delete"}) {
		t.Fatalf("before removal: %+v, %t, %v, granted %v", id, ok, err, authntest.Granted(t, st, id, scope))
	}
	loggedIn := time.Now()

	mod := ldap.NewModifyRequest(tempsDN, nil)
	mod.Delete("member", []string{"uid=rita,ou=people,ou=removal," + testenv.LDAPSuffix})
	if err := s.Root(t).Modify(mod); err != nil {
		t.Fatalf("remove rita from temps: %v", err)
	}
	id, ok, _ = chain.Login(t.Context(), "rita", "rita-pw")
	if time.Since(loggedIn) < ttl && (!ok || len(authntest.Granted(t, st, id, scope)) == 0) {
		t.Errorf("within cache_ttl the cached groups should still apply: %+v", id)
	}
	time.Sleep(time.Until(loggedIn.Add(ttl + 50*time.Millisecond)))
	id, ok, err = chain.Login(t.Context(), "rita", "rita-pw")
	if !ok || err != nil {
		t.Fatalf("login after the TTL: %t, %v", ok, err)
	}
	if got := authntest.Granted(t, st, id, scope); len(got) != 0 || len(id.GroupDNs) != 0 {
		t.Errorf("after cache_ttl, removed group still applies: groups %v, granted %v", id.GroupDNs, got)
	}
	if lu, _ := st.GetLDAPUser(context.Background(), "rita"); len(lu.GroupDNs) != 0 {
		t.Errorf("recorded groups not refreshed: %v", lu.GroupDNs)
	}
}

func TestChainManyGroups(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "many"))
	st := sqlitetest.Open(t)
	authntest.MustMember(t, st, "big", store.MemberGroup, "g123", testenv.ManyGroupDN(123), store.RoleGuest)
	id, ok, err := authntest.NewChain(t, st, l).Login(t.Context(), "many", "many-pw")
	if !ok || err != nil || len(id.GroupDNs) != testenv.ManyGroups {
		t.Fatalf("Login = %d groups, %t, %v", len(id.GroupDNs), ok, err)
	}
	if got := authntest.Granted(t, st, id, "repository:big/app:pull,push"); !slices.Equal(got, []string{"pull"}) {
		t.Errorf("granted %v, want [pull] through g123", got)
	}
}

func TestChainStillValid(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "logins"))
	st := sqlitetest.Open(t)
	authntest.AddLocal(t, st, "shadow", "x-pw", false)
	chain := authntest.NewChain(t, st, l)
	tests := []struct {
		name string
		user string
		want bool
	}{
		{name: "known", user: "alice", want: true},
		{name: "unknown", user: "nobody"},
		{name: "admin never", user: "admin"},
		{name: "local name", user: "shadow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := chain.StillValid(t.Context(), tt.user, time.Now()); err != nil || got != tt.want {
				t.Errorf("StillValid = %t, %v; want %t", got, err, tt.want)
			}
		})
	}
	if lu, err := st.GetLDAPUser(t.Context(), "alice"); err != nil || len(lu.GroupDNs) != 1 {
		t.Errorf("StillValid did not record alice's groups: %+v, %v", lu, err)
	}
	// Without a directory every LDAP user is refused.
	if ok, err := authntest.NewChain(t, st, nil).StillValid(t.Context(), "alice", time.Now()); ok || err != nil {
		t.Errorf("StillValid without LDAP = %t, %v", ok, err)
	}
}

// fixedDirectory accepts every password and answers with one directory
// user, whatever login was typed.
type fixedDirectory struct{ user authn.DirectoryUser }

func (d fixedDirectory) Authenticate(context.Context, string, string) (authn.DirectoryUser, bool, error) {
	return d.user, true, nil
}

func (d fixedDirectory) Lookup(context.Context, string) (authn.DirectoryUser, bool, error) {
	return d.user, true, nil
}

// TestChainAdminNeverFromDirectory: no spelling of "admin", typed or
// returned by the directory, becomes a directory user.
func TestChainAdminNeverFromDirectory(t *testing.T) {
	tests := []struct {
		name    string
		login   string
		dirName string // the directory's spelling of the matched entry
	}{
		{name: "directory spells it Admin", login: "admin ", dirName: "Admin"},
		{name: "directory spells it ADMIN", login: "sysop", dirName: "ADMIN"},
		{name: "login ADMIN stays local", login: "ADMIN", dirName: "ADMIN"},
		{name: "login Admin stays local", login: "Admin", dirName: "someone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := sqlitetest.Open(t)
			authntest.AddLocal(t, st, "admin", "admin-local-pw", true)
			chain := authntest.NewChain(t, st, fixedDirectory{authn.DirectoryUser{Name: tt.dirName, DN: "uid=x,dc=example", Admin: true}})
			if id, ok, err := chain.Login(t.Context(), tt.login, "directory-pw"); ok || err != nil {
				t.Errorf("Login(%q) = %+v, %t, %v; want 401", tt.login, id, ok, err)
			}
			if ok, err := chain.StillValid(t.Context(), tt.login, time.Now()); ok || err != nil {
				t.Errorf("StillValid(%q) = %t, %v; want false", tt.login, ok, err)
			}
			if users, _ := st.ListUsers(t.Context()); len(users) != 1 {
				t.Errorf("users %+v; want only the local admin", users)
			}
		})
	}
}
