package storetest

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// testThrottles covers store.Throttles: counters read as zero until
// written, holds counted until released or expired, updates serialised
// (no increment lost when several processes update one counter at once),
// pruning.
func testThrottles(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	read := func(keys ...string) []store.ThrottleCounter {
		t.Helper()
		cs, err := s.ThrottleCounters(ctx, keys, now)
		if err != nil {
			t.Fatalf("ThrottleCounters: %v", err)
		}
		return cs
	}
	if cs := read("ua", "ia"); len(cs) != 2 || cs[0] != (store.ThrottleCounter{Key: "ua"}) || cs[1] != (store.ThrottleCounter{Key: "ia"}) {
		t.Fatalf("absent counters: %+v, want zero with their keys", cs)
	}
	until := now.Add(time.Minute)
	err := s.UpdateThrottle(ctx, store.ThrottleUpdate{Keys: []string{"ua", "ia"}, Now: now, Hold: "h1", HoldUntil: now.Add(time.Minute),
		Apply: func(cs []store.ThrottleCounter) bool {
			cs[0].Failures, cs[0].Last, cs[0].Until = 3, now, until
			cs[1].Failures, cs[1].Last = 1, now
			return true
		}})
	if err != nil {
		t.Fatalf("UpdateThrottle: %v", err)
	}
	cs := read("ua", "ia")
	if cs[0].Failures != 3 || !cs[0].Last.Equal(now) || !cs[0].Until.Equal(until) || cs[0].Holds != 1 ||
		cs[1].Failures != 1 || !cs[1].Until.IsZero() || cs[1].Holds != 1 {
		t.Fatalf("after an update with a hold: %+v", cs)
	}
	if one := read("ia"); len(one) != 1 || one[0] != cs[1] {
		t.Fatalf("one key: %+v, want %+v", one, cs[1])
	}
	// A second hold; the first expires.
	err = s.UpdateThrottle(ctx, store.ThrottleUpdate{Keys: []string{"ia"}, Now: now, Hold: "h2", HoldUntil: now.Add(time.Hour),
		Apply: func(cs []store.ThrottleCounter) bool {
			if cs[0].Holds != 1 || cs[0].Failures != 1 {
				t.Errorf("Apply got %+v", cs[0])
			}
			return true
		}})
	if err != nil {
		t.Fatal(err)
	}
	later, err := s.ThrottleCounters(ctx, []string{"ua", "ia"}, now.Add(2*time.Minute))
	if err != nil || later[0].Holds != 0 || later[1].Holds != 1 {
		t.Fatalf("after the first hold expired: %+v, %v", later, err)
	}
	// Release ends a hold, before Apply sees the counters; no hold taken.
	err = s.UpdateThrottle(ctx, store.ThrottleUpdate{Keys: []string{"ia", "ua"}, Now: now, Release: "h2",
		Apply: func(cs []store.ThrottleCounter) bool {
			if cs[0].Key != "ia" || cs[0].Holds != 1 || cs[1].Key != "ua" || cs[1].Holds != 1 { // h1 left on both
				t.Errorf("Apply after releasing h2 got %+v", cs)
			}
			return false
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseThrottle(ctx, "h1"); err != nil {
		t.Fatalf("ReleaseThrottle: %v", err)
	}
	if err := s.ReleaseThrottle(ctx, "no-such-hold"); err != nil {
		t.Fatalf("ReleaseThrottle of nothing: %v", err)
	}
	if cs := read("ua", "ia"); cs[0].Holds+cs[1].Holds != 0 || cs[0].Failures != 3 {
		t.Fatalf("after the releases: %+v", cs)
	}

	// Several processes adding one failure each at once: none is lost.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			err := s.UpdateThrottle(ctx, store.ThrottleUpdate{Keys: []string{"uc", "ic"}, Now: now,
				Apply: func(cs []store.ThrottleCounter) bool {
					cs[0].Failures++
					cs[1].Failures++
					cs[0].Last, cs[1].Last = now, now
					return false
				}})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if cs := read("uc", "ic"); cs[0].Failures != 20 || cs[1].Failures != 20 {
		t.Fatalf("20 concurrent increments: %+v", cs)
	}

	// Prune: the forgotten counter and the expired hold go.
	err = s.UpdateThrottle(ctx, store.ThrottleUpdate{Keys: []string{"ud"}, Now: now, Hold: "h3", HoldUntil: now.Add(time.Second),
		Apply: func([]store.ThrottleCounter) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneThrottle(ctx, now.Add(time.Minute), now.Add(-time.Second))
	if err != nil {
		t.Fatalf("PruneThrottle: %v", err)
	}
	// ud (no failures) and its hold; ua, ia, uc and ic failed since.
	if n != 2 {
		t.Fatalf("pruned %d rows, want 2", n)
	}
	if cs := read("ia", "uc"); cs[0].Failures != 1 || cs[1].Failures != 20 {
		t.Fatalf("after pruning: %+v", cs)
	}
	if n, err := s.PruneThrottle(ctx, now.Add(time.Minute), time.Time{}); err != nil || n != 0 {
		t.Fatalf("pruning with no forget time removed %d rows (%v), want 0", n, err)
	}

	if _, err := s.ThrottleCounters(ctx, []string{"a", "b", "c"}, now); err == nil || !strings.HasPrefix(err.Error(), "read throttle") {
		t.Errorf("three keys: %v, want an error prefixed with the operation", err)
	}
}

// testExclusively: work done under one lock name runs one at a time (no
// two read the same count and create the same name), and its writes are
// one transaction.
func testExclusively(t *testing.T, s store.Store) {
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() {
			errs <- s.Exclusively(ctx, "test-lock", func(tx store.Store) error {
				n, err := tx.CountUsers(ctx)
				if err != nil {
					return err
				}
				time.Sleep(20 * time.Millisecond) // a slow step: others must wait
				return tx.CreateUser(ctx, &store.User{Name: "u" + strconv.Itoa(n)})
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Exclusively: %v", err)
		}
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 5 {
		t.Fatalf("%d users, %v; want 5", n, err)
	}
	boom := errors.New("boom")
	err := s.Exclusively(ctx, "test-lock", func(tx store.Store) error {
		if err := tx.CreateUser(ctx, &store.User{Name: "rolled-back"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Exclusively returned %v, want fn's error", err)
	}
	if _, err := s.GetUser(ctx, "rolled-back"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed Exclusively kept its write: %v", err)
	}
}
