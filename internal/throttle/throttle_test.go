package throttle

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func cfg() Config {
	return Config{UserIPLimit: 3, IPLimit: 10, BaseDelay: time.Second, MaxDelay: 8 * time.Second, Forget: time.Hour, MaxEntries: 100}
}
func blocked(th *Throttle, u, ip string) bool { _, ok := th.Check(u, ip); return !ok }

func TestBackoff(t *testing.T) {
	c := newClock()
	th := New(cfg(), c.now)
	for i := 0; i < 2; i++ {
		th.Failure("alice", "10.0.0.1")
		if blocked(th, "alice", "10.0.0.1") {
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
			th.Failure("alice", "10.0.0.1")
			wait, ok := th.Check("alice", "10.0.0.1")
			if ok || wait != tt.want {
				t.Fatalf("wait %v ok %v, want %v", wait, ok, tt.want)
			}
			c.add(wait)
			if blocked(th, "alice", "10.0.0.1") {
				t.Fatal("still blocked after the wait")
			}
		})
	}
}

func TestOtherAddressUnaffected(t *testing.T) {
	th := New(cfg(), newClock().now)
	for i := 0; i < 20; i++ {
		th.Failure("alice", "203.0.113.9") // the attacker
	}
	if !blocked(th, "alice", "203.0.113.9") {
		t.Fatal("attacker not blocked")
	}
	if blocked(th, "alice", "10.0.0.1") {
		t.Fatal("the real user from another address is locked out")
	}
	if !blocked(th, "bob", "203.0.113.9") {
		t.Fatal("per-address limit did not block the attacker's other usernames")
	}
}

func TestSprayBlockedPerIP(t *testing.T) {
	th := New(cfg(), newClock().now)
	for i := 0; i < 10; i++ {
		th.Failure(fmt.Sprintf("user%d", i), "198.51.100.1")
	}
	if !blocked(th, "someone-new", "198.51.100.1") {
		t.Fatal("password spray from one address not blocked")
	}
}

func TestSuccessResetsPair(t *testing.T) {
	th := New(cfg(), newClock().now)
	th.Failure("alice", "10.0.0.1")
	th.Failure("alice", "10.0.0.1")
	th.Success("alice", "10.0.0.1")
	th.Failure("alice", "10.0.0.1")
	th.Failure("alice", "10.0.0.1")
	if blocked(th, "alice", "10.0.0.1") {
		t.Fatal("success did not reset the counter")
	}
}

func TestForget(t *testing.T) {
	c := newClock()
	th := New(cfg(), c.now)
	th.Failure("alice", "10.0.0.1")
	th.Failure("alice", "10.0.0.1")
	c.add(2 * time.Hour)
	th.Failure("alice", "10.0.0.1")
	if blocked(th, "alice", "10.0.0.1") {
		t.Fatal("old failures still counted")
	}
}

func TestBounded(t *testing.T) {
	th := New(cfg(), newClock().now)
	for i := 0; i < 1000; i++ {
		th.Failure("u", fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := th.Len(); n > 100 {
		t.Fatalf("%d entries, limit 100", n)
	}
}

func TestNilThrottleAllows(t *testing.T) {
	var th *Throttle
	th.Failure("a", "b")
	if _, ok := th.Check("a", "b"); !ok {
		t.Fatal("nil throttle blocked")
	}
}
