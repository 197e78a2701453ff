package secret

import (
	"context"
	"log/slog"
	"time"

	"github.com/authserver/authserver/internal/authn"
)

// layer is what the credential kinds recognised before the passwords
// (robots, PATs) share: the authenticator other logins go to, the clock
// that decides expiry, the log of refusals and next's dummy comparison.
type layer struct {
	next  authn.PasswordAuthenticator
	now   func() time.Time
	log   *slog.Logger
	dummy *authn.Dummy
}

// newLayer fills in the defaults: now nil is time.Now, log nil discards.
func newLayer(next authn.PasswordAuthenticator, now func() time.Time, log *slog.Logger) layer {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return layer{next: next, now: now, log: log, dummy: authn.DummyOf(next)}
}

// refuse ends a refused login: it runs the dummy comparison, so that the
// refusal takes as long as a wrong password, and answers "not valid".
func (l layer) refuse(ctx context.Context, password string) (authn.Identity, bool, error) {
	if err := l.dummy.Compare(ctx, password); err != nil {
		return authn.Identity{}, false, err
	}
	return authn.Identity{}, false, nil
}
