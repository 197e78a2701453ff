package authn

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrBusy is a slow check that could not get a slot (throttle.Slots): the
// server has as many password checks running as it allows. It wraps
// ErrUnavailable: the request is answered 503, with Retry-After.
var ErrBusy = fmt.Errorf("%w: too many password checks at once", ErrUnavailable)

// Slow checks are the ones that cost real CPU or a round trip: bcrypt
// (a password, or the dummy comparison of a refusal), Harbor's PBKDF2 and
// an LDAP bind. The login gate (internal/login) bounds how many run at
// once; it hands each login a ticket in its context, and every slow check
// calls SlowCheck first, which takes the login's slot the first time and
// holds it until the gate settles the login. Checks that run no slow hash
// (a credential-cache hit, the SHA-256 of a robot secret, a PAT or a
// refresh token, a federated JWT) take no slot. Without a ticket (the CLI,
// tests of one authenticator) SlowCheck does nothing.

type slotKey struct{}

type slotTicket struct {
	acquire func(context.Context) (release func(), err error)

	mu      sync.Mutex
	release func()
	done    bool
}

// WithSlowChecks returns ctx carrying a ticket: the first slow check under
// it takes a slot with acquire, which it holds until done is called (once,
// when the login is over). acquire fails with an error that SlowCheck
// reports as ErrBusy.
func WithSlowChecks(ctx context.Context, acquire func(context.Context) (release func(), err error)) (_ context.Context, done func()) {
	t := &slotTicket{acquire: acquire}
	return context.WithValue(ctx, slotKey{}, t), t.finish
}

func (t *slotTicket) finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done = true
	if t.release != nil {
		t.release()
		t.release = nil
	}
}

// errTicketDone is a slow check asked for after its login was settled (a
// check still running for a caller that left).
var errTicketDone = errors.New("login already settled")

// SlowCheck takes the login's slot, if it has none yet, before a slow
// check. An error means the check must not run: ErrBusy when no slot came
// free in time, the context's error when the caller left.
func SlowCheck(ctx context.Context) error {
	t, ok := ctx.Value(slotKey{}).(*slotTicket)
	if !ok {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.release != nil:
		return nil
	case t.done:
		return fmt.Errorf("slow check: %w: %w", ErrBusy, errTicketDone)
	}
	release, err := t.acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("slow check: %w: %w", ErrUnavailable, err)
		}
		return fmt.Errorf("slow check: %w: %w", ErrBusy, err)
	}
	t.release = release
	return nil
}
