//go:build integration

package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/testenv"
)

// TestActiveDirectory runs authserver against a real Active Directory: a
// Samba 4 AD domain controller provisioned for the test process
// (testenv.Samba), over ldaps with a certificate made at test time, the
// search account bound by its user principal name, Active Directory's
// filter (disabled accounts excluded), sAMAccountName, nested groups and an
// admin group. Each subtest has users of its own in the test's OU; the
// outage subtest stops the DC, so it runs after the others.
func TestActiveDirectory(t *testing.T) {
	t.Parallel()
	s := testenv.Samba(t)
	ou := s.AddOU(t, "e2e-ad")
	w := &adWorld{s: s, ou: ou}

	// ada is in "Platform Team", which is in "Registry Admins": a
	// sysadmin through a nested group, found with one chained search.
	ada := w.user(t, "ada", map[string][]string{"mail": {"ada@example.org"}, "displayName": {"Ada Admin"}})
	team := s.AddGroup(t, ou, "Platform Team", ada)
	s.AddGroup(t, ou, "Registry Admins", team)

	w.a = newOpsServer(t, opsOptions{extra: "api:\n  enabled: true\n" +
		adSection(s, ou, s.URL(), testenv.SambaAdminUPN, adCacheTTL, "")})
	w.a.start(t)
	w.a.cli(t, "project", "create", "adteam")

	t.Run("domain", func(t *testing.T) {
		t.Run("UPN and down-level bind names", w.testBindNames)
		t.Run("nested admin group", w.testAdminGroup)
		t.Run("disabled", w.testDisabled)
		t.Run("expired", w.testExpired)
		t.Run("locked out", w.testLockedOut)
		t.Run("must change password", w.testMustChange)
		t.Run("password change with the cache warm", w.testPasswordChange)
		t.Run("deleted and re-created", w.testRecreated)
		t.Run("TLS required", w.testTLSRequired)
	})
	t.Run("outage", w.testOutage)
}

// bind_dn as a user principal name (the server's config) and as a
// down-level logon name (ldap test with that config) both bind.
func (w *adWorld) testBindNames(t *testing.T) {
	t.Parallel()
	w.user(t, "bea")
	if st := w.token(t, "bea", "bea-pw"); st != http.StatusOK {
		t.Fatalf("login with bind_dn %s: %d", testenv.SambaAdminUPN, st)
	}
	down := w.withConfig(t, adSection(w.s, w.ou, w.s.URL(), testenv.SambaDomain+`\Administrator`, adCacheTTL, ""))
	r := down.tryCLI("bea-pw\n", "ldap", "test", "--user", "bea", "--password-stdin")
	if r.err != nil || !strings.Contains(r.stdout, `bound as EXAMPLE\Administrator`) || !strings.Contains(r.stdout, "password: accepted") {
		t.Fatalf("ldap test with bind_dn EXAMPLE\\Administrator:\n%s", r)
	}
	// StartTLS on ldap://389 works as well as ldaps.
	starttls := w.withConfig(t, adSection(w.s, w.ou, w.s.PlainURL(), testenv.SambaAdminUPN, adCacheTTL, "  start_tls: true\n"))
	if r := starttls.tryCLI("bea-pw\n", "ldap", "test", "--user", "bea", "--password-stdin"); r.err != nil ||
		!strings.Contains(r.stdout, "(starttls)") || !strings.Contains(r.stdout, "password: accepted") {
		t.Fatalf("ldap test over StartTLS:\n%s", r)
	}
}

