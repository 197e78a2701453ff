package throttle

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func cfg() Config {
	return Config{UserIPLimit: 3, IPLimit: 10, BaseDelay: time.Second, MaxDelay: 8 * time.Second, Forget: time.Hour, MaxEntries: 100}
}

// kinds are the Limiters every rule is checked on: the memory throttle and
// the shared one on a SQLite store (PostgreSQL: shared_postgres_test.go).
var kinds = []struct {
	name string
	new  func(t *testing.T, cfg Config, now func() time.Time) Limiter
}{
	{"memory", func(t *testing.T, cfg Config, now func() time.Time) Limiter { return New(cfg, now) }},
	{"shared", func(t *testing.T, cfg Config, now func() time.Time) Limiter {
		return NewShared(sqlitetest.Open(t), cfg, now)
	}},
}

// forEach runs test on each kind of Limiter.
func forEach(t *testing.T, test func(t *testing.T, newLimiter func(cfg Config, now func() time.Time) Limiter)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			test(t, func(cfg Config, now func() time.Time) Limiter { return k.new(t, cfg, now) })
		})
	}
}

var ctx = context.Background()

// reserve admits and holds an attempt, as the gate does for a password
// check; ok false is a refusal at either step.
func reserve(t *testing.T, th Limiter, u, ip string) (Reservation, time.Duration, bool) {
	t.Helper()
	r, wait, err := th.Admit(ctx, u, ip)
	if err != nil {
		t.Fatal(err)
	}
	if wait > 0 {
		return nil, wait, false
	}
	if wait, err = r.Hold(ctx); err != nil {
		t.Fatal(err)
	}
	if wait > 0 {
		must(t, r.Released(ctx))
		return nil, wait, false
	}
	return r, 0, true
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// check is whether an attempt may go ahead now, without leaving it in flight.
func check(t *testing.T, th Limiter, u, ip string) (time.Duration, bool) {
	t.Helper()
	r, wait, ok := reserve(t, th, u, ip)
	if ok {
		must(t, r.Released(ctx))
	}
	return wait, ok
}
func blocked(t *testing.T, th Limiter, u, ip string) bool {
	t.Helper()
	_, ok := check(t, th, u, ip)
	return !ok
}

// fail is one failed attempt, when it is admitted.
func fail(t *testing.T, th Limiter, u, ip string) {
	t.Helper()
	if r, _, ok := reserve(t, th, u, ip); ok {
		must(t, r.Failed(ctx))
	}
}

// succeed is one successful attempt, when it is admitted.
func succeed(t *testing.T, th Limiter, u, ip string) {
	t.Helper()
	if r, _, ok := reserve(t, th, u, ip); ok {
		must(t, r.Succeeded(ctx))
	}
}

func TestBackoff(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		c := newClock()
		th := newLimiter(cfg(), c.now)
		for i := 0; i < 2; i++ {
			fail(t, th, "alice", "10.0.0.1")
			if blocked(t, th, "alice", "10.0.0.1") {
				t.Fatalf("blocked after %d failures", i+1)
			}
		}
		tests := []struct {
			name string
			want time.Duration
		}{
			{"at the limit", time.Second},
			{"one past", 2 * time.Second},
			{"two past", 4 * time.Second},
			{"three past", 8 * time.Second},
			{"capped", 8 * time.Second},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				fail(t, th, "alice", "10.0.0.1")
				wait, ok := check(t, th, "alice", "10.0.0.1")
				if ok || wait != tt.want {
					t.Fatalf("wait %v ok %v, want %v", wait, ok, tt.want)
				}
				c.add(wait)
				if blocked(t, th, "alice", "10.0.0.1") {
					t.Fatal("still blocked after the wait")
				}
			})
		}
	})
}

func TestOtherAddressUnaffected(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		th := newLimiter(cfg(), newClock().now)
		for i := 0; i < 20; i++ {
			fail(t, th, "alice", "203.0.113.9") // the attacker
			fail(t, th, fmt.Sprintf("user%d", i), "203.0.113.9")
		}
		if !blocked(t, th, "alice", "203.0.113.9") {
			t.Fatal("attacker not blocked")
		}
		if blocked(t, th, "alice", "10.0.0.1") {
			t.Fatal("the real user from another address is locked out")
		}
		if !blocked(t, th, "bob", "203.0.113.9") {
			t.Fatal("per-address limit did not block the attacker's other usernames")
		}
	})
}

