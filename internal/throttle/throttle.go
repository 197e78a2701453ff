package throttle

import (
	"container/list"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Config sets the limits. A zero Limit disables that counter.
type Config struct {
	// UserIPLimit is how many failures one username may have from one
	// client IP before that pair is blocked.
	UserIPLimit int
	// IPLimit is how many failures one client IP may have, over all
	// usernames, before the address is blocked.
	IPLimit int
	// BaseDelay is the first block; each further failure doubles it.
	BaseDelay time.Duration
	// MaxDelay caps the block.
	MaxDelay time.Duration
	// Forget drops a counter this long after its last failure.
	Forget time.Duration
	// MaxEntries bounds memory: past it the least recently failed
	// counters are dropped first.
	MaxEntries int
	// IPv4Prefix and IPv6Prefix are the prefix lengths client addresses
	// are aggregated to before they are counted: one host or home network
	// usually holds a whole IPv6 /64, so counting single IPv6 addresses
	// would let a guesser rotate through 2^64 of them. Zero means the
	// default, 32 (one address) and 64.
	IPv4Prefix, IPv6Prefix int
}

// Default prefix lengths for Config.IPv4Prefix and Config.IPv6Prefix.
const (
	DefaultIPv4Prefix = 32
	DefaultIPv6Prefix = 64
)

// maxKeyBytes bounds the part of a key taken from a client address that
// does not parse (the server passes such addresses as "invalid:...").
const maxKeyBytes = 80

// Throttle keeps failure counters in memory. It is per process: several
// replicas each count on their own, so the effective limit behind a load
// balancer is at most replicas × limit.
type Throttle struct {
	cfg Config
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // front = most recently failed
}

type entry struct {
	key      string
	failures int
	last     time.Time
	until    time.Time // blocked until
}

// New returns a Throttle. now may be nil (time.Now).
func New(cfg Config, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 100000
	}
	if cfg.IPv4Prefix <= 0 || cfg.IPv4Prefix > 32 {
		cfg.IPv4Prefix = DefaultIPv4Prefix
	}
	if cfg.IPv6Prefix <= 0 || cfg.IPv6Prefix > 128 {
		cfg.IPv6Prefix = DefaultIPv6Prefix
	}
	return &Throttle{cfg: cfg, now: now, entries: map[string]*list.Element{}, lru: list.New()}
}

// CanonicalUser is the name a login is counted under: trimmed and
// case-folded, as the directory resolves it ("admin" in any spelling is
// admin). Local user names that differ only in case are therefore
// throttled together, which errs on the side of throttling.
func CanonicalUser(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Network is the client network an address is counted under: the address
// masked to the configured prefix ("2001:db8:1:2::/64"). A string that is
// not an address (the server's "invalid:..." for an unparsable
// X-Forwarded-For entry) is its own network, cut to a fixed size.
func (t *Throttle) Network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		if len(ip) > maxKeyBytes {
			ip = ip[:maxKeyBytes]
		}
		return ip
	}
	a = a.Unmap().WithZone("")
	bits := t.cfg.IPv6Prefix
	if a.Is4() {
		bits = t.cfg.IPv4Prefix
	}
	return netip.PrefixFrom(a, bits).Masked().String()
}

func (t *Throttle) userKey(user, ip string) string {
	return "u\x00" + t.Network(ip) + "\x00" + CanonicalUser(user)
}
func (t *Throttle) ipKey(ip string) string { return "i\x00" + t.Network(ip) }

// Check reports whether a login for user from ip may be tried now. Here
// and in Failure and Success, user is counted as CanonicalUser(user) and
// ip as Network(ip); ip is the full client address. When it
// may not, retryAfter says how long to wait. A blocked pair or address
// does not affect the same user from another address.
func (t *Throttle) Check(user, ip string) (retryAfter time.Duration, ok bool) {
	if t == nil {
		return 0, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range []string{t.userKey(user, ip), t.ipKey(ip)} {
		if el, found := t.entries[k]; found {
			e := el.Value.(*entry)
			if wait := e.until.Sub(now); wait > retryAfter {
				retryAfter = wait
			}
		}
	}
	return retryAfter, retryAfter <= 0
}

// Failure records a failed login for user from ip.
func (t *Throttle) Failure(user, ip string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.bump(t.userKey(user, ip), t.cfg.UserIPLimit, now)
	t.bump(t.ipKey(ip), t.cfg.IPLimit, now)
}

// Success clears the counter of user from ip. The address's own counter
// stays: one good login must not hide a password spray from that address.
func (t *Throttle) Success(user, ip string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.userKey(user, ip)
	if el, ok := t.entries[k]; ok {
		t.lru.Remove(el)
		delete(t.entries, k)
	}
}

// Len is the number of counters held.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

func (t *Throttle) bump(key string, limit int, now time.Time) {
	if limit <= 0 {
		return
	}
	el, ok := t.entries[key]
	var e *entry
	if ok {
		e = el.Value.(*entry)
		if t.cfg.Forget > 0 && now.Sub(e.last) > t.cfg.Forget && !now.Before(e.until) {
			e.failures = 0
		}
		t.lru.MoveToFront(el)
	} else {
		t.evict()
		e = &entry{key: key}
		t.entries[key] = t.lru.PushFront(e)
	}
	e.failures++
	e.last = now
	if over := e.failures - limit; over >= 0 {
		e.until = now.Add(t.delay(over))
	}
}

// delay is BaseDelay × 2^over, capped at MaxDelay.
func (t *Throttle) delay(over int) time.Duration {
	d := t.cfg.BaseDelay
	for i := 0; i < over && d < t.cfg.MaxDelay; i++ {
		d *= 2
	}
	if t.cfg.MaxDelay > 0 && d > t.cfg.MaxDelay {
		d = t.cfg.MaxDelay
	}
	return d
}

// evict makes room for one entry: forgotten counters go first, then the
// least recently failed.
func (t *Throttle) evict() {
	for len(t.entries) >= t.cfg.MaxEntries {
		el := t.lru.Back()
		if el == nil {
			return
		}
		e := el.Value.(*entry)
		t.lru.Remove(el)
		delete(t.entries, e.key)
	}
}
