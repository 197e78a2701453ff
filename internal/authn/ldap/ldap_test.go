//go:build integration

package ldap_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	authldap "github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/testenv"
)

const loginsPeople = "ou=people,ou=logins," + testenv.LDAPSuffix

func TestLDAPLogin(t *testing.T) {
	s := testenv.Slapd(t)
	l := newLDAP(t, ldapConfig(s, "logins"))
	tests := []struct {
		name       string
		user, pass string
		wantOK     bool
		wantName   string
		wantGroups []string
		wantAdmin  bool
		// wantRequests is the exact number of round trips, -1 for "any". A
		// name with no (single) entry costs a search and a dummy bind: 2, like
		// a wrong password.
		wantRequests int64
	}{
		{name: "member of a group", user: "alice", pass: "alice-pw", wantOK: true, wantName: "alice", wantGroups: []string{"devs"}, wantRequests: 3},
		{name: "case-insensitive name, directory spelling kept", user: "ALICE", pass: "alice-pw", wantOK: true, wantName: "alice", wantGroups: []string{"devs"}, wantRequests: 3},
		{name: "spaces the directory ignores, directory spelling kept", user: " alice ", pass: "alice-pw", wantOK: true, wantName: "alice", wantGroups: []string{"devs"}, wantRequests: 3},
		{name: "wrong password", user: "alice", pass: "alice-pw2", wantRequests: 2},
		{name: "password is not escaped", user: "alice", pass: `alice\2dpw`, wantRequests: 2},
		{name: "empty password refused before any request", user: "alice", pass: "", wantRequests: 0},
		{name: "empty username", user: "", pass: "x", wantRequests: 0},
		{name: "too long username", user: strings.Repeat("a", 300), pass: "x", wantRequests: 0},
		{name: "no groups", user: "bob", pass: "bob-pw", wantOK: true, wantName: "bob", wantGroups: []string{}, wantRequests: 3},
		{name: "unknown user", user: "nobody", pass: "x", wantRequests: 2},
		{name: "admin group member", user: "carol", pass: "carol-pw", wantOK: true, wantName: "carol", wantGroups: []string{"registry-admins"}, wantAdmin: true, wantRequests: 3},
		{name: "uid with *()\\ logs in", user: `we*ir(d)\user`, pass: "weird-pw", wantOK: true, wantName: `we*ir(d)\user`, wantGroups: []string{"weirdos"}, wantRequests: 3},
		{name: "uid with *()\\ wrong password", user: `we*ir(d)\user`, pass: "alice-pw", wantRequests: 2},
		{name: "wildcard username", user: "*", pass: "alice-pw", wantRequests: 2},
		{name: "wildcard prefix", user: "al*", pass: "alice-pw", wantRequests: 2},
		{name: "filter injection", user: "alice)(uid=*", pass: "alice-pw", wantRequests: 2},
		{name: "filter injection with or", user: "*)(|(uid=*", pass: "alice-pw", wantRequests: 2},
		{name: "escaped form is not unescaped", user: `we\2air\28d\29\5cuser`, pass: "weird-pw", wantRequests: 2},
		{name: "nul byte", user: "alice\x00", pass: "alice-pw", wantRequests: 2},
		{name: "ambiguous username refused", user: "twin", pass: "twin-pw", wantRequests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := requests(l)
			u, ok, err := l.Authenticate(t.Context(), tt.user, tt.pass)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if got := requests(l) - before; tt.wantRequests >= 0 && got != tt.wantRequests {
				t.Errorf("%d LDAP round trips, want %d", got, tt.wantRequests)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %t, want %t (user %+v)", ok, tt.wantOK, u)
			}
			if !ok {
				return
			}
			if u.Name != tt.wantName || u.Admin != tt.wantAdmin || u.Cached {
				t.Errorf("user %+v, want name %q admin %t, not cached", u, tt.wantName, tt.wantAdmin)
			}
			if got := groupNames(u); !slices.Equal(got, tt.wantGroups) {
				t.Errorf("groups %v, want %v", got, tt.wantGroups)
			}
			id, ok, err := l.Login(t.Context(), tt.user, tt.pass)
			if err != nil || !ok || id.Name != tt.wantName || id.Method != authn.MethodLDAP || len(id.GroupDNs) != len(tt.wantGroups) {
				t.Errorf("Login = %+v, %t, %v", id, ok, err)
			}
		})
	}
}

