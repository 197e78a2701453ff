//go:build integration

package ldap_test

import (
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/testenv"
)

// After a password change the login cache still accepts the old password
// for up to cache_ttl; a refresh token minted from such a login carries the
// time the directory verified the old password (before the change, here
// OpenLDAP's ppolicy pwdChangedTime), so the re-check refuses it. One
// minted with the new password works.
func TestLDAPOldPasswordFromCache(t *testing.T) {
	s := testenv.Slapd(t)
	dn := lifecycleDN("cora")
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{"cora"})
	add.Attribute("cn", []string{"Cora"})
	add.Attribute("sn", []string{"Cached"})
	add.Attribute("userPassword", []string{"cora-pw"})
	root := s.Root(t)
	if err := root.Add(add); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = root.Del(ldap.NewDelRequest(dn, nil)) })

	lc := newLifecycle(t, s, withCache(time.Minute))
	first, _, _ := lc.login(t, "cora", "cora-pw") // binds: the cache is warm
	if first.PasswordVerifiedAt.IsZero() {
		t.Fatal("a directory login carries no PasswordVerifiedAt")
	}
	time.Sleep(1100 * time.Millisecond) // pwdChangedTime has whole seconds
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace("userPassword", []string{"cora-pw2"})
	if err := root.Modify(m); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	id, refresh, _ := lc.login(t, "cora", "cora-pw") // from the cache
	if !id.PasswordVerifiedAt.Equal(first.PasswordVerifiedAt) {
		t.Errorf("cached login verified at %v, want the bind's time %v", id.PasswordVerifiedAt, first.PasswordVerifiedAt)
	}
	if _, ok, err := lc.refresh.Redeem(t.Context(), refresh, "registry", "docker"); ok || err != nil {
		t.Errorf("refresh token minted with the old password from the cache = %t, %v; want refused", ok, err)
	}
	_, refresh2, _ := lc.login(t, "cora", "cora-pw2")
	if _, ok, err := lc.refresh.Redeem(t.Context(), refresh2, "registry", "docker"); !ok || err != nil {
		t.Errorf("refresh token minted with the new password = %t, %v; want accepted", ok, err)
	}
}
