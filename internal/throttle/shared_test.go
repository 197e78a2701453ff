package throttle

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// sharedTests are the rules only the shared throttle has, run on SQLite
// here and on PostgreSQL in shared_postgres_test.go.
var sharedTests = []struct {
	name string
	fn   func(t *testing.T, st store.Throttles)
}{
	{"Replicas", testReplicas},
	{"BurstAcrossReplicas", testBurstAcrossReplicas},
	{"DeadReplicaHoldExpires", testDeadReplicaHoldExpires},
	{"SuccessWritesNothing", testSuccessWritesNothing},
	{"Prune", testPrune},
}

func TestShared(t *testing.T) {
	for _, tt := range sharedTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, sqlitetest.Open(t)) })
	}
}

// testReplicas: three replicas on one database share one budget, and a
// replica started later (a restart) sees the counters.
func testReplicas(t *testing.T, st store.Throttles) {
	c := newClock()
	replicas := []Limiter{NewShared(st, cfg(), c.now), NewShared(st, cfg(), c.now), NewShared(st, cfg(), c.now)}
	for i := range 3 {
		fail(t, replicas[i], "alice", "10.0.0.1")
	}
	for i, r := range replicas {
		if !blocked(t, r, "alice", "10.0.0.1") {
			t.Fatalf("replica %d admits a fourth guess after 3 failures spread over 3 replicas", i)
		}
	}
	if blocked(t, NewShared(st, cfg(), c.now), "alice", "10.0.0.2") {
		t.Fatal("the owner on another network is locked out")
	}
	restarted := NewShared(st, cfg(), c.now)
	if !blocked(t, restarted, "alice", "10.0.0.1") {
		t.Fatal("a restarted replica forgot the counters")
	}
}

// testBurstAcrossReplicas: simultaneous guesses spread over replicas are
// held exactly up to the limit.
func testBurstAcrossReplicas(t *testing.T, st store.Throttles) {
	c := cfg()
	c.UserIPLimit = 5
	replicas := []Limiter{NewShared(st, c, nil), NewShared(st, c, nil), NewShared(st, c, nil)}
	var held atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 30 {
		wg.Go(func() {
			<-start
			r, wait, err := replicas[i%3].Admit(ctx, "alice", "10.0.0.1")
			if err != nil {
				t.Error(err)
				return
			}
			if wait > 0 {
				return
			}
			wait, err = r.Hold(ctx)
			switch {
			case err != nil:
				t.Error(err)
			case wait == 0:
				held.Add(1) // left in flight: the burst is still checking
			default:
				if err := r.Released(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if held.Load() != 5 {
		t.Fatalf("%d of 30 simultaneous guesses over 3 replicas held, want 5", held.Load())
	}
}

// testDeadReplicaHoldExpires: a hold never settled (its replica was
// killed mid-check) stops counting after HoldTTL.
func testDeadReplicaHoldExpires(t *testing.T, st store.Throttles) {
	c := newClock()
	conf := cfg()
	conf.HoldTTL = 30 * time.Second
	dead := NewShared(st, conf, c.now)
	for range 3 {
		if _, _, ok := reserve(t, dead, "alice", "10.0.0.1"); !ok {
			t.Fatal("not admitted")
		}
	}
	alive := NewShared(st, conf, c.now)
	if wait, ok := check(t, alive, "alice", "10.0.0.1"); ok || wait != busyRetry {
		t.Fatalf("while 3 holds count: wait %v ok %v, want refused for %v", wait, ok, busyRetry)
	}
	c.add(31 * time.Second)
	if blocked(t, alive, "alice", "10.0.0.1") {
		t.Fatal("holds of a dead replica still count after their TTL")
	}
}

// testSuccessWritesNothing: a login admitted and settled without a hold
// (a credential-cache hit) writes nothing; one with a hold writes the
// hold and its release; a success after failures clears them (a write).
func testSuccessWritesNothing(t *testing.T, st store.Throttles) {
	th := NewShared(st, cfg(), newClock().now)
	for range 10 {
		r, wait, err := th.Admit(ctx, "ci", "10.0.0.1")
		if err != nil || wait > 0 {
			t.Fatal(wait, err)
		}
		must(t, r.Succeeded(ctx))
	}
	if n := th.Writes(); n != 0 {
		t.Fatalf("10 logins without a hold wrote %d times, want 0", n)
	}
	succeed(t, th, "ci", "10.0.0.1")
	if n := th.Writes(); n != 2 {
		t.Fatalf("a held login wrote %d times, want 2 (hold, release)", n)
	}
	fail(t, th, "ci", "10.0.0.1")
	before := th.Writes()
	r, _, err := th.Admit(ctx, "ci", "10.0.0.1")
	must(t, err)
	must(t, r.Succeeded(ctx))
	if n := th.Writes() - before; n != 1 {
		t.Fatalf("a success after a failure wrote %d times, want 1 (the clear)", n)
	}
	fail(t, th, "ci", "10.0.0.1")
	fail(t, th, "ci", "10.0.0.1")
	if blocked(t, th, "ci", "10.0.0.1") {
		t.Fatal("the success did not clear the earlier failure")
	}
}

// testPrune: expired holds and forgotten counters go; live ones stay.
func testPrune(t *testing.T, st store.Throttles) {
	c := newClock()
	conf := cfg()
	conf.HoldTTL = time.Minute
	th := NewShared(st, conf, c.now)
	for i := range 5 {
		fail(t, th, fmt.Sprintf("old%d", i), "10.0.0.1")
	}
	if _, _, ok := reserve(t, th, "stuck", "10.0.0.2"); !ok {
		t.Fatal("not admitted")
	}
	c.add(2 * time.Hour) // past Forget (1h) and the hold's TTL
	for range 3 {
		fail(t, th, "recent", "10.0.0.3")
	}
	n, err := th.Prune(ctx)
	must(t, err)
	// 5 pairs, network 10.0.0.1, the stuck pair's and network's counters
	// (created by the hold) and the 2 holds.
	if n != 10 {
		t.Fatalf("pruned %d rows, want 10", n)
	}
	if !blocked(t, th, "recent", "10.0.0.3") {
		t.Fatal("pruning dropped a live block")
	}
}

// benchLogins measures the throttle's part of a successful login: Admit
// and Succeeded for a credential-cache hit (no hold), and Admit, Hold and
// Succeeded for a cache miss (the hold is written before bcrypt).
func benchLogins(b *testing.B, th Limiter) {
	for _, tt := range []struct {
		name string
		hold bool
	}{{"cache-hit", false}, {"cache-miss", true}} {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				r, wait, err := th.Admit(ctx, "ci", "10.0.0.1")
				if err != nil || wait > 0 {
					b.Fatal(wait, err)
				}
				if tt.hold {
					if wait, err := r.Hold(ctx); err != nil || wait > 0 {
						b.Fatal(wait, err)
					}
				}
				if err := r.Succeeded(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLogin: the throttle's cost of a login in memory and shared on
// SQLite (PostgreSQL: BenchmarkLoginPostgres, tagged integration).
func BenchmarkLogin(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchLogins(b, New(cfg(), nil)) })
	b.Run("shared-sqlite", func(b *testing.B) { benchLogins(b, NewShared(sqlitetest.Open(b), cfg(), nil)) })
}
