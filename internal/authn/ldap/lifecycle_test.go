//go:build integration

package ldap_test

import (
	"errors"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// lifecycle is the server's view of one LDAP user over time: password
// logins, refresh grants and personal access tokens, all re-checking the
// directory (ou=lifecycle) on slapd s.
type lifecycle struct {
	st      store.Store
	chain   *authn.Chain
	refresh *secret.Refresher
	pats    *secret.PATs
}

func newLifecycle(t *testing.T, s *testenv.SlapdServer, mods ...func(*config.LDAP)) *lifecycle {
	t.Helper()
	st := sqlitetest.Open(t)
	chain := authntest.NewChain(t, st, newLDAP(t, ldapConfig(s, "lifecycle", mods...)))
	accounts := authn.NewAccounts(st, map[string]authn.UserChecker{store.SourceLDAP: chain})
	return &lifecycle{st: st, chain: chain, refresh: secret.NewRefresher(st, accounts, secret.RefreshOptions{}),
		pats: secret.NewPATs(st, accounts, chain, nil, nil)}
}

// login logs user in with pass and returns the identity, a refresh token
// and a personal access token issued now.
func (lc *lifecycle) login(t *testing.T, user, pass string) (id authn.Identity, refresh, pat string) {
	t.Helper()
	id, ok, err := lc.chain.Login(t.Context(), user, pass)
	if !ok || err != nil {
		t.Fatalf("login %s: %t, %v", user, ok, err)
	}
	if refresh, err = lc.refresh.Issue(t.Context(), id, "registry", "docker"); err != nil {
		t.Fatal(err)
	}
	if pat, err = secret.NewPAT(); err != nil {
		t.Fatal(err)
	}
	if err := lc.st.CreatePersonalToken(t.Context(), &store.PersonalToken{User: id.Name, Name: "t" + pat[len(pat)-6:],
		Hash: secret.Hash(pat)}); err != nil {
		t.Fatal(err)
	}
	return id, refresh, pat
}

// check redeems the refresh token and logs in with the PAT; both must give
// want (ok) and no error.
func (lc *lifecycle) check(t *testing.T, what, user, refresh, pat string, want bool) {
	t.Helper()
	if _, ok, err := lc.refresh.Redeem(t.Context(), refresh, "registry", "docker"); ok != want || err != nil {
		t.Errorf("%s: refresh grant = %t, %v; want %t", what, ok, err, want)
	}
	if _, ok, err := lc.pats.Login(t.Context(), user, pat); ok != want || err != nil {
		t.Errorf("%s: personal token = %t, %v; want %t", what, ok, err, want)
	}
}

func lifecycleDN(uid string) string {
	return "uid=" + uid + ",ou=people,ou=lifecycle," + testenv.LDAPSuffix
}

// A new entry under an old name is another person: the old account's
// credentials stop, and the newcomer is a new user who inherits nothing.
func TestLDAPEntryReplaced(t *testing.T) {
	s := testenv.Slapd(t)
	lc := newLifecycle(t, s)
	ctx := t.Context()
	old, refresh, pat := lc.login(t, "ivan", "ivan-pw")
	if lu, err := lc.st.GetLDAPUser(ctx, "ivan"); err != nil || len(lu.EntryID) < len("entryUUID:")+36 || lu.EntryID[:10] != "entryUUID:" {
		t.Fatalf("recorded entry id: %+v, %v; want entryUUID:<uuid>", lu, err)
	}
	authntest.MustMember(t, lc.st, "team", store.MemberUser, "ivan", "", store.RoleMaintainer)
	lc.check(t, "before", "ivan", refresh, pat, true)

	// ivan leaves; a new ivan gets the same uid (and DN).
	root := s.Root(t)
	if err := root.Del(ldap.NewDelRequest(lifecycleDN("ivan"), nil)); err != nil {
		t.Fatal(err)
	}
	add := ldap.NewAddRequest(lifecycleDN("ivan"), nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{"ivan"})
	add.Attribute("cn", []string{"Ivan the Second"})
	add.Attribute("sn", []string{"Newcomer"})
	add.Attribute("userPassword", []string{"ivan-pw2"})
	if err := root.Add(add); err != nil {
		t.Fatal(err)
	}
	lc.check(t, "entry replaced, before the newcomer logs in", "ivan", refresh, pat, false)

	id, ok, err := lc.chain.Login(ctx, "ivan", "ivan-pw2")
	if !ok || err != nil || id.UserID == old.UserID {
		t.Fatalf("newcomer login = %+v, %t, %v; want a new user (old id %d)", id, ok, err, old.UserID)
	}
	if got := authntest.Granted(t, lc.st, id, "repository:team/app:pull,push"); len(got) != 0 {
		t.Errorf("newcomer inherited %v on team", got)
	}
	retired, err := lc.st.GetUser(ctx, store.RetiredName("ivan", old.UserID))
	if err != nil || retired.ID != old.UserID || !retired.Disabled {
		t.Errorf("old account: %+v, %v; want it renamed and disabled", retired, err)
	}
	lc.check(t, "after the newcomer logged in", "ivan", refresh, pat, false)
	if _, ok, err := lc.pats.Login(ctx, store.RetiredName("ivan", old.UserID), pat); ok || err != nil {
		t.Errorf("old token under the retired name = %t, %v; want refused", ok, err)
	}
	// The newcomer's own credentials work.
	_, refresh2, pat2 := lc.login(t, "ivan", "ivan-pw2")
	lc.check(t, "newcomer's credentials", "ivan", refresh2, pat2, true)
}

// An entry that no longer matches user_search.filter loses its refresh
// tokens and personal tokens, within cache_ttl.
func TestLDAPRecheckFilter(t *testing.T) {
	s := testenv.Slapd(t)
	const ttl = 400 * time.Millisecond
	lc := newLifecycle(t, s, withCache(ttl), func(c *config.LDAP) {
		c.UserSearch.Filter = "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))"
	})
	_, refresh, pat := lc.login(t, "fran", "fran-pw")
	lc.check(t, "before", "fran", refresh, pat, true)
	m := ldap.NewModifyRequest(lifecycleDN("fran"), nil)
	m.Replace("employeeType", []string{"disabled"})
	if err := s.Root(t).Modify(m); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	lc.check(t, "excluded by the filter, cache_ttl later", "fran", refresh, pat, false)
	if _, ok, err := lc.chain.Login(t.Context(), "fran", "fran-pw"); ok || err != nil {
		t.Errorf("password login = %t, %v; want refused", ok, err)
	}
}

// A password changed in the directory (pwdChangedTime, kept by the ppolicy
// overlay) ends the refresh tokens and personal tokens issued before.
func TestLDAPRecheckPasswordChanged(t *testing.T) {
	s := testenv.Slapd(t)
	lc := newLifecycle(t, s)
	_, refresh, pat := lc.login(t, "paula", "paula-pw")
	lc.check(t, "before", "paula", refresh, pat, true)
	time.Sleep(1100 * time.Millisecond) // pwdChangedTime has whole seconds
	m := ldap.NewModifyRequest(lifecycleDN("paula"), nil)
	m.Replace("userPassword", []string{"paula-pw2"})
	if err := s.Root(t).Modify(m); err != nil {
		t.Fatal(err)
	}
	lc.check(t, "password changed", "paula", refresh, pat, false)
	// Credentials issued with the new password (in the same second) work.
	_, refresh2, pat2 := lc.login(t, "paula", "paula-pw2")
	lc.check(t, "new credentials", "paula", refresh2, pat2, true)
}

// A directory outage during the re-check is 503 (ErrUnavailable): never a
// refusal, never a silent pass.
func TestLDAPRecheckOutage(t *testing.T) {
	s := testenv.NewSlapd(t)
	lc := newLifecycle(t, s, withTimeout(time.Second))
	_, refresh, pat := lc.login(t, "otto", "otto-pw")
	lc.check(t, "before", "otto", refresh, pat, true)
	s.Stop()
	if _, ok, err := lc.refresh.Redeem(t.Context(), refresh, "registry", "docker"); ok || !errors.Is(err, authn.ErrUnavailable) {
		t.Errorf("refresh grant during outage = %t, %v; want ErrUnavailable", ok, err)
	}
	if _, ok, err := lc.pats.Login(t.Context(), "otto", pat); ok || !errors.Is(err, authn.ErrUnavailable) {
		t.Errorf("personal token during outage = %t, %v; want ErrUnavailable", ok, err)
	}
}