// A member of the admin group through a nested group is a sysadmin, and
// the Harbor API says so as Harbor does: admin_role_in_auth. user list and
// the API show the entry's objectGUID as Active Directory writes it, and
// ldap test shows the primary group is not followed.
func (w *adWorld) testAdminGroup(t *testing.T) {
	t.Parallel()
	r := w.ldapTest("ada", "ada-pw")
	for _, want := range []string{"Platform Team", "Registry Admins", "sysadmin: yes", "account:  ok",
		"primaryGroupID 513", "not followed", "password: accepted"} {
		if r.err != nil || !strings.Contains(r.stdout, want) {
			t.Fatalf("ldap test --user ada lacks %q:\n%s", want, r)
		}
	}
	if st := w.token(t, "ada", "ada-pw"); st != http.StatusOK {
		t.Fatalf("ada's login: %d", st)
	}
	cur := w.api(t, http.MethodGet, "/api/v2.0/users/current", "ada", "ada-pw", "")
	var u struct {
		Username        string `json:"username"`
		Sysadmin        bool   `json:"sysadmin_flag"`
		AdminRoleInAuth bool   `json:"admin_role_in_auth"`
		DirectoryID     string `json:"directory_id"`
	}
	if err := json.Unmarshal(cur.body, &u); cur.status != http.StatusOK || err != nil {
		t.Fatalf("GET /users/current: %d %s", cur.status, cur.body)
	}
	guid := w.sambaShow(t, "ada", "objectGUID")
	if u.Sysadmin || !u.AdminRoleInAuth || u.DirectoryID != "objectGUID:"+guid {
		t.Errorf("GET /users/current = %s; want sysadmin_flag false, admin_role_in_auth true, directory_id objectGUID:%s", cur.body, guid)
	}
	// The API treats her as the sysadmin it says she is.
	if r := w.api(t, http.MethodGet, "/api/v2.0/users", "ada", "ada-pw", ""); r.status != http.StatusOK {
		t.Errorf("GET /users as a directory admin: %d %s", r.status, r.body)
	}
	if out := w.a.cli(t, "user", "list"); !strings.Contains(out, "objectGUID:"+guid) {
		t.Errorf("user list lacks ada's objectGUID %s:\n%s", guid, out)
	}
	// A directory group whose name has spaces is mapped by its name.
	out := w.a.cli(t, "member", "add", "adteam", "--group", "Platform Team", "--role", "developer")
	if !strings.Contains(out, "group Platform-Team created from directory group CN=Platform Team,"+w.ou) {
		t.Errorf("member add --group \"Platform Team\":\n%s", out)
	}
	w.a.cli(t, "member", "add", "adteam", "--group", "Platform Team", "--role", "maintainer")
}

// A disabled account (userAccountControl ACCOUNTDISABLE, which the filter
// excludes) loses its password, refresh token and PAT; ldap test says why
// no entry matches.
func (w *adWorld) testDisabled(t *testing.T) {
	t.Parallel()
	dn := w.user(t, "dora")
	c := w.creds(t, "dora")
	w.want(t, "enabled", c, "dora-pw", http.StatusOK)
	w.s.Modify(t, dn, map[string][]string{"userAccountControl": {"514"}})
	afterCache()
	w.want(t, "disabled", c, "dora-pw", http.StatusUnauthorized)
	r := w.ldapTest("dora", "dora-pw")
	if r.err == nil || !strings.Contains(r.stdout, "user_search.filter excludes it: account disabled") {
		t.Errorf("ldap test of a disabled account:\n%s", r)
	}
}

// An expired account (accountExpires in the past) loses all three; 0 and
// 9223372036854775807 mean never.
func (w *adWorld) testExpired(t *testing.T) {
	t.Parallel()
	dn := w.user(t, "eve", map[string][]string{"accountExpires": {"0"}})
	c := w.creds(t, "eve")
	w.want(t, "accountExpires 0 (never)", c, "eve-pw", http.StatusOK)
	w.s.Modify(t, dn, map[string][]string{"accountExpires": {"9223372036854775807"}})
	afterCache()
	w.want(t, "accountExpires never", c, "eve-pw", http.StatusOK)
	w.s.Modify(t, dn, map[string][]string{"accountExpires": {testenv.FileTime(time.Now().Add(-time.Minute))}})
	afterCache()
	w.want(t, "expired", c, "eve-pw", http.StatusUnauthorized)
	r := w.ldapTest("eve", "eve-pw")
	if r.err == nil || !strings.Contains(r.stdout, "account expired") {
		t.Errorf("ldap test of an expired account:\n%s", r)
	}
	if !strings.Contains(w.a.log(), `reason="account expired`) {
		t.Errorf("the log does not say the account expired")
	}
}

