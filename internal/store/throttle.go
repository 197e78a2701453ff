package store

import (
	"context"
	"time"
)

// ThrottleCounter is one counter of the login throttle (internal/throttle)
// as the database keeps it for every replica: a (user, network) pair's or a
// network's failures, and the attempts in flight on it.
type ThrottleCounter struct {
	// Key names the counter (internal/throttle makes it; at most 128
	// bytes of printable ASCII).
	Key string
	// Failures is the number of failed logins counted; Last is the time of
	// the last one and Until the end of the block (zero: none).
	Failures    int
	Last, Until time.Time
	// Holds is the number of attempts in flight on the counter: holds not
	// yet released that expire after the time asked about. Read only.
	Holds int
}

// ThrottleUpdate is one change of throttle counters, made in one
// transaction (Throttles.UpdateThrottle).
type ThrottleUpdate struct {
	// Keys are the counters to change, one or two; absent ones start at
	// zero.
	Keys []string
	// Now is the time holds are counted at (Holds counts those that
	// expire after it).
	Now time.Time
	// Release, when set, ends the holds with this id before Apply sees
	// the counters.
	Release string
	// Apply gets the counters of Keys, in the order of Keys, and changes
	// Failures, Last and Until in place; what it leaves is written. It
	// returns true to take a hold on every key: id Hold, expiring at
	// HoldUntil. It runs once, inside the transaction: no slow work.
	Apply func(cs []ThrottleCounter) (hold bool)
	// Hold and HoldUntil are the hold Apply may take.
	Hold      string
	HoldUntil time.Time
}

// Throttles keeps the login throttle's counters and holds (attempts in
// flight) where every replica sees them (throttle.store: database).
type Throttles interface {
	// ThrottleCounters reads the counters of keys (one or two), in the
	// order of keys, absent ones as zero with their Key set; Holds counts
	// the holds that expire after now. It writes nothing: the login
	// gate's read for every attempt, credential-cache hits included.
	ThrottleCounters(ctx context.Context, keys []string, now time.Time) ([]ThrottleCounter, error)
	// UpdateThrottle applies u in one transaction that holds the counters
	// of u.Keys locked from their read to their write: every process
	// changing the same counters waits for it, so a decision on the
	// counters (admit or refuse a hold) and its write are one step for all
	// replicas. Keys are locked in one order (no deadlock between two
	// updates of the same pair).
	UpdateThrottle(ctx context.Context, u ThrottleUpdate) error
	// ReleaseThrottle ends the holds with id (none: nothing happens).
	ReleaseThrottle(ctx context.Context, id string) error
	// PruneThrottle deletes holds that expired before now, and counters
	// with nothing left to count: not blocked after now, and no failure
	// since forgetBefore (zero: only counters without failures). It says
	// how many rows went.
	PruneThrottle(ctx context.Context, now, forgetBefore time.Time) (int64, error)
}
