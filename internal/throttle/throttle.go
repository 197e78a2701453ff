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
	inflight int // attempts admitted and not yet settled
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
	if t == nil {
		return ip
	}
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

// Reserve admits one login attempt for user from ip, or refuses it. Here
// and below, user is counted as CanonicalUser(user) and ip as Network(ip);
// ip is the full client address. An admitted attempt holds a reservation
// on both counters until it is settled (Succeeded, Failed or Released), and
// counts against both limits meanwhile, as a failure would: failures plus
// attempts in flight stay within UserIPLimit and IPLimit, so a burst of
// simultaneous guesses gets no more checks than the same guesses one after
// another. Once a counter is past its limit and its block has run out, one
// attempt at a time is admitted, and its failure blocks again for twice as
// long. When an attempt is refused, retryAfter says how long to wait: the
// block, or a second when only attempts in flight fill the limit. A blocked
// pair or address does not affect the same user from another address.
//
// Each call to Reserve that is admitted must be settled exactly once.
func (t *Throttle) Reserve(user, ip string) (r Reservation, retryAfter time.Duration, ok bool) {
	if t == nil {
		return Reservation{}, 0, true
	}
	r = Reservation{t: t, user: t.userKey(user, ip), ip: t.ipKey(ip)}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range []struct {
		key   string
		limit int
	}{{r.user, t.cfg.UserIPLimit}, {r.ip, t.cfg.IPLimit}} {
		if wait := t.refusal(k.key, k.limit, now); wait > retryAfter {
			retryAfter = wait
		}
	}
	if retryAfter > 0 {
		return Reservation{}, retryAfter, false
	}
	t.hold(r.user, t.cfg.UserIPLimit)
	t.hold(r.ip, t.cfg.IPLimit)
	return r, 0, true
}

// busyRetry is the wait a refusal names when only attempts in flight, not
// failures, fill a limit: they settle within about a password check.
const busyRetry = time.Second

// refusal is how long an attempt on key must wait, 0 when it may go ahead.
func (t *Throttle) refusal(key string, limit int, now time.Time) time.Duration {
	el, found := t.entries[key]
	if limit <= 0 || !found {
		return 0
	}
	e := el.Value.(*entry)
	if wait := e.until.Sub(now); wait > 0 {
		return wait
	}
	if t.cfg.Forget > 0 && now.Sub(e.last) > t.cfg.Forget {
		e.failures = 0
	}
	switch {
	case e.failures+e.inflight < limit:
		return 0
	case e.failures >= limit && e.inflight == 0:
		return 0 // past the limit and the block is over: one attempt
	}
	return busyRetry
}

// hold counts one attempt in flight on key.
func (t *Throttle) hold(key string, limit int) {
	if limit <= 0 {
		return
	}
	if el, ok := t.entries[key]; ok {
		el.Value.(*entry).inflight++
		return
	}
	t.evict()
	t.entries[key] = t.lru.PushFront(&entry{key: key, inflight: 1})
}

// Reservation is an admitted attempt (Throttle.Reserve), settled by exactly
// one of its methods. The zero Reservation (of a nil Throttle) does nothing.
type Reservation struct {
	t        *Throttle
	user, ip string
}

// Failed settles a failed login: one failure on both counters.
func (r Reservation) Failed() {
	if r.t == nil {
		return
	}
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	now := r.t.now()
	r.t.bump(r.user, r.t.cfg.UserIPLimit, now)
	r.t.bump(r.ip, r.t.cfg.IPLimit, now)
}

// Succeeded settles a successful login: it clears the (user, network)
// counter. The network's own counter keeps its failures: one good login
// must not hide a password spray from that network.
func (r Reservation) Succeeded() {
	if r.t == nil {
		return
	}
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	if el, ok := r.t.entries[r.user]; ok {
		e := el.Value.(*entry)
		e.failures, e.until = 0, time.Time{}
	}
	r.t.release(r.user)
	r.t.release(r.ip)
}

// Released settles an attempt that came to no verdict (a backend could not
// be asked): nothing is counted.
func (r Reservation) Released() {
	if r.t == nil {
		return
	}
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	r.t.release(r.user)
	r.t.release(r.ip)
}

// release ends one attempt in flight on key, dropping the counter when
// nothing is left in it.
func (t *Throttle) release(key string) {
	el, ok := t.entries[key]
	if !ok {
		return
	}
	e := el.Value.(*entry)
	if e.inflight > 0 {
		e.inflight--
	}
	if e.inflight == 0 && e.failures == 0 && e.until.IsZero() {
		t.lru.Remove(el)
		delete(t.entries, key)
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
		if e.inflight > 0 {
			e.inflight--
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
