package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// testLDAPUsers checks onboarding, refresh and the last known groups.
func testLDAPUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.GetLDAPUser(ctx, "nina"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetLDAPUser of a missing user: %v, want ErrNotFound", err)
	}
	before := time.Now().Add(-time.Second)
	lu := store.LDAPUser{Name: "nina", Email: "nina@example.org", DisplayName: "Nina",
		DN: "uid=nina,ou=people,dc=example,dc=org", GroupDNs: []string{"cn=a,dc=example,dc=org", "CN=B,dc=example,dc=org"}, Admin: true}
	u, err := s.SyncLDAPUser(ctx, lu)
	if err != nil {
		t.Fatalf("first SyncLDAPUser: %v", err)
	}
	if u.ID == 0 || u.Name != "nina" || u.Source != store.SourceLDAP || u.PasswordHash != "" || u.Admin || u.Disabled ||
		u.Email != "nina@example.org" || u.DisplayName != "Nina" {
		t.Fatalf("onboarded user %+v", u)
	}
	if got, err := s.GetUser(ctx, "nina"); err != nil || got.Source != store.SourceLDAP || got.ID != u.ID {
		t.Fatalf("GetUser after onboarding: %+v, %v", got, err)
	}
	got, err := s.GetLDAPUser(ctx, "nina")
	if err != nil {
		t.Fatalf("GetLDAPUser: %v", err)
	}
	if got.SyncedAt.Before(before) || got.SyncedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("SyncedAt %v is not now", got.SyncedAt)
	}
	got.SyncedAt = time.Time{}
	if !reflect.DeepEqual(got, lu) {
		t.Errorf("GetLDAPUser = %+v, want %+v", got, lu)
	}

	// The operator's flags survive a later login; profile and groups are replaced.
	u.Disabled, u.Admin = true, true
	if err := s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	lu2 := store.LDAPUser{Name: "nina", Email: "n@example.org", DisplayName: "Nina N", DN: lu.DN}
	u2, err := s.SyncLDAPUser(ctx, lu2)
	if err != nil {
		t.Fatalf("second SyncLDAPUser: %v", err)
	}
	if u2.ID != u.ID || !u2.Disabled || !u2.Admin || u2.Email != "n@example.org" || u2.DisplayName != "Nina N" {
		t.Errorf("refreshed user %+v", u2)
	}
	got, err = s.GetLDAPUser(ctx, "nina")
	if err != nil || len(got.GroupDNs) != 0 || got.GroupDNs == nil || got.Admin {
		t.Errorf("after losing every group: %+v, %v; want an empty, non-nil list and admin false", got, err)
	}

	// A local account is never taken over.
	mustUser(t, s, "alice")
	_, err = s.SyncLDAPUser(ctx, store.LDAPUser{Name: "alice", DN: "uid=alice,dc=example,dc=org"})
	wantErr(t, "SyncLDAPUser over a local user", err, store.ErrAlreadyExists)
	if a, _ := s.GetUser(ctx, "alice"); a.Source != store.SourceLocal || a.Email != "alice@example.org" {
		t.Errorf("local user changed: %+v", a)
	}
	_, err = s.GetLDAPUser(ctx, "alice")
	wantErr(t, "GetLDAPUser of a local user", err, store.ErrNotFound)

	// Deleting the user deletes the record; a new login onboards afresh.
	if err := s.DeleteUser(ctx, "nina"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetLDAPUser(ctx, "nina")
	wantErr(t, "GetLDAPUser after DeleteUser", err, store.ErrNotFound)
	if u3, err := s.SyncLDAPUser(ctx, lu); err != nil || u3.Disabled || u3.ID == u.ID {
		t.Errorf("re-onboarding: %+v, %v", u3, err)
	}
}

