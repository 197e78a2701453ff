package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	bob := store.User{Name: "bob", Email: "bob@example.org", DisplayName: "Bob", PasswordHash: "$2a$10$x", Admin: true}
	if err := s.CreateUser(ctx, &bob); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if bob.ID == 0 || bob.CreatedAt.Before(before) || !bob.UpdatedAt.Equal(bob.CreatedAt) {
		t.Errorf("CreateUser did not write back ID and times: %+v", bob)
	}
	if bob.Source != store.SourceLocal {
		t.Errorf("empty Source stored as %q, want %q", bob.Source, store.SourceLocal)
	}
	alice := store.User{Name: "alice", Source: store.SourceLDAP, Disabled: true}
	if err := s.CreateUser(ctx, &alice); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	// Names are case-sensitive.
	upper := mustUser(t, s, "Bob")

	got, err := s.GetUser(ctx, "bob")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	assertUser(t, got, bob)

	list, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	var names []string
	for _, u := range list {
		names = append(names, u.Name)
	}
	if want := []string{"Bob", "alice", "bob"}; !slices.Equal(names, want) {
		t.Errorf("ListUsers names = %v, want %v (byte order)", names, want)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 3 {
		t.Errorf("CountUsers = %d, %v; want 3", n, err)
	}

	upd := bob
	upd.ID, upd.CreatedAt = 0, time.Time{} // ignored by UpdateUser
	upd.Email, upd.DisplayName, upd.PasswordHash = "b@example.com", "Robert", ""
	upd.Admin, upd.Disabled, upd.Source = false, true, store.SourceLDAP
	if err := s.UpdateUser(ctx, upd); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got, err = s.GetUser(ctx, "bob")
	if err != nil {
		t.Fatalf("GetUser after update: %v", err)
	}
	upd.ID, upd.CreatedAt, upd.UpdatedAt = bob.ID, bob.CreatedAt, got.UpdatedAt
	assertUser(t, got, upd)
	if got.UpdatedAt.Before(bob.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v < %v", got.UpdatedAt, bob.UpdatedAt)
	}
	if u, _ := s.GetUser(ctx, "Bob"); u.Email != upper.Email {
		t.Errorf("updating bob changed Bob: %+v", u)
	}

	if err := s.DeleteUser(ctx, "bob"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = s.GetUser(ctx, "bob")
	wantErr(t, "GetUser after delete", err, store.ErrNotFound)
	if n, err := s.CountUsers(ctx); err != nil || n != 2 {
		t.Errorf("CountUsers after delete = %d, %v; want 2", n, err)
	}
}

func assertUser(t *testing.T, got, want store.User) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("times = %v/%v, want %v/%v", got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	got.CreatedAt, got.UpdatedAt = want.CreatedAt, want.UpdatedAt
	if got != want {
		t.Errorf("user = %+v\nwant   %+v", got, want)
	}
}

func testUserErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	wantErrs(t, []errCase{
		{name: "duplicate create", want: store.ErrAlreadyExists,
			call: func() error { return s.CreateUser(ctx, &store.User{Name: "alice"}) }},
		{name: "get missing", want: store.ErrNotFound,
			call: func() error { _, err := s.GetUser(ctx, "nobody"); return err }},
		{name: "get other case", want: store.ErrNotFound,
			call: func() error { _, err := s.GetUser(ctx, "ALICE"); return err }},
		{name: "update missing", want: store.ErrNotFound,
			call: func() error { return s.UpdateUser(ctx, store.User{Name: "nobody"}) }},
		{name: "delete missing", want: store.ErrNotFound,
			call: func() error { return s.DeleteUser(ctx, "nobody") }},
		{name: "list empty is fine",
			call: func() error { _, err := s.ListUsers(ctx); return err }},
	})
}

func testProjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := store.Project{Name: "library", Public: true}
	if err := s.CreateProject(ctx, &p); err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	if p.ID == 0 || p.CreatedAt.IsZero() {
		t.Errorf("CreateProject did not write back ID and CreatedAt: %+v", p)
	}
	mustProject(t, s, "alpha", false)

	wantErrs(t, []errCase{
		{name: "duplicate create", want: store.ErrAlreadyExists,
			call: func() error { return s.CreateProject(ctx, &store.Project{Name: "library"}) }},
		{name: "get missing", want: store.ErrNotFound,
			call: func() error { _, err := s.GetProject(ctx, "nope"); return err }},
		{name: "set public missing", want: store.ErrNotFound,
			call: func() error { return s.SetProjectPublic(ctx, "nope", true) }},
		{name: "delete missing", want: store.ErrNotFound,
			call: func() error { return s.DeleteProject(ctx, "nope") }},
	})

	got, err := s.GetProject(ctx, "library")
	if err != nil || got.ID != p.ID || !got.Public || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("GetProject = %+v, %v; want %+v", got, err, p)
	}
	for _, public := range []bool{false, true, false} {
		if err := s.SetProjectPublic(ctx, "library", public); err != nil {
			t.Fatalf("SetProjectPublic(%v): %v", public, err)
		}
		if got, err := s.GetProject(ctx, "library"); err != nil || got.Public != public {
			t.Errorf("after SetProjectPublic(%v): %+v, %v", public, got, err)
		}
	}
	list, err := s.ListProjects(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "alpha" || list[1].Name != "library" {
		t.Errorf("ListProjects = %+v, %v; want alpha, library", list, err)
	}
	if err := s.DeleteProject(ctx, "library"); err != nil {
		t.Fatalf("DeleteProject: %v", err)
	}
	_, err = s.GetProject(ctx, "library")
	wantErr(t, "GetProject after delete", err, store.ErrNotFound)
}