// A locked-out account (lockoutTime within the lockout window: the DC's
// computed LOCKOUT bit) loses all three until an administrator unlocks it;
// then the same refresh token and PAT work again.
func (w *adWorld) testLockedOut(t *testing.T) {
	t.Parallel()
	dn := w.user(t, "lou")
	c := w.creds(t, "lou")
	w.want(t, "before", c, "lou-pw", http.StatusOK)
	for range testenv.SambaLockoutThreshold {
		conn, err := ldap.DialURL("ldaps://localhost", ldap.DialWithTLSConfig(w.s.TLSConfig()))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.Bind(dn, "not-lous-password")
		conn.Close()
	}
	afterCache()
	w.want(t, "locked out", c, "lou-pw", http.StatusUnauthorized)
	r := w.ldapTest("lou", "lou-pw")
	if r.err == nil || !strings.Contains(r.stdout, "account locked out") || !strings.Contains(r.stdout, "AD data 775") {
		t.Errorf("ldap test of a locked-out account:\n%s", r)
	}
	w.s.Modify(t, dn, map[string][]string{"lockoutTime": {"0"}})
	afterCache()
	w.want(t, "unlocked", c, "lou-pw", http.StatusOK)
}

// An account that must change its password (pwdLastSet 0) loses all three.
func (w *adWorld) testMustChange(t *testing.T) {
	t.Parallel()
	dn := w.user(t, "max")
	c := w.creds(t, "max")
	w.want(t, "before", c, "max-pw", http.StatusOK)
	w.s.Modify(t, dn, map[string][]string{"pwdLastSet": {"0"}})
	afterCache()
	w.want(t, "must change", c, "max-pw", http.StatusUnauthorized)
	r := w.ldapTest("max", "max-pw")
	if r.err == nil || !strings.Contains(r.stdout, "password must be changed") {
		t.Errorf("ldap test of an account that must change its password:\n%s", r)
	}
}

// After a password change, the old password still answers from the login
// cache for up to cache_ttl; a refresh token or PAT minted with it then
// carries the time the directory last verified that password (before the
// change), so the next re-check refuses it. Credentials minted with the new
// password work. A server of its own, with a cache_ttl long enough that the
// old password surely comes from the cache.
func (w *adWorld) testPasswordChange(t *testing.T) {
	t.Parallel()
	dn := w.user(t, "pia")
	a := newOpsServer(t, opsOptions{extra: "api:\n  enabled: true\n" +
		adSection(w.s, w.ou, w.s.URL(), testenv.SambaAdminUPN, time.Minute, "")})
	a.start(t)
	pw := &adWorld{s: w.s, ou: w.ou, a: a}
	if st := pw.token(t, "pia", "pia-pw"); st != http.StatusOK { // the bind that warms the cache
		t.Fatalf("first login: %d", st)
	}
	w.s.SetPassword(t, dn, "pia-new-pw")
	// Minted after the change, from the login cache (the DC refuses the
	// old password at once: old password allowed period = 0).
	old := adCreds{user: "pia", rt: pw.refreshToken(t, "pia", "pia-pw"), pat: pw.pat(t, "pia", "pia-pw", "old")}
	// The first re-check asks the directory (nothing looked pia up yet):
	// pwdLastSet is after the time the old password was verified.
	if got := pw.redeem(t, old.rt); got != http.StatusUnauthorized {
		t.Errorf("refresh token minted with the old password after the change: %d, want 401", got)
	}
	if got := pw.token(t, "pia", old.pat); got != http.StatusUnauthorized {
		t.Errorf("PAT minted with the old password after the change: %d, want 401", got)
	}
	// The DC refuses the old password itself (old password allowed period = 0).
	if r := pw.ldapTest("pia", "pia-pw"); r.err == nil || !strings.Contains(r.stdout, "refused") {
		t.Errorf("ldap test with the old password:\n%s", r)
	}
	fresh := adCreds{user: "pia", rt: pw.refreshToken(t, "pia", "pia-new-pw"), pat: pw.pat(t, "pia", "pia-new-pw", "new")}
	pw.want(t, "minted with the new password", fresh, "pia-new-pw", http.StatusOK)
}

