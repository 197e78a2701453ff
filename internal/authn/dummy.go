package authn

import (
	"context"
	"fmt"
	"sync/atomic"

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
// (it never matches), a slow check like any other (SlowCheck): an error
// means it could not run, and the login is answered as unavailable. A nil
// Dummy does nothing.
func (d *Dummy) Compare(ctx context.Context, password string) error {
	if d == nil {
		return nil
	}
	if err := SlowCheck(ctx); err != nil {
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

// DummyOf returns next's dummy, or nil when it has none: an authenticator
// wrapping another takes the wrapped one's.
func DummyOf(next PasswordAuthenticator) *Dummy {
	if h, ok := next.(dummyHolder); ok {
		return h.Dummy()
	}
	return nil
}
