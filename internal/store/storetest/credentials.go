package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// day0 is a fixed time for credential rows, at stored precision.
var day0 = time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC)

func mustRefresh(t *testing.T, s store.Store, userID int64, hash string, created time.Time) store.RefreshToken {
	t.Helper()
	rt := store.RefreshToken{UserID: userID, Hash: hash, Service: "registry", ClientID: "docker", CreatedAt: created}
	if err := s.CreateRefreshToken(t.Context(), &rt); err != nil {
		t.Fatalf("CreateRefreshToken(%s): %v", hash, err)
	}
	return rt
}

func testRefreshTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustUser(t, s, "alice")
	bob := mustUser(t, s, "bob")

	a1 := mustRefresh(t, s, alice.ID, "hash-a1", day0)
	if a1.ID == 0 || a1.User != "alice" || !a1.LastUsedAt.Equal(day0) || !a1.CreatedAt.Equal(day0) {
		t.Errorf("CreateRefreshToken wrote back %+v", a1)
	}
	a2 := mustRefresh(t, s, alice.ID, "hash-a2", day0.Add(time.Hour))
	mustRefresh(t, s, bob.ID, "hash-b1", time.Time{})
	// A token minted from a directory password keeps when it was verified.
	verified := store.RefreshToken{UserID: bob.ID, Hash: "hash-b2", Service: "registry", CreatedAt: day0,
		PasswordVerifiedAt: day0.Add(-time.Minute)}
	if err := s.CreateRefreshToken(ctx, &verified); err != nil {
		t.Fatalf("CreateRefreshToken(verified): %v", err)
	}
	if got, err := s.GetRefreshToken(ctx, "hash-b2"); err != nil || !got.PasswordVerifiedAt.Equal(day0.Add(-time.Minute)) {
		t.Errorf("GetRefreshToken(verified) = %+v, %v; want PasswordVerifiedAt kept", got, err)
	}
	if err := s.DeleteRefreshToken(ctx, "bob", verified.ID); err != nil {
		t.Fatalf("DeleteRefreshToken(verified): %v", err)
	}

	got, err := s.GetRefreshToken(ctx, "hash-a1")
	if err != nil || got != a1 {
		t.Errorf("GetRefreshToken = %+v, %v; want %+v", got, err, a1)
	}
	_, err = s.GetRefreshToken(ctx, "nope")
	wantErr(t, "GetRefreshToken(missing)", err, store.ErrNotFound)
	err = s.CreateRefreshToken(ctx, &store.RefreshToken{UserID: bob.ID, Hash: "hash-a1", Service: "registry"})
	wantErr(t, "CreateRefreshToken(duplicate hash)", err, store.ErrAlreadyExists)
	err = s.CreateRefreshToken(ctx, &store.RefreshToken{UserID: 999999, Hash: "hash-x", Service: "registry"})
	wantErr(t, "CreateRefreshToken(missing user)", err, store.ErrNotFound)

	// Touching a1 makes it the most recently used.
	used := day0.Add(48 * time.Hour)
	if err := s.TouchRefreshToken(ctx, a1.ID, used); err != nil {
		t.Fatalf("TouchRefreshToken: %v", err)
	}
	wantErr(t, "TouchRefreshToken(missing)", s.TouchRefreshToken(ctx, 999999, used), store.ErrNotFound)
	list, err := s.ListRefreshTokens(ctx, "alice")
	if err != nil || len(list) != 2 || list[0].ID != a1.ID || !list[0].LastUsedAt.Equal(used) || list[1].ID != a2.ID {
		t.Errorf("ListRefreshTokens = %+v, %v; want a1 (touched) then a2", list, err)
	}
	_, err = s.ListRefreshTokens(ctx, "ghost")
	wantErr(t, "ListRefreshTokens(missing user)", err, store.ErrNotFound)

	wantErr(t, "DeleteRefreshToken(other user's)", s.DeleteRefreshToken(ctx, "bob", a1.ID), store.ErrNotFound)
	if err := s.DeleteRefreshToken(ctx, "alice", a1.ID); err != nil {
		t.Fatalf("DeleteRefreshToken: %v", err)
	}
	if _, err := s.GetRefreshToken(ctx, "hash-a1"); err == nil {
		t.Errorf("deleted refresh token still found")
	}
	n, err := s.DeleteRefreshTokens(ctx, "alice")
	if err != nil || n != 1 {
		t.Errorf("DeleteRefreshTokens = %d, %v; want 1", n, err)
	}
	_, err = s.DeleteRefreshTokens(ctx, "ghost")
	wantErr(t, "DeleteRefreshTokens(missing user)", err, store.ErrNotFound)
	if l, _ := s.ListRefreshTokens(ctx, "bob"); len(l) != 1 {
		t.Errorf("bob's token affected by alice's revocation: %+v", l)
	}
}

