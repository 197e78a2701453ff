package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

const ssoIssuer = "https://sso.example.org"

// testOIDCUsers checks onboarding by (issuer, sub), names never merged, and
// the OIDC groups synced at every sign-in granting project roles.
func testOIDCUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.GetOIDCUser(ctx, "olga"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetOIDCUser of a missing user: %v, want ErrNotFound", err)
	}
	mustUser(t, s, "local-lena")
	mustGroup(t, s, "ops", "") // a local group: a claim naming it is skipped
	mustProject(t, s, "team", false, groupAs("ops", store.RoleGuest))

	ou := store.OIDCUser{Name: "olga", Email: "olga@example.org", DisplayName: "Olga", Issuer: ssoIssuer, Subject: "sub-1",
		Groups: []string{"devs", "ops", "devs", "/platform/sre"}, Admin: true}
	u, sync, err := s.SyncOIDCUser(ctx, ou)
	if err != nil || !sync.Onboarded {
		t.Fatalf("first SyncOIDCUser: %+v, %v", sync, err)
	}
	skipped := sync.Skipped
	if u.ID == 0 || u.Source != store.SourceOIDC || u.Admin || u.PasswordHash != "" || u.Email != "olga@example.org" {
		t.Fatalf("onboarded %+v", u)
	}
	if !slices.Equal(skipped, []string{"ops"}) {
		t.Errorf("skipped %v, want [ops] (a local group of that name is never taken over)", skipped)
	}
	got, err := s.GetOIDCUser(ctx, "olga")
	if err != nil || got.Issuer != ssoIssuer || got.Subject != "sub-1" || !got.Admin || len(got.Groups) != 4 || got.SyncedAt.IsZero() {
		t.Fatalf("GetOIDCUser = %+v, %v", got, err)
	}
	devs, err := s.GetGroup(ctx, "devs")
	if err != nil || !devs.OIDC || devs.DN != "" {
		t.Fatalf("group devs = %+v, %v; want an OIDC group", devs, err)
	}
	if g, err := s.GetGroup(ctx, "ops"); err != nil || g.OIDC {
		t.Fatalf("local group ops became %+v, %v", g, err)
	}
	if names, err := s.UserGroups(ctx, "olga"); err != nil || !slices.Equal(names, []string{"/platform/sre", "devs"}) {
		t.Fatalf("UserGroups = %v, %v", names, err)
	}
	// A role given to the OIDC group applies through the membership.
	mustMember(t, s, "team", store.MemberGroup, "devs", store.RoleDeveloper)
	access, err := s.ProjectAccess(ctx, store.Principal{UserID: u.ID}, []string{"team"})
	if err != nil || len(access["team"].Grants) != 1 || access["team"].Grants[0] != (store.Grant{Role: store.RoleDeveloper, Group: "devs"}) {
		t.Fatalf("ProjectAccess = %+v, %v; want developer through devs", access, err)
	}

	// The next sign-in: the same (issuer, sub) under another name is the
	// same user; groups are replaced.
	ou2 := ou
	ou2.Name, ou2.Email, ou2.Groups, ou2.Admin = "olga-renamed", "o@example.org", []string{"qa"}, false
	u2, sync2, err := s.SyncOIDCUser(ctx, ou2)
	if err != nil || sync2.Onboarded || u2.ID != u.ID || u2.Name != "olga" || u2.Email != "o@example.org" {
		t.Fatalf("second SyncOIDCUser = %+v, %v; want the bound user, refreshed", u2, err)
	}
	if names, err := s.UserGroups(ctx, "olga"); err != nil || !slices.Equal(names, []string{"qa"}) {
		t.Fatalf("UserGroups after the second sign-in = %v, %v", names, err)
	}
	if access, err := s.ProjectAccess(ctx, store.Principal{UserID: u.ID}, []string{"team"}); err != nil || len(access["team"].Grants) != 0 {
		t.Fatalf("ProjectAccess after leaving devs = %+v, %v", access, err)
	}

	// A name of a local user, or of another person's SSO account: refused.
	for _, tc := range []struct{ name, sub string }{{"local-lena", "sub-2"}, {"olga", "sub-3"}} {
		_, _, err := s.SyncOIDCUser(ctx, store.OIDCUser{Name: tc.name, Issuer: ssoIssuer, Subject: tc.sub})
		if !errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("SyncOIDCUser(%s, %s): %v, want ErrAlreadyExists", tc.name, tc.sub, err)
		}
	}
	if lu, err := s.GetUser(ctx, "local-lena"); err != nil || lu.Source != store.SourceLocal {
		t.Errorf("the local user changed: %+v, %v", lu, err)
	}
	// Another issuer with the same sub is another person.
	if _, _, err := s.SyncOIDCUser(ctx, store.OIDCUser{Name: "olga", Issuer: "https://other.example.org", Subject: "sub-1"}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("same sub from another issuer: %v, want ErrAlreadyExists", err)
	}
}

