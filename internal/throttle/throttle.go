// Package throttle slows down password guessing: failed logins are counted per (username, client IP) and per client IP, with exponential backoff past a limit.
package throttle

import (
	"container/list"
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
}

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
	return &Throttle{cfg: cfg, now: now, entries: map[string]*list.Element{}, lru: list.New()}
}

func userKey(user, ip string) string { return "u\x00" + ip + "\x00" + user }
func ipKey(ip string) string         { return "i\x00" + ip }

// Check reports whether a login for user from ip may be tried now. When it
// may not, retryAfter says how long to wait. A blocked pair or address
// does not affect the same user from another address.
func (t *Throttle) Check(user, ip string) (retryAfter time.Duration, ok bool) {
	if t == nil {
		return 0, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range []string{userKey(user, ip), ipKey(ip)} {
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
	t.bump(userKey(user, ip), t.cfg.UserIPLimit, now)
	t.bump(ipKey(ip), t.cfg.IPLimit, now)
}

// Success clears the counter of user from ip. The address's own counter
// stays: one good login must not hide a password spray from that address.
func (t *Throttle) Success(user, ip string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.entries[userKey(user, ip)]; ok {
		t.lru.Remove(el)
		delete(t.entries, userKey(user, ip))
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