func TestLDAPProfile(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "logins"))
	u, ok, err := l.Authenticate(t.Context(), "alice", "alice-pw")
	if err != nil || !ok {
		t.Fatalf("Authenticate: %t, %v", ok, err)
	}
	want := authn.DirectoryUser{Name: "alice", DN: "uid=alice," + loginsPeople, Email: "alice@example.org", DisplayName: "Alice Liddell",
		Groups: []authn.DirectoryGroup{{DN: "cn=devs,ou=groups,ou=logins," + testenv.LDAPSuffix, Name: "devs"}}}
	if u.Name != want.Name || u.DN != want.DN || u.Email != want.Email || u.DisplayName != want.DisplayName || !slices.Equal(u.Groups, want.Groups) {
		t.Errorf("got %+v\nwant %+v", u, want)
	}
	// No displayName: cn is used.
	if u, _, _ := l.Authenticate(t.Context(), "bob", "bob-pw"); u.DisplayName != "Bob" {
		t.Errorf("bob's display name %q, want cn Bob", u.DisplayName)
	}
}

func TestLDAPSearchOptions(t *testing.T) {
	s := testenv.Slapd(t)
	tests := []struct {
		name       string
		cfg        config.LDAP
		user, pass string
		wantOK     bool
		wantGroups []string
	}{
		{name: "scope one finds only direct children", user: "twin", pass: "twin-pw", wantOK: true, wantGroups: []string{},
			cfg: ldapConfig(s, "logins", func(c *config.LDAP) { c.UserSearch.Scope = "one" })},
		{name: "user filter excludes", user: "alice", pass: "alice-pw",
			cfg: ldapConfig(s, "logins", func(c *config.LDAP) { c.UserSearch.Filter = "(objectClass=posixAccount)" })},
		{name: "posix groups by username", user: "pete", pass: "pete-pw", wantOK: true, wantGroups: []string{"posixdevs"},
			cfg: ldapConfig(s, "posix", func(c *config.LDAP) {
				c.GroupSearch.Filter, c.GroupSearch.MemberAttribute, c.GroupSearch.MemberValue = "(objectClass=posixGroup)", "memberUid", "username"
			})},
		{name: "anonymous search bind", user: "alice", pass: "alice-pw", wantOK: true, wantGroups: []string{"devs"},
			cfg: ldapConfig(s, "logins", func(c *config.LDAP) { c.BindDN, c.BindPassword = "", "" })},
		{name: "nested off: direct groups only", user: "nina", pass: "nina-pw", wantOK: true,
			wantGroups: []string{"cycle-a", "deep-01", "inner"},
			cfg:        ldapConfig(s, "nested")},
		{name: "nested on: levels followed, cycle ended, depth bounded", user: "nina", pass: "nina-pw", wantOK: true,
			wantGroups: []string{"cycle-a", "cycle-b", "deep-01", "deep-02", "deep-03", "deep-04", "deep-05", "deep-06",
				"deep-07", "deep-08", "deep-09", "deep-10", "deep-11", "inner", "middle", "outer"},
			cfg: ldapConfig(s, "nested", func(c *config.LDAP) { c.GroupSearch.Nested = true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLDAP(t, tt.cfg)
			u, ok, err := l.Authenticate(t.Context(), tt.user, tt.pass)
			if err != nil || ok != tt.wantOK {
				t.Fatalf("Authenticate = %t, %v; want %t", ok, err, tt.wantOK)
			}
			got := groupNames(u)
			slices.Sort(got)
			if ok && !slices.Equal(got, tt.wantGroups) {
				t.Errorf("groups %v\nwant %v", got, tt.wantGroups)
			}
		})
	}
}

// TestLDAPRoundTrips200Groups is the deterministic half of the benchmark:
// a cold login of a user in 200 groups is 3 round trips.
func TestLDAPRoundTrips200Groups(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "many"))
	for i := range 3 { // the first dials; the others reuse pooled connections
		before, dials := requests(l), l.Stats().Dials
		start := time.Now()
		u, ok, err := l.Authenticate(t.Context(), "many", "many-pw")
		took := time.Since(start)
		if err != nil || !ok || len(u.Groups) != testenv.ManyGroups {
			t.Fatalf("login #%d: ok %t, err %v, %d groups; want %d", i, ok, err, len(u.Groups), testenv.ManyGroups)
		}
		if n := requests(l) - before; n > 3 {
			t.Errorf("login #%d: %d LDAP round trips, want at most 3", i, n)
		}
		if i > 0 && l.Stats().Dials != dials {
			t.Errorf("login #%d dialed: connections are not pooled", i)
		}
		t.Logf("cold login #%d of a user in %d groups: %v", i, len(u.Groups), took)
	}
}

