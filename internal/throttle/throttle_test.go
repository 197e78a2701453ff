package throttle

import (
	"fmt"
	"strings"
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
		})
	}
}

// TestRotatingIPv6 is a guesser rotating through the addresses of its /64:
// blocked as one network, while the owner elsewhere still gets in.
func TestRotatingIPv6(t *testing.T) {
	th := New(cfg(), newClock().now)
	for i := range 20 {
		th.Failure("alice", fmt.Sprintf("2001:db8:bad:1::%x", i+1))
	}
	if !blocked(th, "alice", "2001:db8:bad:1::ffff") {
		t.Fatal("a fresh address in the guesser's /64 is not blocked")
	}
	if !blocked(th, "bob", "2001:db8:bad:1:1234::1") {
		t.Fatal("the guesser's /64 is not blocked for other users")
	}
	if blocked(th, "alice", "2001:db8:600d:1::1") {
		t.Fatal("the owner from another /64 is locked out")
	}
}

// TestCanonicalUser: spellings of one name share a counter.
func TestCanonicalUser(t *testing.T) {
	th := New(cfg(), newClock().now)
	for _, u := range []string{"Admin", " admin", "ADMIN\t"} {
		th.Failure(u, "10.0.0.1")
	}
	if !blocked(th, "admin", "10.0.0.1") {
		t.Fatal("spellings of admin counted apart")
	}
	th.Success("aDmIn ", "10.0.0.1")
	if blocked(th, "admin", "10.0.0.1") {
		t.Fatal("success under another spelling did not reset the counter")
	}
}
