package sqldb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/authserver/authserver/internal/store"
)

var (
	// throttleReadQ reads two counters (a key given twice is read once)
	// and their live holds in one round trip: counters, then hold counts.
	throttleReadQ = q(`SELECT key, failures, last_failure, blocked_until, 0 FROM throttle_counters WHERE key IN (?, ?)
		UNION ALL
		SELECT key, 0, NULL, NULL, count(*) FROM throttle_holds WHERE key IN (?, ?) AND expires_at > ? GROUP BY key`)
	// throttleLockQ reads one counter, creating it, and keeps its row
	// locked to the end of the transaction (PostgreSQL's upsert takes the
	// row lock; SQLite's transaction holds the write lock from BEGIN).
	throttleLockQ = q(`INSERT INTO throttle_counters (key) VALUES (?)
		ON CONFLICT (key) DO UPDATE SET failures = throttle_counters.failures
		RETURNING failures, last_failure, blocked_until`)
	throttleHoldsQ = q(`SELECT key, count(*) FROM throttle_holds WHERE key IN (?, ?) AND expires_at > ? GROUP BY key`)
	throttleWriteQ = q(`UPDATE throttle_counters SET failures = ?, last_failure = ?, blocked_until = ? WHERE key = ?`)
	throttleHoldQ  = q(`INSERT INTO throttle_holds (key, id, expires_at) VALUES (?, ?, ?)`)
	throttleFreeQ  = q(`DELETE FROM throttle_holds WHERE id = ?`)

	throttlePruneHoldsQ    = q(`DELETE FROM throttle_holds WHERE expires_at <= ?`)
	throttlePruneCountersQ = q(`DELETE FROM throttle_counters WHERE (blocked_until IS NULL OR blocked_until <= ?)
		AND (failures = 0 OR last_failure < ?)`)
)

// pair is keys as the two-key statements take them: one key is given twice.
func pair(op string, keys []string) ([2]string, error) {
	switch len(keys) {
	case 1:
		return [2]string{keys[0], keys[0]}, nil
	case 2:
		return [2]string{keys[0], keys[1]}, nil
	}
	return [2]string{}, fmt.Errorf("%s: %d keys, want 1 or 2", op, len(keys))
}

func (s *Store) ThrottleCounters(ctx context.Context, keys []string, now time.Time) ([]store.ThrottleCounter, error) {
	k, err := pair("read throttle", keys)
	if err != nil {
		return nil, err
	}
	out := make([]store.ThrottleCounter, len(keys))
	for i, key := range keys {
		out[i].Key = key
	}
	rows, err := s.query(ctx, throttleReadQ, k[0], k[1], k[0], k[1], s.time(at(now)))
	if err == nil {
		defer rows.Close()
		for rows.Next() {
			var c store.ThrottleCounter
			if err = rows.Scan(&c.Key, &c.Failures, timeCol(&c.Last), timeCol(&c.Until), &c.Holds); err != nil {
				break
			}
			for i := range out {
				if out[i].Key == c.Key {
					out[i].Failures += c.Failures
					out[i].Holds += c.Holds
					out[i].Last, out[i].Until = later(out[i].Last, c.Last), later(out[i].Until, c.Until)
				}
			}
		}
		if err == nil {
			err = rows.Err()
		}
	}
	return out, s.wrap("read throttle", err)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (s *Store) UpdateThrottle(ctx context.Context, u store.ThrottleUpdate) error {
	k, err := pair("update throttle", u.Keys)
	if err != nil {
		return err
	}
	err = s.relaxedTx(ctx, func(tx *Store) error {
		cs := make([]store.ThrottleCounter, len(u.Keys))
		// Lock in one order: two updates of the same pair never wait
		// for each other crosswise.
		order := slices.Compact(slices.Sorted(slices.Values(u.Keys)))
		for _, key := range order {
			var c store.ThrottleCounter
			if err := tx.queryRow(ctx, throttleLockQ, key).Scan(&c.Failures, timeCol(&c.Last), timeCol(&c.Until)); err != nil {
				return err
			}
			for i := range u.Keys {
				if u.Keys[i] == key {
					c.Key = key
					cs[i] = c
				}
			}
		}
		if u.Release != "" {
			if _, err := tx.exec(ctx, throttleFreeQ, u.Release); err != nil {
				return err
			}
		}
		holds, err := tx.query(ctx, throttleHoldsQ, k[0], k[1], s.time(at(u.Now)))
		if err != nil {
			return err
		}
		for holds.Next() {
			var key string
			var n int
			if err := holds.Scan(&key, &n); err != nil {
				holds.Close()
				return err
			}
			for i := range cs {
				if cs[i].Key == key {
					cs[i].Holds = n
				}
			}
		}
		holds.Close()
		if err := holds.Err(); err != nil {
			return err
		}
		before := slices.Clone(cs)
		hold := u.Apply(cs)
		for i, c := range cs {
			if i > 0 && u.Keys[i] == u.Keys[0] {
				continue // one counter, given twice
			}
			b := before[i]
			if c.Failures == b.Failures && c.Last.Equal(b.Last) && c.Until.Equal(b.Until) {
				continue
			}
			if _, err := tx.exec(ctx, throttleWriteQ, c.Failures, s.optTime(c.Last), s.optTime(c.Until), c.Key); err != nil {
				return err
			}
		}
		if hold {
			for _, key := range order {
				if _, err := tx.exec(ctx, throttleHoldQ, key, u.Hold, s.time(at(u.HoldUntil))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return s.wrap("update throttle", err)
}

func (s *Store) ReleaseThrottle(ctx context.Context, id string) error {
	if s.d.Relaxed == "" {
		_, err := s.exec(ctx, throttleFreeQ, id)
		return s.wrap("release throttle hold", err)
	}
	err := s.relaxedTx(ctx, func(tx *Store) error {
		_, err := tx.exec(ctx, throttleFreeQ, id)
		return err
	})
	return s.wrap("release throttle hold", err)
}

// relaxedTx is inTx with the dialect's Relaxed statement first: the
// throttle's writes are many and small, and losing the last of them in a
// crash of the database server costs a guesser's count of a few
// milliseconds, while waiting for the disk would cost every password
// check a flush or two.
func (s *Store) relaxedTx(ctx context.Context, fn func(tx *Store) error) error {
	return s.inTx(ctx, func(tx *Store) error {
		if s.d.Relaxed != "" {
			if _, err := tx.run.ExecContext(ctx, s.d.Relaxed); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

func (s *Store) PruneThrottle(ctx context.Context, now, forgetBefore time.Time) (int64, error) {
	holds, err := affected(s.exec(ctx, throttlePruneHoldsQ, s.time(at(now))))
	if err != nil {
		return 0, s.wrap("prune throttle", err)
	}
	counters, err := affected(s.exec(ctx, throttlePruneCountersQ, s.time(at(now)), s.optTime(forgetBefore)))
	return holds + counters, s.wrap("prune throttle", err)
}