func TestSprayBlockedPerIP(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		th := newLimiter(cfg(), newClock().now)
		for i := 0; i < 10; i++ {
			fail(t, th, fmt.Sprintf("user%d", i), "198.51.100.1")
		}
		if !blocked(t, th, "someone-new", "198.51.100.1") {
			t.Fatal("password spray from one address not blocked")
		}
	})
}

func TestSuccessResetsPair(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		th := newLimiter(cfg(), newClock().now)
		fail(t, th, "alice", "10.0.0.1")
		fail(t, th, "alice", "10.0.0.1")
		succeed(t, th, "alice", "10.0.0.1")
		fail(t, th, "alice", "10.0.0.1")
		fail(t, th, "alice", "10.0.0.1")
		if blocked(t, th, "alice", "10.0.0.1") {
			t.Fatal("success did not reset the counter")
		}
	})
}

func TestForget(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		c := newClock()
		th := newLimiter(cfg(), c.now)
		fail(t, th, "alice", "10.0.0.1")
		fail(t, th, "alice", "10.0.0.1")
		c.add(2 * time.Hour)
		fail(t, th, "alice", "10.0.0.1")
		if blocked(t, th, "alice", "10.0.0.1") {
			t.Fatal("old failures still counted")
		}
	})
}

func TestBounded(t *testing.T) {
	th := New(cfg(), newClock().now)
	for i := 0; i < 1000; i++ {
		fail(t, th, "u", fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := th.Len(); n > 100 {
		t.Fatalf("%d entries, limit 100", n)
	}
}

func TestNilThrottleAllows(t *testing.T) {
	var th *Throttle
	fail(t, th, "a", "b")
	if _, _, ok := reserve(t, th, "a", "b"); !ok {
		t.Fatal("nil throttle blocked")
	}
}

func TestNetwork(t *testing.T) {
	tests := []struct {
		name     string
		v4, v6   int
		ip, want string
	}{
		{name: "v4 default", ip: "192.0.2.77", want: "192.0.2.77/32"},
		{name: "v4 /24", v4: 24, ip: "192.0.2.77", want: "192.0.2.0/24"},
		{name: "v6 default /64", ip: "2001:db8:1:2:aaaa:bbbb:cccc:dddd", want: "2001:db8:1:2::/64"},
		{name: "v6 /48", v6: 48, ip: "2001:db8:1:2::5", want: "2001:db8:1::/48"},
		{name: "v6 /128", v6: 128, ip: "2001:db8::5", want: "2001:db8::5/128"},
		{name: "v4-mapped is v4", ip: "::ffff:192.0.2.1", want: "192.0.2.1/32"},
		{name: "zone dropped", ip: "fe80::1%eth0", want: "fe80::/64"},
		{name: "not an address", ip: "invalid:unknown", want: "invalid:unknown"},
		{name: "long non-address cut", ip: "invalid:" + strings.Repeat("x", 500), want: ("invalid:" + strings.Repeat("x", 500))[:maxKeyBytes]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg()
			c.IPv4Prefix, c.IPv6Prefix = tt.v4, tt.v6
			if got := New(c, nil).Network(tt.ip); got != tt.want {
				t.Fatalf("Network(%q) = %q, want %q", tt.ip, got, tt.want)
			}
			if got := NewShared(nil, c, nil).Network(tt.ip); got != tt.want {
				t.Fatalf("shared: Network(%q) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
}

// TestRotatingIPv6 is a guesser rotating through the addresses of its /64:
// blocked as one network, while the owner elsewhere still gets in.
func TestRotatingIPv6(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		th := newLimiter(cfg(), newClock().now)
		for i := range 20 {
			fail(t, th, "alice", fmt.Sprintf("2001:db8:bad:1::%x", i+1))
			fail(t, th, fmt.Sprintf("user%d", i), fmt.Sprintf("2001:db8:bad:1::%x", i+1))
		}
		if !blocked(t, th, "alice", "2001:db8:bad:1::ffff") {
			t.Fatal("a fresh address in the guesser's /64 is not blocked")
		}
		if !blocked(t, th, "bob", "2001:db8:bad:1:1234::1") {
			t.Fatal("the guesser's /64 is not blocked for other users")
		}
		if blocked(t, th, "alice", "2001:db8:600d:1::1") {
			t.Fatal("the owner from another /64 is locked out")
		}
	})
}

// TestCanonicalUser: spellings of one name share a counter.
func TestCanonicalUser(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		th := newLimiter(cfg(), newClock().now)
		for _, u := range []string{"Admin", " admin", "ADMIN\t"} {
			fail(t, th, u, "10.0.0.1")
		}
		if !blocked(t, th, "admin", "10.0.0.1") {
			t.Fatal("spellings of admin counted apart")
		}
		th = newLimiter(cfg(), newClock().now)
		fail(t, th, "Admin", "10.0.0.2")
		fail(t, th, " admin", "10.0.0.2")
		succeed(t, th, "aDmIn ", "10.0.0.2")
		fail(t, th, "admin", "10.0.0.2")
		fail(t, th, "ADMIN", "10.0.0.2")
		if blocked(t, th, "admin", "10.0.0.2") {
			t.Fatal("success under another spelling did not reset the counter")
		}
	})
}

// TestReservations: attempts held in flight count against the limits, so
// a burst of simultaneous guesses is held only up to the limit; settling
// frees the place, and identical outcomes settle as before.
func TestReservations(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		c := newClock()
		th := newLimiter(cfg(), c.now) // 3 per (user, network), 10 per network
		var held []Reservation
		for i := range 10 {
			r, wait, ok := reserve(t, th, "alice", "10.0.0.1")
			if i < 3 != ok {
				t.Fatalf("attempt %d in a burst: admitted %v", i+1, ok)
			}
			if ok {
				held = append(held, r)
			} else if wait != busyRetry {
				t.Fatalf("attempt %d refused with wait %v, want %v", i+1, wait, busyRetry)
			}
		}
		if blocked(t, th, "alice", "10.0.0.2") {
			t.Fatal("another address is refused")
		}
		must(t, held[0].Released(ctx)) // a backend outage counts nothing
		r, _, ok := reserve(t, th, "alice", "10.0.0.1")
		if !ok {
			t.Fatal("a released place is not free again")
		}
		held[0] = r
		for _, r := range held {
			must(t, r.Failed(ctx))
		}
		wait, ok := check(t, th, "alice", "10.0.0.1")
		if ok || wait != time.Second {
			t.Fatalf("after 3 failures: wait %v ok %v, want blocked for 1s", wait, ok)
		}
		// Past the limit, once the block is over, one attempt at a time.
		c.add(time.Second)
		first, _, ok := reserve(t, th, "alice", "10.0.0.1")
		if !ok {
			t.Fatal("no attempt admitted after the block")
		}
		if _, _, ok := reserve(t, th, "alice", "10.0.0.1"); ok {
			t.Fatal("a second attempt admitted while the first is in flight, past the limit")
		}
		must(t, first.Succeeded(ctx))
		if blocked(t, th, "alice", "10.0.0.1") {
			t.Fatal("a success did not clear the pair")
		}
		if m, ok := th.(*Throttle); ok && m.Len() != 1 {
			t.Fatalf("%d counters held, want 1 (the network's failures)", m.Len())
		}
	})
}