func TestLDAPSearchBindRefused(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "logins", func(c *config.LDAP) { c.BindPassword = "wrong" }))
	_, ok, err := l.Authenticate(t.Context(), "alice", "alice-pw")
	if !errors.Is(err, authn.ErrUnavailable) || ok {
		t.Fatalf("Authenticate = %t, %v; want ErrUnavailable (503, never 401)", ok, err)
	}
	if !strings.Contains(err.Error(), "bind_password") {
		t.Errorf("error %q does not point at the search account settings", err)
	}
}

func TestLDAPFindGroup(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "logins"))
	devs := authn.DirectoryGroup{DN: "cn=devs,ou=groups,ou=logins," + testenv.LDAPSuffix, Name: "devs"}
	tests := []struct {
		name    string
		arg     string
		want    authn.DirectoryGroup
		wantErr error
	}{
		{name: "by name", arg: "devs", want: devs},
		{name: "by dn", arg: devs.DN, want: devs},
		{name: "by dn, other case and spacing", arg: "CN=devs, OU=groups,ou=logins,dc=example,dc=org", want: devs},
		{name: "unknown name", arg: "nope", wantErr: authldap.ErrGroupNotFound},
		{name: "unknown dn", arg: "cn=nope,ou=groups,ou=logins," + testenv.LDAPSuffix, wantErr: authldap.ErrGroupNotFound},
		{name: "dn of a user, not a group", arg: "uid=alice," + loginsPeople, wantErr: authldap.ErrGroupNotFound},
		{name: "wildcard is not a pattern", arg: "*", wantErr: authldap.ErrGroupNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := l.FindGroup(t.Context(), tt.arg)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("FindGroup = %+v, %v; want %v", g, err, tt.wantErr)
				}
				return
			}
			if err != nil || g.Name != tt.want.Name || !strings.EqualFold(strings.ReplaceAll(g.DN, " ", ""), tt.want.DN) {
				t.Fatalf("FindGroup = %+v, %v; want %+v", g, err, tt.want)
			}
		})
	}
}

func TestLDAPLookup(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "logins", withCache(time.Minute)))
	u, found, err := l.Lookup(t.Context(), "alice")
	if err != nil || !found || u.DN != "uid=alice,"+loginsPeople || len(u.Groups) != 1 || u.Cached {
		t.Fatalf("Lookup(alice) = %+v, %t, %v", u, found, err)
	}
	before := requests(l)
	if u, found, _ := l.Lookup(t.Context(), "alice"); !found || !u.Cached || requests(l) != before {
		t.Errorf("second lookup not answered from cache: %+v", u)
	}
	for _, name := range []string{"nobody", "*", "twin"} {
		if _, found, err := l.Lookup(t.Context(), name); err != nil || found {
			t.Errorf("Lookup(%q) = %t, %v; want not found", name, found, err)
		}
	}
}

func TestLDAPDiagnose(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "logins"))
	tests := []struct {
		name, user, pass string
		wantFound        bool
		wantChecked      bool
		wantPassOK       bool
		wantSteps        []string
	}{
		{name: "password accepted", user: "carol", pass: "carol-pw", wantFound: true, wantChecked: true, wantPassOK: true,
			wantSteps: []string{"connect and search bind", "search user", "connect for the user bind", "bind as user", "search groups"}},
		{name: "wrong password", user: "carol", pass: "nope", wantFound: true, wantChecked: true,
			wantSteps: []string{"connect and search bind", "search user", "connect for the user bind", "bind as user", "search groups"}},
		{name: "search only", user: "carol", wantFound: true,
			wantSteps: []string{"connect and search bind", "search user", "search groups"}},
		{name: "unknown", user: "nobody", pass: "nobody-pw",
			wantSteps: []string{"connect and search bind", "search user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := l.Diagnose(t.Context(), tt.user, tt.pass)
			if err != nil {
				t.Fatalf("Diagnose: %v", err)
			}
			var steps []string
			for _, s := range d.Steps {
				steps = append(steps, s.Name)
				if strings.Contains(s.Detail, tt.pass) && tt.pass != "" {
					t.Errorf("step %q shows the password: %q", s.Name, s.Detail)
				}
			}
			if !slices.Equal(steps, tt.wantSteps) || d.Found != tt.wantFound || d.PasswordChecked != tt.wantChecked || d.PasswordOK != tt.wantPassOK {
				t.Errorf("diagnosis %+v, steps %v; want steps %v", d, steps, tt.wantSteps)
			}
			if d.Found && !d.User.Admin {
				t.Errorf("carol should be a sysadmin: %+v", d.User)
			}
		})
	}
}