// testSignIns checks sign-ins, web sessions, and that deleting a sign-in
// deletes what was minted from it.
func testSignIns(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "sam")
	now := time.Now().UTC().Truncate(time.Second)
	si := store.SignIn{UserID: u.ID, SignedInAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour), ProviderRefresh: []byte{1, 2, 3}}
	if err := s.CreateSignIn(ctx, &si); err != nil || si.ID == 0 || si.User != "sam" || !si.RecheckedAt.Equal(now) {
		t.Fatalf("CreateSignIn: %+v, %v", si, err)
	}
	bare := store.SignIn{UserID: u.ID, SignedInAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSignIn(ctx, &bare); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetSignIn(ctx, bare.ID); err != nil || got.ProviderRefresh != nil {
		t.Fatalf("sign-in without a provider token: %+v, %v", got, err)
	}
	if err := s.CreateSignIn(ctx, &store.SignIn{UserID: 99999, ExpiresAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSignIn for a missing user: %v, want ErrNotFound", err)
	}
	got, err := s.GetSignIn(ctx, si.ID)
	if err != nil || !got.ExpiresAt.Equal(si.ExpiresAt) || !bytes.Equal(got.ProviderRefresh, []byte{1, 2, 3}) || got.User != "sam" {
		t.Fatalf("GetSignIn = %+v, %v", got, err)
	}
	later := now.Add(time.Hour)
	if err := s.RecheckedSignIn(ctx, si.ID, nil, later); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSignIn(ctx, si.ID); !got.RecheckedAt.Equal(later) || !bytes.Equal(got.ProviderRefresh, []byte{1, 2, 3}) {
		t.Errorf("recheck without a new token: %+v", got)
	}
	if err := s.RecheckedSignIn(ctx, si.ID, []byte{4}, later); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSignIn(ctx, si.ID); !bytes.Equal(got.ProviderRefresh, []byte{4}) {
		t.Errorf("recheck with a new token: %+v", got)
	}
	if err := s.RecheckedSignIn(ctx, 99999, nil, later); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RecheckedSignIn of a missing sign-in: %v", err)
	}

	w := store.WebSession{Hash: "web-hash", SignInID: si.ID, UserID: u.ID, CSRF: "csrf", ExpiresAt: now.Add(8 * time.Hour)}
	if err := s.CreateWebSession(ctx, &w); err != nil || w.ID == 0 {
		t.Fatalf("CreateWebSession: %+v, %v", w, err)
	}
	if err := s.CreateWebSession(ctx, &store.WebSession{Hash: "web-hash", SignInID: si.ID, UserID: u.ID, ExpiresAt: now}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("a second session with the hash: %v, want ErrAlreadyExists", err)
	}
	gw, err := s.GetWebSession(ctx, "web-hash")
	if err != nil || gw.User != "sam" || gw.CSRF != "csrf" || gw.SignInID != si.ID || !gw.ExpiresAt.Equal(w.ExpiresAt) {
		t.Fatalf("GetWebSession = %+v, %v", gw, err)
	}

	// Credentials minted from the sign-in carry it and its expiry.
	rt := store.RefreshToken{UserID: u.ID, Hash: "rt-sso", Service: "registry", ClientID: "authserver", SignInID: si.ID, ExpiresAt: si.ExpiresAt}
	if err := s.CreateRefreshToken(ctx, &rt); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRefreshToken(ctx, "rt-sso"); err != nil || got.SignInID != si.ID || !got.ExpiresAt.Equal(si.ExpiresAt) {
		t.Fatalf("refresh token from a sign-in = %+v, %v", got, err)
	}
	plain := mustRefresh(t, s, u.ID, "rt-plain", now)
	if got, _ := s.GetRefreshToken(ctx, "rt-plain"); got.SignInID != 0 || !got.ExpiresAt.IsZero() {
		t.Errorf("a plain refresh token reads %+v", got)
	}
	pat := store.PersonalToken{User: "sam", Name: "laptop", Hash: "pat-sso", ExpiresAt: si.ExpiresAt, SignInID: si.ID}
	if err := s.CreatePersonalToken(ctx, &pat); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetPersonalToken(ctx, "pat-sso"); err != nil || got.SignInID != si.ID {
		t.Fatalf("PAT from a sign-in = %+v, %v", got, err)
	}

	if err := s.DeleteWebSession(ctx, "web-hash"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWebSession(ctx, "web-hash"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted web session: %v", err)
	}
	if err := s.DeleteWebSession(ctx, "web-hash"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting it again: %v", err)
	}
	w2 := store.WebSession{Hash: "web-2", SignInID: si.ID, UserID: u.ID, CSRF: "c", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateWebSession(ctx, &w2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSignIn(ctx, si.ID); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"sign-in":       errOf(s.GetSignIn(ctx, si.ID)),
		"web session":   errOf(s.GetWebSession(ctx, "web-2")),
		"refresh token": errOf(s.GetRefreshToken(ctx, "rt-sso")),
		"PAT":           errOf(s.GetPersonalToken(ctx, "pat-sso")),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after DeleteSignIn: %v, want ErrNotFound", what, err)
		}
	}
	if _, err := s.GetRefreshToken(ctx, plain.Hash); err != nil {
		t.Errorf("a token not minted from the sign-in went too: %v", err)
	}
	if err := s.DeleteSignIn(ctx, si.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteSignIn again: %v", err)
	}

	// What ended is pruned by the next sign-in or session: an ended
	// sign-in with its credentials, an expired session; nothing current.
	old := store.SignIn{UserID: u.ID, SignedInAt: now.Add(-48 * time.Hour), ExpiresAt: now.Add(-24 * time.Hour)}
	if err := s.CreateSignIn(ctx, &old); err != nil {
		t.Fatal(err)
	}
	oldRT := store.RefreshToken{UserID: u.ID, Hash: "rt-old", Service: "registry", SignInID: old.ID, ExpiresAt: old.ExpiresAt}
	if err := s.CreateRefreshToken(ctx, &oldRT); err != nil {
		t.Fatal(err)
	}
	stale := store.WebSession{Hash: "web-stale", SignInID: bare.ID, UserID: u.ID, CSRF: "c", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	if err := s.CreateWebSession(ctx, &stale); err != nil {
		t.Fatal(err)
	}
	next := store.SignIn{UserID: u.ID, SignedInAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSignIn(ctx, &next); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWebSession(ctx, &store.WebSession{Hash: "web-next", SignInID: next.ID, UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"ended sign-in":           errOf(s.GetSignIn(ctx, old.ID)),
		"its refresh token":       errOf(s.GetRefreshToken(ctx, "rt-old")),
		"expired browser session": errOf(s.GetWebSession(ctx, "web-stale")),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after the next sign-in and session: %v, want ErrNotFound", what, err)
		}
	}
	for what, err := range map[string]error{
		"current sign-in": errOf(s.GetSignIn(ctx, bare.ID)),
		"current session": errOf(s.GetWebSession(ctx, "web-next")),
	} {
		if err != nil {
			t.Errorf("%s was pruned: %v", what, err)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

// testDeviceCodes checks the device authorization states: pending, a
// decision once, a poll that sees the approval once, expiry.
func testDeviceCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "dora")
	now := time.Now().UTC().Truncate(time.Second)
	si := store.SignIn{UserID: u.ID, SignedInAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSignIn(ctx, &si); err != nil {
		t.Fatal(err)
	}
	d := store.DeviceCode{Hash: "dev-hash", UserCode: "BCDFGHJK", ClientID: "authserver-cli", Scope: "repository:team/app:pull",
		Service: "registry", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute), Interval: 5 * time.Second}
	if err := s.CreateDeviceCode(ctx, &d); err != nil || d.ID == 0 || d.Status != store.DevicePending {
		t.Fatalf("CreateDeviceCode: %+v, %v", d, err)
	}
	dup := d
	dup.Hash = "other"
	if err := s.CreateDeviceCode(ctx, &dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("a second request with the user code: %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetDeviceCode(ctx, "BCDFGHJK")
	if err != nil || got.ClientID != "authserver-cli" || got.Scope != d.Scope || got.Service != "registry" ||
		got.Interval != 5*time.Second || got.Status != store.DevicePending || !got.LastPoll.IsZero() || got.UserID != 0 {
		t.Fatalf("GetDeviceCode = %+v, %v", got, err)
	}
	first, err := s.PollDeviceCode(ctx, "dev-hash", now.Add(time.Second))
	if err != nil || first.Status != store.DevicePending || !first.LastPoll.IsZero() {
		t.Fatalf("first poll = %+v, %v", first, err)
	}
	second, err := s.PollDeviceCode(ctx, "dev-hash", now.Add(7*time.Second))
	if err != nil || !second.LastPoll.Equal(now.Add(time.Second)) {
		t.Fatalf("second poll = %+v, %v; want the first poll's time", second, err)
	}
	dec, err := s.DecideDeviceCode(ctx, "BCDFGHJK", true, u.ID, si.ID, now.Add(10*time.Second))
	if err != nil || dec.Status != store.DeviceApproved || dec.User != "dora" || dec.SignInID != si.ID {
		t.Fatalf("DecideDeviceCode = %+v, %v", dec, err)
	}
	if _, err := s.DecideDeviceCode(ctx, "BCDFGHJK", false, u.ID, si.ID, now.Add(11*time.Second)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a second decision: %v, want ErrNotFound", err)
	}
	ok, err := s.PollDeviceCode(ctx, "dev-hash", now.Add(15*time.Second))
	if err != nil || ok.Status != store.DeviceApproved {
		t.Fatalf("poll after approval = %+v, %v", ok, err)
	}
	again, err := s.PollDeviceCode(ctx, "dev-hash", now.Add(20*time.Second))
	if err != nil || again.Status != store.DeviceUsed {
		t.Fatalf("poll after the approval was seen = %+v, %v; want used", again, err)
	}
	if _, err := s.PollDeviceCode(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("poll of an unknown code: %v", err)
	}

	// Expired: no decision; dropped when a later request is made.
	old := store.DeviceCode{Hash: "old-hash", UserCode: "ZZZZXXXX", ClientID: "c", CreatedAt: now.Add(-time.Hour),
		ExpiresAt: now.Add(-50 * time.Minute), Interval: 5 * time.Second}
	if err := s.CreateDeviceCode(ctx, &old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DecideDeviceCode(ctx, "ZZZZXXXX", true, u.ID, si.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deciding an expired request: %v, want ErrNotFound", err)
	}
	denied := store.DeviceCode{Hash: "deny-hash", UserCode: "MMMMNNNN", ClientID: "c", CreatedAt: now, ExpiresAt: now.Add(time.Minute), Interval: time.Second}
	if err := s.CreateDeviceCode(ctx, &denied); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDeviceCode(ctx, "ZZZZXXXX"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired request outlived a later CreateDeviceCode: %v", err)
	}
	if d, err := s.DecideDeviceCode(ctx, "MMMMNNNN", false, u.ID, si.ID, now); err != nil || d.Status != store.DeviceDenied {
		t.Fatalf("deny = %+v, %v", d, err)
	}
	if p, err := s.PollDeviceCode(ctx, "deny-hash", now.Add(time.Second)); err != nil || p.Status != store.DeviceDenied {
		t.Fatalf("poll after deny = %+v, %v", p, err)
	}
}

// testPendingLogins checks that a state is taken once and expires.
func testPendingLogins(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	l := store.PendingLogin{StateHash: "state-1", NonceHash: "nonce-1", Next: "/tokens", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := s.CreatePendingLogin(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePendingLogin(ctx, l); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("the same state twice: %v, want ErrAlreadyExists", err)
	}
	got, err := s.TakePendingLogin(ctx, "state-1", now.Add(time.Minute))
	if err != nil || got.NonceHash != "nonce-1" || got.Next != "/tokens" || !got.ExpiresAt.Equal(l.ExpiresAt) {
		t.Fatalf("TakePendingLogin = %+v, %v", got, err)
	}
	if _, err := s.TakePendingLogin(ctx, "state-1", now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("taking a state twice: %v, want ErrNotFound", err)
	}
	old := store.PendingLogin{StateHash: "state-2", NonceHash: "n", Next: "/", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := s.CreatePendingLogin(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakePendingLogin(ctx, "state-2", now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("taking an expired state: %v, want ErrNotFound", err)
	}
}