// TestAdmitThenHold: Admit only reads; the limit is enforced again when
// the attempt is held, so attempts admitted together are held only up to
// the limit.
func TestAdmitThenHold(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		th := newLimiter(cfg(), newClock().now)
		var admitted []Reservation
		for range 5 {
			r, wait, err := th.Admit(ctx, "alice", "10.0.0.1")
			if err != nil || wait != 0 {
				t.Fatalf("Admit: %v, %v", wait, err)
			}
			admitted = append(admitted, r)
		}
		held := 0
		for _, r := range admitted {
			wait, err := r.Hold(ctx)
			must(t, err)
			if wait == 0 {
				held++
				must(t, r.Failed(ctx))
				continue
			}
			must(t, r.Released(ctx))
		}
		if held != 3 {
			t.Fatalf("%d of 5 admitted attempts held, want 3", held)
		}
		if !blocked(t, th, "alice", "10.0.0.1") {
			t.Fatal("not blocked after 3 failures")
		}
	})
}

// TestNetworkReservations: the network's limit counts attempts in flight
// over every name.
func TestNetworkReservations(t *testing.T) {
	forEach(t, func(t *testing.T, newLimiter func(Config, func() time.Time) Limiter) {
		th := newLimiter(cfg(), newClock().now)
		admitted := 0
		for i := range 30 {
			if _, _, ok := reserve(t, th, fmt.Sprintf("user%d", i), "198.51.100.1"); ok {
				admitted++
			}
		}
		if admitted != 10 {
			t.Fatalf("%d simultaneous attempts admitted from one network, want 10", admitted)
		}
	})
}
