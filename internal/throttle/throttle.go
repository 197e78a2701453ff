package throttle

import (
	"container/list"
	"context"
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
	// HoldTTL is how long a held reservation counts at most (Shared): the
	// hold of a replica that died mid-check stops counting after it. Zero
	// means DefaultHoldTTL. The memory throttle's holds die with it.
	HoldTTL time.Duration
}

// DefaultHoldTTL outlasts the slowest check: the wait for a slot
// (server.password_check_wait), a bcrypt and an LDAP bind within its
// timeouts.
const DefaultHoldTTL = time.Minute

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
// balancer is at most replicas × limit (Shared counts in the database for
// all of them). A nil *Throttle admits everything.
type Throttle struct {
	cfg Config
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // front = most recently failed
}

var _ Limiter = (*Throttle)(nil)

type entry struct {
	key string
	counter
}

// New returns a Throttle. now may be nil (time.Now).
func New(cfg Config, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 100000
	}
	return &Throttle{cfg: cfg.withDefaults(), now: now, entries: map[string]*list.Element{}, lru: list.New()}
}

// withDefaults fills in the default prefix lengths.
func (cfg Config) withDefaults() Config {
	if cfg.IPv4Prefix <= 0 || cfg.IPv4Prefix > 32 {
		cfg.IPv4Prefix = DefaultIPv4Prefix
	}
	if cfg.IPv6Prefix <= 0 || cfg.IPv6Prefix > 128 {
		cfg.IPv6Prefix = DefaultIPv6Prefix
	}
	return cfg
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
	if t == nil {
		return ip
	}
	return t.cfg.network(ip)
}

func (cfg *Config) network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		if len(ip) > maxKeyBytes {
			ip = ip[:maxKeyBytes]
		}
		return ip
	}
	a = a.Unmap().WithZone("")
	bits := cfg.IPv6Prefix
	if a.Is4() {
		bits = cfg.IPv4Prefix
	}
	return netip.PrefixFrom(a, bits).Masked().String()
}

// keys are the (user, network) and the network counters' keys.
func (cfg *Config) keys(user, ip string) (userKey, ipKey string) {
	network := cfg.network(ip)
	return "u\x00" + network + "\x00" + CanonicalUser(user), "i\x00" + network
}

// Admit implements Limiter.
func (t *Throttle) Admit(_ context.Context, user, ip string) (Reservation, time.Duration, error) {
	if t == nil {
		return Nothing{}, 0, nil
	}
	r := &reservation{t: t}
	r.user, r.ip = t.cfg.keys(user, ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait := t.cfg.refusals(t.counter(r.user), t.counter(r.ip), t.now()); wait > 0 {
		return nil, wait, nil
	}
	return r, 0, nil
}

// none is the counter of a key with no entry: read, never kept.
var none counter

// counter is key's counter, or a copy of the zero counter when there is none.
func (t *Throttle) counter(key string) *counter {
	if el, ok := t.entries[key]; ok {
		return &el.Value.(*entry).counter
	}
	c := none
	return &c
}

// entry is key's entry, created (evicting the least recently failed
// first) when there is none.
func (t *Throttle) entry(key string) *entry {
	if el, ok := t.entries[key]; ok {
		return el.Value.(*entry)
	}
	t.evict()
	e := &entry{key: key}
	t.entries[key] = t.lru.PushFront(e)
	return e
}

// reservation is an attempt Throttle admitted.
type reservation struct {
	t        *Throttle
	user, ip string
	held     bool
}

func (r *reservation) Hold(context.Context) (time.Duration, error) {
	if r.held {
		return 0, nil
	}
	t := r.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait := t.cfg.refusals(t.counter(r.user), t.counter(r.ip), t.now()); wait > 0 {
		return wait, nil
	}
	for _, k := range []struct {
		key   string
		limit int
	}{{r.user, t.cfg.UserIPLimit}, {r.ip, t.cfg.IPLimit}} {
		if k.limit > 0 {
			t.entry(k.key).inflight++
		}
	}
	r.held = true
	return 0, nil
}

func (r *reservation) Failed(context.Context) error {
	t := r.t
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range []struct {
		key   string
		limit int
	}{{r.user, t.cfg.UserIPLimit}, {r.ip, t.cfg.IPLimit}} {
		if k.limit <= 0 {
			continue
		}
		e := t.entry(k.key)
		t.cfg.fail(&e.counter, k.limit, now, r.held)
		t.lru.MoveToFront(t.entries[k.key])
	}
	r.held = false
	return nil
}

func (r *reservation) Succeeded(context.Context) error {
	t := r.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.entries[r.user]; ok {
		clearCounter(&el.Value.(*entry).counter)
	}
	r.release()
	return nil
}

func (r *reservation) Released(context.Context) error {
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	r.release()
	return nil
}

// release ends the hold, if any, dropping counters with nothing left in
// them; the caller holds the lock.
func (r *reservation) release() {
	for _, key := range []string{r.user, r.ip} {
		el, ok := r.t.entries[key]
		if !ok {
			continue
		}
		e := el.Value.(*entry)
		if r.held && e.inflight > 0 {
			e.inflight--
		}
		if e.inflight == 0 && e.failures == 0 && e.until.IsZero() {
			r.t.lru.Remove(el)
			delete(r.t.entries, key)
		}
	}
	r.held = false
}

// Len is the number of counters held.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// evict makes room for one entry: the least recently failed go first.
// Counters with attempts in flight stay (their reservations are settled
// soon), so memory may pass MaxEntries by the attempts in flight.
func (t *Throttle) evict() {
	for el := t.lru.Back(); el != nil && len(t.entries) >= t.cfg.MaxEntries; {
		prev := el.Prev()
		if e := el.Value.(*entry); e.inflight == 0 {
			t.lru.Remove(el)
			delete(t.entries, e.key)
		}
		el = prev
	}
}
