package throttle

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// Shared is the Limiter of every replica on one database (throttle.store:
// database): its counters and the attempts held in flight are rows
// (store.Throttles), so an attacker gets the budget of one replica through
// any number of them, and a restart forgets nothing. The rules are the
// memory throttle's (limiter.go). Every Admit reads (one round trip); only
// a Hold, a failure and a success that clears a counter write. A
// credential-cache hit is therefore one read.
type Shared struct {
	cfg    Config
	st     store.Throttles
	now    func() time.Time
	writes atomic.Int64
}

var _ Limiter = (*Shared)(nil)

// opTimeout bounds each database call: settlements run on a context the
// client cannot cancel (a guesser hanging up must not escape its count),
// which must not wait forever either.
const opTimeout = 5 * time.Second

// NewShared returns a Limiter on st. now may be nil (time.Now).
// cfg.MaxEntries does not apply: Prune keeps the tables small.
func NewShared(st store.Throttles, cfg Config, now func() time.Time) *Shared {
	if now == nil {
		now = time.Now
	}
	cfg = cfg.withDefaults()
	if cfg.HoldTTL <= 0 {
		cfg.HoldTTL = DefaultHoldTTL
	}
	return &Shared{cfg: cfg, st: st, now: now}
}

// Network implements Limiter.
func (s *Shared) Network(ip string) string { return s.cfg.network(ip) }

// Writes is the number of writes made so far (holds, settlements,
// prunes): a credential-cache hit adds none.
func (s *Shared) Writes() int64 { return s.writes.Load() }

// dbKey is the stored key of a counter: a hash, so no user name or odd
// byte of a client's header reaches the database, and every key has the
// same size.
func dbKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return key[:1] + hex.EncodeToString(sum[:20])
}

// Admit implements Limiter: one read of both counters.
func (s *Shared) Admit(ctx context.Context, user, ip string) (Reservation, time.Duration, error) {
	r := &shared{s: s}
	userKey, ipKey := s.cfg.keys(user, ip)
	for _, k := range []struct {
		key   string
		limit int
	}{{userKey, s.cfg.UserIPLimit}, {ipKey, s.cfg.IPLimit}} {
		if k.limit > 0 {
			r.keys, r.limits = append(r.keys, dbKey(k.key)), append(r.limits, k.limit)
		}
	}
	r.userCounter = s.cfg.UserIPLimit > 0
	if len(r.keys) == 0 {
		return Nothing{}, 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	now := s.now()
	cs, err := s.st.ThrottleCounters(ctx, r.keys, now)
	if err != nil {
		return nil, 0, fmt.Errorf("throttle: %w", err)
	}
	if wait := s.refusals(r, cs, now); wait > 0 {
		return nil, wait, nil
	}
	if r.userCounter {
		r.clear = cs[0].Failures > 0 || !cs[0].Until.IsZero()
	}
	return r, 0, nil
}

// refusals is the longest wait the counters cs of r impose now.
func (s *Shared) refusals(r *shared, cs []store.ThrottleCounter, now time.Time) time.Duration {
	var wait time.Duration
	for i, sc := range cs {
		c := counter{failures: sc.Failures, inflight: sc.Holds, last: sc.Last, until: sc.Until}
		wait = max(wait, s.cfg.refusal(&c, r.limits[i], now))
	}
	return wait
}

// shared is an attempt Shared admitted.
type shared struct {
	s      *Shared
	keys   []string // stored keys: the (user, network) counter first, when counted
	limits []int
	// userCounter says keys[0] is the (user, network) counter; clear that
	// it had something a success must clear.
	userCounter, clear bool
	hold               string // the id of the hold taken, "" before Hold
}

func (r *shared) Hold(ctx context.Context) (time.Duration, error) {
	if r.hold != "" {
		return 0, nil
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	now := r.s.now()
	var wait time.Duration
	r.s.writes.Add(1)
	err := r.s.st.UpdateThrottle(ctx, store.ThrottleUpdate{Keys: r.keys, Now: now, Hold: id,
		HoldUntil: now.Add(r.s.cfg.HoldTTL), Apply: func(cs []store.ThrottleCounter) bool {
			wait = r.s.refusals(r, cs, now)
			return wait == 0
		}})
	switch {
	case err != nil:
		return 0, fmt.Errorf("throttle: %w", err)
	case wait > 0:
		return wait, nil
	}
	r.hold = id
	return 0, nil
}

func (r *shared) Failed(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	now := r.s.now()
	r.s.writes.Add(1)
	err := r.s.st.UpdateThrottle(ctx, store.ThrottleUpdate{Keys: r.keys, Now: now, Release: r.hold,
		Apply: func(cs []store.ThrottleCounter) bool {
			for i := range cs {
				c := counter{failures: cs[i].Failures, last: cs[i].Last, until: cs[i].Until}
				r.s.cfg.fail(&c, r.limits[i], now, false)
				cs[i].Failures, cs[i].Last, cs[i].Until = c.failures, c.last, c.until
			}
			return false
		}})
	r.hold = ""
	if err != nil {
		return fmt.Errorf("throttle: count a failure: %w", err)
	}
	return nil
}

func (r *shared) Succeeded(ctx context.Context) error {
	if !r.clear {
		return r.Released(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	r.s.writes.Add(1)
	err := r.s.st.UpdateThrottle(ctx, store.ThrottleUpdate{Keys: r.keys[:1], Now: r.s.now(), Release: r.hold,
		Apply: func(cs []store.ThrottleCounter) bool {
			cs[0].Failures, cs[0].Until = 0, time.Time{}
			return false
		}})
	r.hold = ""
	if err != nil {
		return fmt.Errorf("throttle: clear after a success: %w", err)
	}
	return nil
}

func (r *shared) Released(ctx context.Context) error {
	if r.hold == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	r.s.writes.Add(1)
	err := r.s.st.ReleaseThrottle(ctx, r.hold)
	r.hold = ""
	if err != nil {
		return fmt.Errorf("throttle: release: %w", err)
	}
	return nil
}

// Prune deletes expired holds and counters with nothing left to count
// (past Forget, not blocked). Every replica runs it now and then
// (PruneEvery); it is idempotent.
func (s *Shared) Prune(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	now := s.now()
	var forgetBefore time.Time
	if s.cfg.Forget > 0 {
		forgetBefore = now.Add(-s.cfg.Forget)
	}
	s.writes.Add(1)
	n, err := s.st.PruneThrottle(ctx, now, forgetBefore)
	if err != nil {
		return 0, fmt.Errorf("throttle: prune: %w", err)
	}
	return n, nil
}

// PruneEvery is how often a replica prunes the shared throttle.
const PruneEvery = time.Minute