// testLDAPUserAccess checks that an onboarded LDAP user holds direct
// memberships and gets group roles through the DNs it presents.
func testLDAPUserAccess(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, err := s.SyncLDAPUser(ctx, store.LDAPUser{Name: "lena", DN: "uid=lena,dc=example,dc=org"})
	if err != nil {
		t.Fatal(err)
	}
	mustProject(t, s, "team", false)
	mustProject(t, s, "other", false)
	mustGroup(t, s, "devs", "cn=Devs,ou=groups,dc=example,dc=org")
	mustMember(t, s, "team", store.MemberGroup, "devs", store.RoleDeveloper)
	mustMember(t, s, "other", store.MemberUser, "lena", store.RoleGuest)
	acc, err := s.ProjectAccess(ctx, store.Principal{UserID: u.ID, GroupDNs: []string{"CN=devs,OU=groups,DC=example,DC=org"}},
		[]string{"team", "other"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.ProjectAccess{
		"team":  {Name: "team", Grants: []store.Grant{{Role: store.RoleDeveloper, Group: "devs"}}},
		"other": {Name: "other", Grants: []store.Grant{{Role: store.RoleGuest}}},
	}
	if !reflect.DeepEqual(acc, want) {
		t.Errorf("ProjectAccess = %+v, want %+v", acc, want)
	}
}

// testLDAPEntryReplaced checks that a name taken over by another directory
// entry is another person: the old account is retired (renamed, disabled,
// its refresh tokens revoked, its memberships and tokens kept with it) and
// the newcomer starts as a new user, in one SyncLDAPUser.
func testLDAPEntryReplaced(t *testing.T, s store.Store) {
	ctx := t.Context()
	dn := "uid=ivan,ou=people,dc=example,dc=org"
	// A record from before identifiers were kept adopts the first one.
	old, err := s.SyncLDAPUser(ctx, store.LDAPUser{Name: "ivan", DN: dn})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"entryUUID:1111", "entryUUID:1111", "dn:" + dn, "entryUUID:1111"} {
		// The same identifier, or one of another attribute, is the same person.
		u, err := s.SyncLDAPUser(ctx, store.LDAPUser{Name: "ivan", DN: dn, EntryID: id})
		if err != nil || u.ID != old.ID {
			t.Fatalf("SyncLDAPUser(%s) = %+v, %v; want the same user %d", id, u, err, old.ID)
		}
	}
	if lu, err := s.GetLDAPUser(ctx, "ivan"); err != nil || lu.EntryID != "entryUUID:1111" {
		t.Fatalf("recorded entry id: %+v, %v", lu, err)
	}
	mustProject(t, s, "team", false)
	mustMember(t, s, "team", store.MemberUser, "ivan", store.RoleDeveloper)
	rt := store.RefreshToken{UserID: old.ID, Hash: "ivan-rt", Service: "registry"}
	if err := s.CreateRefreshToken(ctx, &rt); err != nil {
		t.Fatal(err)
	}
	pat := store.PersonalToken{User: "ivan", Name: "laptop", Hash: "ivan-pat"}
	if err := s.CreatePersonalToken(ctx, &pat); err != nil {
		t.Fatal(err)
	}

	u, err := s.SyncLDAPUser(ctx, store.LDAPUser{Name: "ivan", Email: "new@example.org", DN: dn, EntryID: "entryUUID:2222"})
	if err != nil {
		t.Fatalf("SyncLDAPUser(replaced entry): %v", err)
	}
	if u.ID == old.ID || u.Name != "ivan" || u.Disabled || u.Source != store.SourceLDAP || u.Email != "new@example.org" {
		t.Errorf("newcomer = %+v; want a new, enabled LDAP user ivan (old id %d)", u, old.ID)
	}
	retired := store.RetiredName("ivan", old.ID)
	if r, err := s.GetUser(ctx, retired); err != nil || r.ID != old.ID || !r.Disabled || r.Source != store.SourceLDAP {
		t.Errorf("retired account %s = %+v, %v; want the old user, disabled", retired, r, err)
	}
	if lu, err := s.GetLDAPUser(ctx, retired); err != nil || lu.EntryID != "entryUUID:1111" {
		t.Errorf("retired record: %+v, %v; want the old entry id kept", lu, err)
	}
	if lu, err := s.GetLDAPUser(ctx, "ivan"); err != nil || lu.EntryID != "entryUUID:2222" {
		t.Errorf("newcomer record: %+v, %v", lu, err)
	}
	_, err = s.GetRefreshToken(ctx, "ivan-rt")
	wantErr(t, "old refresh token", err, store.ErrNotFound)
	if p, err := s.GetPersonalToken(ctx, "ivan-pat"); err != nil || p.UserID != old.ID || p.User != retired {
		t.Errorf("old personal token: %+v, %v; want it kept by %s", p, err, retired)
	}
	acc, err := s.ProjectAccess(ctx, store.Principal{UserID: u.ID}, []string{"team"})
	if err != nil || len(acc["team"].Grants) != 0 {
		t.Errorf("newcomer inherited %+v, %v", acc["team"].Grants, err)
	}
	if ms, err := s.ListMembers(ctx, "team"); err != nil || len(ms) != 1 || ms[0].Name != retired {
		t.Errorf("members = %+v, %v; want only %s", ms, err, retired)
	}
}
