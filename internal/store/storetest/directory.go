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
