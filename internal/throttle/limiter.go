package throttle

import (
	"context"
	"time"
)

// Limiter admits login attempts within the failed-login limits. The login
// gate (internal/login) is its one caller. Two implementations keep the
// same rules (written once, in this file): *Throttle counts in this
// process; *Shared counts in the database, for every replica at once.
type Limiter interface {
	// Network is the client network an address is counted under: the
	// address masked to the configured prefix ("2001:db8:1:2::/64").
	Network(ip string) string
	// Admit says whether an attempt for user from ip may start, reading
	// the counters without writing them. Here and below, user is counted
	// as CanonicalUser(user) and ip as Network(ip). A refused attempt has
	// retryAfter > 0: the block, or busyRetry when only attempts in
	// flight fill a limit. An admitted attempt (retryAfter 0) is settled
	// by exactly one of its Reservation's Failed, Succeeded or Released.
	// An error (the database could not be asked) admits nothing: the
	// gate answers 503, never lets the attempt through unchecked.
	Admit(ctx context.Context, user, ip string) (r Reservation, retryAfter time.Duration, err error)
}

// Reservation is an admitted attempt. Its methods are called one after the
// other, never at once.
type Reservation interface {
	// Hold makes the attempt count as in flight, against both limits, as a
	// failure would, until it is settled: failures plus attempts held stay
	// within the limits, so a burst of simultaneous guesses gets no more
	// checks than the same guesses one after another. The gate calls it
	// before the attempt's first slow check (bcrypt, LDAP: the checks of
	// secrets a person chose and could be guessed), so an attempt the
	// credential cache answers, or a fast check of an unguessable secret,
	// never writes a reservation. It is refused (retryAfter > 0) like
	// Admit, and then the attempt must not be checked; it is settled all
	// the same. A second call does nothing.
	Hold(ctx context.Context) (retryAfter time.Duration, err error)
	// Failed settles a failed login: one failure on both counters, and
	// the hold, if any, ends.
	Failed(ctx context.Context) error
	// Succeeded settles a successful login: it clears the (user, network)
	// counter and ends the hold. The network's own counter keeps its
	// failures: one good login must not hide a password spray from that
	// network. A success with nothing to clear and no hold writes nothing.
	Succeeded(ctx context.Context) error
	// Released settles an attempt that came to no verdict (a backend could
	// not be asked): nothing is counted, the hold ends.
	Released(ctx context.Context) error
}

// busyRetry is the wait a refusal names when only attempts in flight, not
// failures, fill a limit: they settle within about a password check.
const busyRetry = time.Second

// counter is one failure counter, of a (user, network) pair or of a
// network, as both implementations keep it.
type counter struct {
	failures int
	inflight int       // attempts held and not yet settled
	last     time.Time // the last failure
	until    time.Time // blocked until
}

// refusal is how long an attempt on c, limited to limit, must wait now; 0
// when it may go ahead. Failures older than Forget are dropped first.
func (cfg *Config) refusal(c *counter, limit int, now time.Time) time.Duration {
	if limit <= 0 {
		return 0
	}
	if wait := c.until.Sub(now); wait > 0 {
		return wait
	}
	if cfg.Forget > 0 && !c.last.IsZero() && now.Sub(c.last) > cfg.Forget {
		c.failures = 0
	}
	switch {
	case c.failures+c.inflight < limit:
		return 0
	case c.failures >= limit && c.inflight == 0:
		return 0 // past the limit and the block is over: one attempt
	}
	return busyRetry
}

// refusals is the longest wait of the (user, network) and network counters.
func (cfg *Config) refusals(user, ip *counter, now time.Time) time.Duration {
	return max(cfg.refusal(user, cfg.UserIPLimit, now), cfg.refusal(ip, cfg.IPLimit, now))
}

// fail counts one failure on c: once past limit, c is blocked for
// BaseDelay × 2^(failures − limit), capped at MaxDelay. held says the
// attempt was in flight on c.
func (cfg *Config) fail(c *counter, limit int, now time.Time, held bool) {
	if held && c.inflight > 0 {
		c.inflight--
	}
	if limit <= 0 {
		return
	}
	if cfg.Forget > 0 && !c.last.IsZero() && now.Sub(c.last) > cfg.Forget && !now.Before(c.until) {
		c.failures = 0
	}
	c.failures++
	c.last = now
	if over := c.failures - limit; over >= 0 {
		c.until = now.Add(cfg.delay(over))
	}
}

// clearCounter clears c, the (user, network) counter of a successful login.
func clearCounter(c *counter) { c.failures, c.until = 0, time.Time{} }

// delay is BaseDelay × 2^over, capped at MaxDelay.
func (cfg *Config) delay(over int) time.Duration {
	d := cfg.BaseDelay
	for i := 0; i < over && d < cfg.MaxDelay; i++ {
		d *= 2
	}
	if cfg.MaxDelay > 0 && d > cfg.MaxDelay {
		d = cfg.MaxDelay
	}
	return d
}

// Nothing is the Reservation of an attempt no limiter counts (throttling
// off): every method does nothing.
type Nothing struct{}

func (Nothing) Hold(context.Context) (time.Duration, error) { return 0, nil }
func (Nothing) Failed(context.Context) error                { return nil }
func (Nothing) Succeeded(context.Context) error             { return nil }
func (Nothing) Released(context.Context) error              { return nil }
