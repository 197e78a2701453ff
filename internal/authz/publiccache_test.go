package authz

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// versionedAccess is a store whose projects (name → public) change with a
// policy version, as the triggers of migration 0060 make the real one do.
type versionedAccess struct {
	projects     map[string]bool
	version      int64
	queries      [][]string // the names of each ProjectAccess call
	versionReads int
	versionErr   error
	during       func() // runs inside the next ProjectAccess call, once
}

func (v *versionedAccess) ProjectAccess(_ context.Context, p store.Principal, names []string) (map[string]store.ProjectAccess, error) {
	v.queries = append(v.queries, slices.Clone(names))
	out := map[string]store.ProjectAccess{}
	for _, n := range names {
		if public, ok := v.projects[n]; ok {
			pa := store.ProjectAccess{Name: n, Public: public}
			if p.UserID == 7 {
				pa.Grants = []store.Grant{{Role: store.RoleGuest}}
			}
			out[n] = pa
		}
	}
	if f := v.during; f != nil {
		v.during = nil
		f()
	}
	return out, nil
}

func (v *versionedAccess) PolicyVersion(context.Context) (int64, error) {
	v.versionReads++
	return v.version, v.versionErr
}

// set changes a project (delete with exists false) and bumps the version.
func (v *versionedAccess) set(name string, exists, public bool) {
	if exists {
		v.projects[name] = public
	} else {
		delete(v.projects, name)
	}
	v.version++
}

// TestPublicCache: anonymous requests are answered from memory between
// reads of the policy version (at most one per every); a project made
// private, deleted or created is honoured once every has passed; any other
// principal always reaches the store.
func TestPublicCache(t *testing.T) {
	ctx := context.Background()
	st := &versionedAccess{projects: map[string]bool{"pub": true, "priv": false}}
	c := NewPublicCache(st, st, time.Second)
	clock := time.Unix(1_700_000_000, 0)
	c.now = func() time.Time { return clock }
	a := New(c)
	anon := Subject{Anonymous: true}
	pull := func(t *testing.T, subj Subject, repo string) bool {
		t.Helper()
		scopes, err := ParseScopes([]string{"repository:" + repo + ":pull"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := a.Authorize(ctx, subj, scopes)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(d[0].Granted, ActionPull)
	}
	queries := func() int { return len(st.queries) }

	if !pull(t, anon, "pub/app") || pull(t, anon, "priv/app") || pull(t, anon, "nosuch/app") {
		t.Fatal("first answers: want pull on pub only")
	}
	q, reads := queries(), st.versionReads
	for range 5 {
		if !pull(t, anon, "pub/app") || pull(t, anon, "priv/app") || pull(t, anon, "nosuch/app") {
			t.Fatal("answers from memory differ")
		}
	}
	if queries() != q || st.versionReads != reads {
		t.Fatalf("repeated anonymous requests within every: %d queries, %d version reads; want none", queries()-q, st.versionReads-reads)
	}

	t.Run("members always read the store", func(t *testing.T) {
		q := queries()
		for range 3 {
			if !pull(t, Subject{Name: "guest", UserID: 7}, "priv/app") {
				t.Fatal("guest of priv: no pull")
			}
		}
		// Robots (their rules) and any authenticated caller (internal
		// projects, rules for every signed-in user) are not anonymous.
		for _, p := range []store.Principal{{GroupDNs: []string{"cn=g"}}, {RobotID: 3, Authenticated: true}, {Authenticated: true}} {
			if _, err := c.ProjectAccess(ctx, p, []string{"pub"}); err != nil {
				t.Fatal(err)
			}
		}
		if queries()-q != 6 {
			t.Fatalf("%d queries for 6 non-anonymous calls", queries()-q)
		}
	})

	t.Run("made private: refused once every has passed", func(t *testing.T) {
		st.set("pub", true, false)
		clock = clock.Add(999 * time.Millisecond)
		if !pull(t, anon, "pub/app") {
			t.Fatal("within every the answer is the one in memory (the documented bound); got the new one")
		}
		clock = clock.Add(time.Millisecond)
		if pull(t, anon, "pub/app") {
			t.Fatal("every has passed since the change: anonymous pull still granted")
		}
	})

	t.Run("created and deleted", func(t *testing.T) {
		st.set("late", true, true)
		st.set("priv", false, false)
		clock = clock.Add(time.Second)
		if !pull(t, anon, "late/app") {
			t.Fatal("a public project created: no anonymous pull after every")
		}
		d, err := a.Authorize(ctx, anon, mustScopes(t, "repository:priv/app:pull"))
		if err != nil || len(d[0].Reasons) == 0 || d[0].Reasons[0] != "project priv does not exist" {
			t.Fatalf("deleted project: %+v, %v", d, err)
		}
	})

	t.Run("version unreadable: the store's error, not a stale answer", func(t *testing.T) {
		st.versionErr = errors.New("database is down")
		defer func() { st.versionErr = nil }()
		clock = clock.Add(time.Second)
		if _, err := a.Authorize(ctx, anon, mustScopes(t, "repository:late/app:pull")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Authorize: %v, want ErrUnavailable", err)
		}
	})

	t.Run("an answer read across a change is not kept", func(t *testing.T) {
		clock = clock.Add(time.Second)
		pull(t, anon, "other/app") // reads the version now
		st.projects["slow"] = true // exists, public, version unchanged
		st.during = func() {
			// While "slow" is being read, it is made private and another
			// request, later than every, sees the new version.
			st.set("slow", true, false)
			clock = clock.Add(time.Second)
			pull(t, anon, "pub/app")
		}
		pull(t, anon, "slow/app") // may be answered from the read in flight
		q := queries()
		if pull(t, anon, "slow/app") {
			t.Fatal("the answer read before the change was kept")
		}
		if queries() != q+1 {
			t.Fatal("slow was not read again")
		}
	})

	t.Run("bounded", func(t *testing.T) {
		c.max = 3
		defer func() { c.max = DefaultPublicCacheMax }()
		for _, p := range []string{"n1", "n2", "n3", "n4", "n5"} {
			pull(t, anon, p+"/app")
		}
		if n := len(c.entries); n > 3 {
			t.Fatalf("%d entries kept, max 3", n)
		}
	})

	t.Run("off", func(t *testing.T) {
		off := NewPublicCache(st, st, 0)
		q := queries()
		for range 3 {
			if _, err := off.ProjectAccess(ctx, store.Principal{}, []string{"late"}); err != nil {
				t.Fatal(err)
			}
		}
		if queries()-q != 3 {
			t.Fatal("every 0: not every call read the store")
		}
	})
}

func mustScopes(t *testing.T, s ...string) []Scope {
	t.Helper()
	scopes, err := ParseScopes(s)
	if err != nil {
		t.Fatal(err)
	}
	return scopes
}
