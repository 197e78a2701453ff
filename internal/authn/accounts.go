package authn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// UserChecker is the hook through which a user backend that lives outside
// authserver (LDAP) confirms, WITHOUT the user's password, that an account
// it onboarded still exists there. Refresh grants and personal access tokens
// of users with that Source call it on every use, so a user removed from the
// directory loses them. Implementations may answer from a cache, but never
// from one older than their own login cache TTL; they should refresh the
// user's recorded groups (store.Directory.SyncLDAPUser) when they ask the
// directory, since the identity is built from the recorded groups.
type UserChecker interface {
	// StillValid reports whether the backend still knows the user, as the
	// same account (not another entry that took the name), and whether a
	// credential issued at issued still stands (the user's password has not
	// changed since). false (with a nil error) means the credential is
	// refused (401); an error means the backend could not be asked (503).
	StillValid(ctx context.Context, user string, issued time.Time) (bool, error)
}

// SignInChecker decides whether a credential minted from an SSO sign-in
// (store.SignIn) still stands: the sign-in has not ended (oidc.max_session)
// and, with oidc.recheck, the provider still honours it. reason "" means it
// stands; an error that the provider or store could not be asked (503).
// *oidc.Provider implements it.
type SignInChecker interface {
	CheckSignIn(ctx context.Context, signInID int64) (reason string, err error)
}

// accountStore is what Accounts reads: the user row and, for LDAP and SSO
// users, what their last directory login or sign-in recorded.
type accountStore interface {
	GetUser(ctx context.Context, name string) (store.User, error)
	GetLDAPUser(ctx context.Context, name string) (store.LDAPUser, error)
	GetOIDCUser(ctx context.Context, name string) (store.OIDCUser, error)
}

// Accounts builds the CURRENT identity of a user who proved themselves with
// a stored credential (a refresh token, a personal access token) rather
// than a password: the account must still exist and be enabled, its admin
// flag is read now, and an LDAP user must still be known to the directory.
type Accounts struct {
	users    accountStore
	checkers map[string]UserChecker
	signIns  SignInChecker
}

// SetSignIns lets credentials minted from an SSO sign-in be checked
// against it (SignIn); without it they are refused.
func (a *Accounts) SetSignIns(c SignInChecker) { a.signIns = c }

// SignIn says why a credential minted from sign-in id may no longer be
// used, or "" (always for id 0: a credential not minted from a sign-in).
func (a *Accounts) SignIn(ctx context.Context, id int64) (reason string, err error) {
	switch {
	case id == 0:
		return "", nil
	case a.signIns == nil:
		return "minted from an SSO sign-in, but oidc is not configured", nil
	}
	reason, err = a.signIns.CheckSignIn(ctx, id)
	if err != nil {
		return "", fmt.Errorf("check sign-in %d: %w: %w", id, ErrUnavailable, err)
	}
	return reason, nil
}

// NewAccounts returns an Accounts reading st. checkers maps a user Source
// (store.SourceLDAP) to the backend that re-checks its users; users of a
// source without a checker are refused, so credentials of LDAP users stop
// working when LDAP is not configured. Local users need no checker.
func NewAccounts(st accountStore, checkers map[string]UserChecker) *Accounts {
	return &Accounts{users: st, checkers: checkers}
}

// Current returns the identity of the user named name, proven by method
// with a credential issued at issued, or ok false with a reason when the
// user may no longer log in. An error means a backend failed and wraps
// ErrUnavailable.
func (a *Accounts) Current(ctx context.Context, name, method string, issued time.Time) (id Identity, reason string, err error) {
	u, err := a.users.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, "user no longer exists", nil
	}
	if err != nil {
		return Identity{}, "", fmt.Errorf("check account %q: %w: %w", name, ErrUnavailable, err)
	}
	if u.Disabled {
		return Identity{}, "user is disabled", nil
	}
	id = Identity{UserID: u.ID, Name: u.Name, Admin: u.Admin, Method: method, Conditions: UserCondition(u)}
	switch u.Source {
	case store.SourceLocal:
		return id, "", nil
	case store.SourceLDAP:
		checker := a.checkers[store.SourceLDAP]
		if checker == nil {
			return Identity{}, "LDAP user, but LDAP is not configured", nil
		}
		ok, err := checker.StillValid(ctx, u.Name, issued)
		if err != nil {
			return Identity{}, "", fmt.Errorf("check account %q in the directory: %w: %w", name, ErrUnavailable, err)
		}
		if !ok {
			return Identity{}, "the directory no longer knows the user, or the password changed since", nil
		}
		lu, err := a.users.GetLDAPUser(ctx, u.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Never logged in through LDAP since the record was kept: no groups.
		case err != nil:
			return Identity{}, "", fmt.Errorf("check account %q: %w: %w", name, ErrUnavailable, err)
		default:
			id.GroupDNs = lu.GroupDNs
			id.Admin = id.Admin || lu.Admin
		}
		return id, "", nil
	case store.SourceOIDC:
		if a.signIns == nil {
			return Identity{}, "SSO user, but oidc is not configured", nil
		}
		ou, err := a.users.GetOIDCUser(ctx, u.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return Identity{}, "", fmt.Errorf("check account %q: %w: %w", name, ErrUnavailable, err)
		default:
			id.Admin = id.Admin || ou.Admin
		}
		return id, "", nil
	default:
		return Identity{}, "unknown user source " + u.Source, nil
	}
}
