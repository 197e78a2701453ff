package secret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// touchEvery bounds how often a credential's last-used time is written:
// at most once a minute per credential, so a busy CI runner does not turn
// every token request into a database write. Idle limits are in days.
const touchEvery = time.Minute

// RefreshOptions configure a Refresher.
type RefreshOptions struct {
	// MaxLifetime and MaxIdle limit a token's age and the time since its
	// last use; 0 means no limit.
	MaxLifetime time.Duration
	MaxIdle     time.Duration
	// BindClientID refuses a token presented with a client_id other than
	// the one it was issued to.
	BindClientID bool
	// Now is the clock (tests inject one); nil means time.Now.
	Now func() time.Time
	// Logger receives why a token was refused (never the token).
	Logger *slog.Logger
}

// Refresher issues and redeems refresh tokens: the long-lived credential a
// client gets when it asks for offline access (docker login stores it as
// its "identity token") and later trades for access tokens with
// grant_type=refresh_token, instead of keeping the password.
type Refresher struct {
	store    store.RefreshTokens
	accounts *authn.Accounts
	opts     RefreshOptions
}

// NewRefresher returns a Refresher over st; accounts re-checks the owner on
// every redemption.
func NewRefresher(st store.RefreshTokens, accounts *authn.Accounts, opts RefreshOptions) *Refresher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Refresher{store: st, accounts: accounts, opts: opts}
}

// Refreshable reports whether id may be given a refresh token: only a user
// who logged in with their own password. Robots and personal access tokens
// are themselves the long-lived credential the client keeps (and revoking
// one must take effect at once, not when a derived token expires); a
// refresh grant hands back the token it was given.
func Refreshable(id authn.Identity) bool {
	return id.UserID != 0 && id.Robot == nil && id.Method != authn.MethodPAT && id.Method != authn.MethodRefresh
}

// Issue creates a refresh token for the user of id, bound to service and
// clientID, and returns its secret: the only time it exists in clear.
func (r *Refresher) Issue(ctx context.Context, id authn.Identity, service, clientID string) (string, error) {
	if !Refreshable(id) {
		return "", fmt.Errorf("issue refresh token: %s login of %q cannot have one", id.Method, id.Name)
	}
	secret, err := New(RefreshPrefix, false)
	if err != nil {
		return "", fmt.Errorf("issue refresh token: %w", err)
	}
	t := store.RefreshToken{UserID: id.UserID, Hash: Hash(secret), Service: service, ClientID: clientID, CreatedAt: r.opts.Now(),
		PasswordVerifiedAt: id.PasswordVerifiedAt, SignInID: id.SignInID}
	if id.SignInID != 0 {
		t.ExpiresAt = id.NotAfter // the sign-in's end: the token dies with it
	}
	if err := r.store.CreateRefreshToken(ctx, &t); err != nil {
		return "", fmt.Errorf("issue refresh token: %w: %w", authn.ErrUnavailable, err)
	}
	return secret, nil
}

// Redeem checks a refresh token presented for service by clientID and
// returns its owner's CURRENT identity (Method MethodRefresh). A token that
// is unknown, revoked, for another service or client, too old, idle too
// long, or whose owner may no longer log in gives ok false; an error means a
// backend failed (503).
func (r *Refresher) Redeem(ctx context.Context, secret, service, clientID string) (authn.Identity, bool, error) {
	log := r.opts.Logger
	if !strings.HasPrefix(secret, RefreshPrefix) || len(secret) != len(RefreshPrefix)+secretBodyLen {
		log.Info("refresh token refused", "reason", "not a refresh token")
		return authn.Identity{}, false, nil
	}
	t, err := r.store.GetRefreshToken(ctx, Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		log.Info("refresh token refused", "reason", "unknown or revoked")
		return authn.Identity{}, false, nil
	}
	if err != nil {
		return authn.Identity{}, false, fmt.Errorf("redeem refresh token: %w: %w", authn.ErrUnavailable, err)
	}
	log = log.With("user", t.User, "refresh_token_id", t.ID)
	now := r.opts.Now()
	reason, expired := "", false
	switch {
	case t.Service != service:
		reason = "issued for service " + t.Service
	case r.opts.BindClientID && t.ClientID != clientID:
		reason = fmt.Sprintf("issued to client_id %q, presented by %q", t.ClientID, clientID)
	case r.opts.MaxLifetime > 0 && now.Sub(t.CreatedAt) > r.opts.MaxLifetime:
		reason, expired = "older than refresh_tokens.max_lifetime", true
	case r.opts.MaxIdle > 0 && now.Sub(t.LastUsedAt) > r.opts.MaxIdle:
		reason, expired = "unused for longer than refresh_tokens.max_idle", true
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		reason, expired = "its SSO sign-in ended (oidc.max_session)", true
	}
	if expired {
		// Dead for good: drop it (best effort) so listings stay short.
		if err := r.store.DeleteRefreshToken(ctx, t.User, t.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			log.Warn("cannot delete expired refresh token", "err", err)
		}
	}
	if reason != "" {
		log.Info("refresh token refused", "reason", reason)
		return authn.Identity{}, false, nil
	}
	id, why, err := r.accounts.Current(ctx, t.User, authn.MethodRefresh, store.PasswordBasis(t.PasswordVerifiedAt, t.CreatedAt))
	if err != nil {
		return authn.Identity{}, false, fmt.Errorf("redeem refresh token: %w", err)
	}
	if why == "" && id.UserID != t.UserID {
		why = "user was re-created"
	}
	if why == "" {
		if why, err = r.accounts.SignIn(ctx, t.SignInID); err != nil {
			return authn.Identity{}, false, fmt.Errorf("redeem refresh token: %w", err)
		}
		id.SignInID, id.NotAfter = t.SignInID, t.ExpiresAt
	}
	if why != "" {
		log.Info("refresh token refused", "reason", why)
		return authn.Identity{}, false, nil
	}
	if now.Sub(t.LastUsedAt) >= touchEvery {
		if err := r.store.TouchRefreshToken(ctx, t.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			log.Warn("cannot record refresh token use", "err", err)
		}
	}
	return id, true, nil
}
