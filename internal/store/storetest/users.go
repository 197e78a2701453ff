package storetest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
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
	if !reflect.DeepEqual(got, want) {
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

// testModifyUser checks ModifyUser: what fn returns is written, identity
// fields stay, an error from fn is returned unchanged with nothing
// written, and a missing user is ErrNotFound.
func testModifyUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := mustUser(t, s, "alice")
	got, err := s.ModifyUser(ctx, "alice", func(u store.User) (store.User, error) {
		if u.ID != before.ID || u.Email != before.Email {
			t.Errorf("fn got %+v, want the stored %+v", u, before)
		}
		u.Email, u.Admin, u.DisplayName = "new@example.org", true, "Alice"
		u.ID, u.Name, u.CreatedAt = 999, "mallory", time.Time{} // ignored
		return u, nil
	})
	if err != nil {
		t.Fatalf("ModifyUser: %v", err)
	}
	stored, _ := s.GetUser(ctx, "alice")
	if got.ID != before.ID || got.Name != "alice" || !got.CreatedAt.Equal(before.CreatedAt) || got.Email != "new@example.org" ||
		!got.Admin || got.DisplayName != "Alice" || !got.UpdatedAt.Equal(stored.UpdatedAt) || stored.Email != "new@example.org" {
		t.Errorf("ModifyUser returned %+v; stored %+v", got, stored)
	}
	if _, err := s.GetUser(ctx, "mallory"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ModifyUser renamed the user: %v", err)
	}

	refuse := errors.New("refused by fn")
	_, err = s.ModifyUser(ctx, "alice", func(u store.User) (store.User, error) {
		u.Email = "lost@example.org"
		return u, refuse
	})
	if err != refuse {
		t.Errorf("ModifyUser with a failing fn: error %v, want fn's error unchanged", err)
	}
	if u, _ := s.GetUser(ctx, "alice"); u.Email != "new@example.org" {
		t.Errorf("a failing fn wrote %q", u.Email)
	}
	_, err = s.ModifyUser(ctx, "nobody", func(u store.User) (store.User, error) {
		t.Error("fn called for a missing user")
		return u, nil
	})
	wantErr(t, "ModifyUser(missing)", err, store.ErrNotFound)
}

// testModifyConcurrent runs updaters at once that each read a value, wait
// (so that without a lock they would all read the same value) and append
// to it: every change must survive, for users and robots alike.
func testModifyConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	if err := s.CreateRobot(ctx, &store.Robot{Name: "ci", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"), SecretHash: "h"}); err != nil {
		t.Fatal(err)
	}
	const updaters = 4
	var wg sync.WaitGroup
	errs := make(chan error, 2*updaters)
	for i := range updaters {
		mark := string(rune('a' + i))
		wg.Go(func() {
			_, err := s.ModifyUser(ctx, "alice", slowAppend(mark, func(u *store.User) *string { return &u.DisplayName }))
			errs <- err
		})
		wg.Go(func() {
			_, err := s.ModifyRobot(ctx, "ci", slowAppend(mark, func(r *store.Robot) *string { return &r.Description }))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent modify: %v", err)
		}
	}
	u, _ := s.GetUser(ctx, "alice")
	r, _ := s.GetRobot(ctx, "ci")
	for _, got := range []string{u.DisplayName, r.Description} {
		if len(got) != updaters || strings.Count(got, "a")+strings.Count(got, "b")+strings.Count(got, "c")+strings.Count(got, "d") != updaters {
			t.Errorf("after %d concurrent appends: %q (a change was lost)", updaters, got)
		}
	}
}

// slowAppend is an updater that appends mark to the field of its value
// that field picks, after a wait long enough that, without a lock, every
// updater running at once would have read the same value.
func slowAppend[T any](mark string, field func(*T) *string) func(T) (T, error) {
	return func(v T) (T, error) {
		time.Sleep(20 * time.Millisecond)
		*field(&v) += mark
		return v, nil
	}
}