// testRefreshRevocation checks that the store revokes nothing by itself
// when a user changes (revocation is internal/admin's one rule: a second
// home in the schema is how the two would drift), and that the admin's
// tools for it, DeleteRefreshTokens and DeletePersonalTokens, remove every
// token of one user and no one else's. Deleting a user takes its tokens.
func testRefreshRevocation(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "carol")
	other := mustUser(t, s, "dan")
	count := func(user string) (refresh, pats int) {
		t.Helper()
		rl, err := s.ListRefreshTokens(ctx, user)
		if err != nil {
			t.Fatalf("ListRefreshTokens: %v", err)
		}
		pl, err := s.ListPersonalTokens(ctx, user)
		if err != nil {
			t.Fatalf("ListPersonalTokens: %v", err)
		}
		return len(rl), len(pl)
	}
	pat := func(user, name string) {
		t.Helper()
		if err := s.CreatePersonalToken(ctx, &store.PersonalToken{User: user, Name: name, Hash: user + "-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	mustRefresh(t, s, u.ID, "rev-1", time.Time{})
	mustRefresh(t, s, u.ID, "rev-2", time.Time{})
	mustRefresh(t, s, other.ID, "rev-dan", time.Time{})
	pat("carol", "laptop")
	pat("carol", "ci")
	pat("dan", "laptop")
	for _, change := range []struct {
		name string
		fn   func(u *store.User)
	}{
		{name: "email", fn: func(u *store.User) { u.Email = "new@example.org" }},
		{name: "admin flag", fn: func(u *store.User) { u.Admin = true }},
		{name: "password", fn: func(u *store.User) { u.PasswordHash = "$2a$10$new" }},
		{name: "disable", fn: func(u *store.User) { u.Disabled = true }},
		{name: "enable", fn: func(u *store.User) { u.Disabled = false }},
	} {
		if _, err := s.ModifyUser(ctx, "carol", func(u store.User) (store.User, error) { change.fn(&u); return u, nil }); err != nil {
			t.Fatalf("ModifyUser(%s): %v", change.name, err)
		}
		if r, p := count("carol"); r != 2 || p != 2 {
			t.Errorf("after a %s change: %d refresh and %d personal tokens, want 2 and 2 (the store revokes nothing by itself)", change.name, r, p)
		}
	}
	if n, err := s.DeletePersonalTokens(ctx, "carol"); err != nil || n != 2 {
		t.Errorf("DeletePersonalTokens = %d, %v; want 2", n, err)
	}
	if r, p := count("carol"); r != 2 || p != 0 {
		t.Errorf("after DeletePersonalTokens: %d refresh and %d personal tokens, want 2 and 0", r, p)
	}
	if n, err := s.DeletePersonalTokens(ctx, "carol"); err != nil || n != 0 {
		t.Errorf("DeletePersonalTokens again = %d, %v; want 0", n, err)
	}
	_, err := s.DeletePersonalTokens(ctx, "ghost")
	wantErr(t, "DeletePersonalTokens(missing user)", err, store.ErrNotFound)
	if r, p := count("dan"); r != 1 || p != 1 {
		t.Errorf("dan's tokens affected by carol's revocation: %d refresh, %d personal", r, p)
	}
	wantCascade(t, "refresh token", "user", func() error { return s.DeleteUser(ctx, "carol") },
		func() error { _, err := s.GetRefreshToken(ctx, "rev-1"); return err })
}

// testRefreshTokenCap checks MaxRefreshTokensPerUser: the least recently
// used go first.
func testRefreshTokenCap(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "dave")
	for i := range store.MaxRefreshTokensPerUser + 1 {
		mustRefresh(t, s, u.ID, fmt.Sprintf("cap-%03d", i), day0.Add(time.Duration(i)*time.Minute))
	}
	list, err := s.ListRefreshTokens(ctx, "dave")
	if err != nil || len(list) != store.MaxRefreshTokensPerUser {
		t.Fatalf("ListRefreshTokens: %d tokens, %v; want %d", len(list), err, store.MaxRefreshTokensPerUser)
	}
	if _, err := s.GetRefreshToken(ctx, "cap-000"); err == nil {
		t.Errorf("the least recently used token was kept")
	}
	if list[0].Hash != fmt.Sprintf("cap-%03d", store.MaxRefreshTokensPerUser) {
		t.Errorf("newest token missing: first is %s", list[0].Hash)
	}
}

func testPersonalTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	expires := day0.Add(90 * 24 * time.Hour)
	laptop := store.PersonalToken{User: "alice", Name: "laptop", Hash: "p1", CreatedAt: day0, ExpiresAt: expires,
		PasswordVerifiedAt: day0.Add(-time.Minute)}
	if err := s.CreatePersonalToken(ctx, &laptop); err != nil {
		t.Fatalf("CreatePersonalToken: %v", err)
	}
	if laptop.ID == 0 || laptop.UserID == 0 || !laptop.CreatedAt.Equal(day0) {
		t.Errorf("CreatePersonalToken wrote back %+v", laptop)
	}
	ci := store.PersonalToken{User: "alice", Name: "ci", Hash: "p2"}
	if err := s.CreatePersonalToken(ctx, &ci); err != nil {
		t.Fatalf("CreatePersonalToken: %v", err)
	}
	bobs := store.PersonalToken{User: "bob", Name: "laptop", Hash: "p3"} // same name, other user: fine
	if err := s.CreatePersonalToken(ctx, &bobs); err != nil {
		t.Fatalf("CreatePersonalToken(bob): %v", err)
	}
	createPAT := func(tok store.PersonalToken) func() error {
		return func() error { return s.CreatePersonalToken(ctx, &tok) }
	}
	wantErrs(t, []errCase{
		{name: "missing user", call: createPAT(store.PersonalToken{User: "ghost", Name: "x", Hash: "x1"}), want: store.ErrNotFound},
		{name: "duplicate name", call: createPAT(store.PersonalToken{User: "alice", Name: "laptop", Hash: "x2"}), want: store.ErrAlreadyExists},
		{name: "duplicate hash", call: createPAT(store.PersonalToken{User: "bob", Name: "y", Hash: "p1"}), want: store.ErrAlreadyExists},
	})

	got, err := s.GetPersonalToken(ctx, "p1")
	if err != nil || !reflect.DeepEqual(got, laptop) {
		t.Errorf("GetPersonalToken = %+v, %v; want %+v", got, err, laptop)
	}
	_, err = s.GetPersonalToken(ctx, "nope")
	wantErr(t, "GetPersonalToken(missing)", err, store.ErrNotFound)
	used := day0.Add(time.Hour)
	if err := s.TouchPersonalToken(ctx, laptop.ID, used); err != nil {
		t.Fatalf("TouchPersonalToken: %v", err)
	}
	wantErr(t, "TouchPersonalToken(missing)", s.TouchPersonalToken(ctx, 999999, used), store.ErrNotFound)
	list, err := s.ListPersonalTokens(ctx, "alice")
	if err != nil || len(list) != 2 || list[0].Name != "ci" || list[1].Name != "laptop" || !list[1].LastUsedAt.Equal(used) ||
		!list[0].LastUsedAt.IsZero() || !list[0].ExpiresAt.IsZero() || !list[1].ExpiresAt.Equal(expires) {
		t.Errorf("ListPersonalTokens = %+v, %v", list, err)
	}
	_, err = s.ListPersonalTokens(ctx, "ghost")
	wantErr(t, "ListPersonalTokens(missing user)", err, store.ErrNotFound)

	wantErr(t, "DeletePersonalToken(other user)", s.DeletePersonalToken(ctx, "bob", "ci"), store.ErrNotFound)
	if err := s.DeletePersonalToken(ctx, "alice", "ci"); err != nil {
		t.Fatalf("DeletePersonalToken: %v", err)
	}
	if _, err := s.GetPersonalToken(ctx, "p2"); err == nil {
		t.Errorf("deleted personal token still found")
	}
	wantCascade(t, "personal token", "user", func() error { return s.DeleteUser(ctx, "alice") },
		func() error { _, err := s.GetPersonalToken(ctx, "p1"); return err })
	if _, err := s.GetPersonalToken(ctx, "p3"); err != nil {
		t.Errorf("bob's token lost: %v", err)
	}
}