// An account deleted and re-created under the same sAMAccountName is a new
// person (a new objectGUID): the old one's credentials die, the newcomer is
// onboarded as a new user and inherits nothing.
func (w *adWorld) testRecreated(t *testing.T) {
	t.Parallel()
	dn := w.user(t, "rex")
	c := w.creds(t, "rex")
	w.want(t, "before", c, "rex-pw", http.StatusOK)
	w.a.cli(t, "member", "add", "adteam", "--user", "rex", "--role", "developer")
	oldGUID := w.sambaShow(t, "rex", "objectGUID")
	if err := w.s.Admin(t).Del(ldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatal(err)
	}
	w.user(t, "rex")
	afterCache()
	if got := w.redeem(t, c.rt); got != http.StatusUnauthorized {
		t.Errorf("old rex's refresh token: %d, want 401", got)
	}
	if got := w.token(t, "rex", c.pat); got != http.StatusUnauthorized {
		t.Errorf("old rex's PAT: %d, want 401", got)
	}
	// The newcomer logs in (same password) as a new user with no role.
	rep := w.a.getToken(t, "rex", "rex-pw", "service=harbor-registry&scope=repository:adteam/app:pull")
	if tok := wantToken(t, rep); strings.Count(tok, ".") != 2 {
		t.Fatalf("token %q", tok)
	}
	if strings.Contains(string(rep.body), `"actions":["pull"]`) {
		t.Errorf("the newcomer inherited old rex's role")
	}
	out := w.a.cli(t, "user", "list")
	newGUID := w.sambaShow(t, "rex", "objectGUID")
	if newGUID == oldGUID || !strings.Contains(out, "objectGUID:"+newGUID) || !strings.Contains(out, "rex#") {
		t.Errorf("user list after rex was re-created (old %s, new %s):\n%s", oldGUID, newGUID, out)
	}
}

// Plain ldap:// to a DC: every simple bind is refused for lack of TLS, and
// the log, /readyz and ldap test say so.
func (w *adWorld) testTLSRequired(t *testing.T) {
	t.Parallel()
	w.user(t, "tia")
	a := newOpsServer(t, opsOptions{extra: adSection(w.s, w.ou, w.s.PlainURL(), testenv.SambaAdminUPN, adCacheTTL, "")})
	a.start(t)
	const msg = "the server requires TLS: use ldaps:// or start_tls"
	if rep := a.getToken(t, "tia", "tia-pw", "service=harbor-registry"); rep.status != http.StatusServiceUnavailable {
		t.Errorf("login over plain ldap://: %d, want 503", rep.status)
	}
	a.waitLog(t, msg, 1)
	status, body := getBody(t, a.url+"/readyz")
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "ldap: "+msg) {
		t.Errorf("/readyz: %d %s; want 503 saying %q", status, body, msg)
	}
	if r := a.tryCLI("tia-pw\n", "ldap", "test", "--user", "tia", "--password-stdin"); r.err == nil || !strings.Contains(r.stdout, msg) {
		t.Errorf("ldap test over plain ldap://:\n%s", r)
	}
}

// With the DC down, directory logins and re-checks are 503, never 401; they
// work again when it is back.
func (w *adWorld) testOutage(t *testing.T) {
	w.user(t, "otto")
	c := w.creds(t, "otto")
	afterCache()
	w.s.Stop()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			if err := w.s.Start(); err != nil {
				t.Errorf("restart samba: %v", err)
			}
		}
	})
	w.want(t, "DC down", c, "otto-pw", http.StatusServiceUnavailable)
	if err := w.s.Start(); err != nil {
		t.Fatalf("restart samba: %v", err)
	}
	restarted = true
	w.want(t, "DC back", c, "otto-pw", http.StatusOK)
}
