package secret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// PATs authenticates personal access tokens: a password that is a
// well-formed PAT (PATPrefix, right length, valid checksum) is looked up by
// its hash with one indexed query and never reaches the password backends
// (so it is never sent to LDAP); anything else goes to next. A PAT works
// wherever its owner's password does and grants exactly the owner's
// current permissions; it stops working when revoked, expired, or when the
// owner is disabled, deleted or (LDAP) gone from the directory.
type PATs struct {
	layer
	store    store.PersonalTokens
	accounts *authn.Accounts
}

var _ authn.PasswordAuthenticator = (*PATs)(nil)

// NewPATs returns a PAT authenticator passing other logins to next. now
// (nil = time.Now) decides expiry; log receives why a PAT was refused.
func NewPATs(st store.PersonalTokens, accounts *authn.Accounts, next authn.PasswordAuthenticator, now func() time.Time, log *slog.Logger) *PATs {
	return &PATs{layer: newLayer(next, now, log), store: st, accounts: accounts}
}

// Dummy is next's dummy comparison, run for every refused token (a PAT is
// checked with a fast hash, so a refusal would otherwise answer faster than
// a wrong password).
func (p *PATs) Dummy() *authn.Dummy { return p.dummy }

// IsPAT reports whether s has the form of a personal access token.
func IsPAT(s string) bool { return ValidChecksum(s, PATPrefix) }

// NewPATSecret returns a fresh personal access token secret.
func NewPAT() (string, error) { return New(PATPrefix, true) }

// Login implements PasswordAuthenticator. The username must be the token
// owner's name.
func (p *PATs) Login(ctx context.Context, username, password string) (authn.Identity, bool, error) {
	if !IsPAT(password) {
		return p.next.Login(ctx, username, password)
	}
	t, err := p.store.GetPersonalToken(ctx, Hash(password))
	if errors.Is(err, store.ErrNotFound) {
		p.log.Info("personal access token refused", "user", username, "reason", "unknown or revoked")
		return p.refuse(ctx, password)
	}
	if err != nil {
		return authn.Identity{}, false, fmt.Errorf("personal token login: %w: %w", authn.ErrUnavailable, err)
	}
	log := p.log.With("user", username, "token", t.Name)
	now := p.now()
	reason := ""
	switch {
	case t.User != username:
		reason = "belongs to another user"
	case t.Expired(now):
		reason = "expired"
	}
	if reason == "" {
		var id authn.Identity
		id, reason, err = p.accounts.Current(ctx, t.User, authn.MethodPAT, store.PasswordBasis(t.PasswordVerifiedAt, t.CreatedAt))
		if err != nil {
			return authn.Identity{}, false, fmt.Errorf("personal token login: %w", err)
		}
		if reason == "" && id.UserID != t.UserID {
			reason = "user was re-created"
		}
		if reason == "" {
			if reason, err = p.accounts.SignIn(ctx, t.SignInID); err != nil {
				return authn.Identity{}, false, fmt.Errorf("personal token login: %w", err)
			}
		}
		if reason == "" {
			if len(t.AllowFrom) > 0 {
				id.Conditions = append(id.Conditions, authn.Condition{On: "token " + t.Name + " of user " + t.User, AllowFrom: t.AllowFrom})
			}
			if t.LastUsedAt.IsZero() || now.Sub(t.LastUsedAt) >= touchEvery {
				if err := p.store.TouchPersonalToken(ctx, t.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
					log.Warn("cannot record personal token use", "err", err)
				}
			}
			return id, true, nil
		}
	}
	log.Info("personal access token refused", "reason", reason)
	return p.refuse(ctx, password)
}
