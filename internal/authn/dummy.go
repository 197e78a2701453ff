package authn

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Dummy is the bcrypt comparison a refused login runs when it did not reach
// a real password hash: an unknown name, a robot or personal access token
// that failed (their secrets are checked with a fast hash), a disabled
// user, a directory user the directory or the chain refused. So a failed
// login costs one bcrypt at the configured cost whatever the name, and the
// response time does not tell which names exist or what kind they are.
type Dummy struct {
	hash []byte
	runs atomic.Int64
}

// NewDummy makes the dummy hash at cost, the cost real hashes use.
func NewDummy(cost int) (*Dummy, error) {
	h, err := bcrypt.GenerateFromPassword([]byte("authserver-dummy-password"), cost)
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	return &Dummy{hash: h}, nil
}

// Compare runs one bcrypt comparison of password against the dummy hash
// (it never matches), a slow check like any other (slowCheck): an error
// means it could not run, and the login is answered as unavailable. A nil
// Dummy does nothing.
func (d *Dummy) Compare(ctx context.Context, password string) error {
	if d == nil {
		return nil
	}
	if err := slowCheck(ctx); err != nil {
		return err
	}
	d.runs.Add(1)
	_ = bcrypt.CompareHashAndPassword(d.hash, []byte(password))
	return nil
}

// Runs is how many comparisons were run (tests assert the dummy path).
func (d *Dummy) Runs() int64 {
	if d == nil {
		return 0
	}
	return d.runs.Load()
}

// dummyHolder is implemented by the authenticators that carry the dummy
// (Local, Chain, PATs, Robots): an authenticator wrapping another takes the
// wrapped one's, so the whole stack shares the one built by NewLocal.
type dummyHolder interface {
	Dummy() *Dummy
}

// dummyOf returns next's dummy, or nil when it has none.
// layer is what the credential kinds recognised before the passwords
// (robots, PATs) share: the authenticator other logins go to, the clock
// that decides expiry, the log of refusals and next's dummy comparison.
type layer struct {
	next  PasswordAuthenticator
	now   func() time.Time
	log   *slog.Logger
	dummy *Dummy
}

// newLayer fills in the defaults: now nil is time.Now, log nil discards.
func newLayer(next PasswordAuthenticator, now func() time.Time, log *slog.Logger) layer {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return layer{next: next, now: now, log: log, dummy: dummyOf(next)}
}

// refuse ends a refused login: it runs the dummy comparison, so that the
// refusal takes as long as a wrong password, and answers "not valid".
func (l layer) refuse(ctx context.Context, password string) (Identity, bool, error) {
	if err := l.dummy.Compare(ctx, password); err != nil {
		return Identity{}, false, err
	}
	return Identity{}, false, nil
}

func dummyOf(next PasswordAuthenticator) *Dummy {
	if h, ok := next.(dummyHolder); ok {
		return h.Dummy()
	}
	return nil
}
