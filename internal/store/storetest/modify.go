package storetest

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

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

// testModifyRobot checks ModifyRobot as testModifyUser does ModifyUser.
func testModifyRobot(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustProject(t, s, "team", false)
	r := store.Robot{Name: "team+ci", Project: "team", Permissions: store.OneProject("team", "pull"), SecretHash: "h1"}
	if err := s.CreateRobot(ctx, &r); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	got, err := s.ModifyRobot(ctx, "team+ci", func(r store.Robot) (store.Robot, error) {
		r.Permissions, r.Description, r.SecretHash, r.Disabled, r.ExpiresAt = store.OneProject("team", "pull", "push"), "d", "h2", true, exp
		r.Name, r.Project = "other", "*" // ignored
		return r, nil
	})
	if err != nil {
		t.Fatalf("ModifyRobot: %v", err)
	}
	stored, _ := s.GetRobot(ctx, "team+ci")
	if got.ID != r.ID || got.Name != "team+ci" || got.Project != "team" || !reflect.DeepEqual(stored.Permissions, store.OneProject("team", "pull", "push")) ||
		stored.Description != "d" || stored.SecretHash != "h2" || !stored.Disabled ||
		!got.ExpiresAt.Equal(stored.ExpiresAt) || !got.UpdatedAt.Equal(stored.UpdatedAt) {
		t.Errorf("ModifyRobot returned %+v; stored %+v", got, stored)
	}
	refuse := errors.New("refused by fn")
	if _, err := s.ModifyRobot(ctx, "team+ci", func(r store.Robot) (store.Robot, error) { return r, refuse }); err != refuse {
		t.Errorf("ModifyRobot with a failing fn: error %v, want fn's error unchanged", err)
	}
	_, err = s.ModifyRobot(ctx, "ghost", func(r store.Robot) (store.Robot, error) { return r, nil })
	wantErr(t, "ModifyRobot(missing)", err, store.ErrNotFound)
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
			_, err := s.ModifyUser(ctx, "alice", func(u store.User) (store.User, error) {
				time.Sleep(20 * time.Millisecond)
				u.DisplayName += mark
				return u, nil
			})
			errs <- err
		})
		wg.Go(func() {
			_, err := s.ModifyRobot(ctx, "ci", func(r store.Robot) (store.Robot, error) {
				time.Sleep(20 * time.Millisecond)
				r.Description += mark
				return r, nil
			})
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
