package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
)

// LoginTTL is how long a sign-in may take at the provider: from GET /login
// to the callback.
const LoginTTL = 10 * time.Minute

// Pending is a sign-in started by Begin: the browser goes to URL, and
// keeps Cookie (state and PKCE verifier) for the callback.
type Pending struct {
	URL    string
	Cookie string
}

// Begin starts a sign-in that returns to next (a path of authserver's own;
// anything else becomes "/"): a fresh state, nonce and PKCE verifier, the
// state's and nonce's hashes kept in the store (a state works once). The
// provider not answering is ErrProvider.
func (p *Provider) Begin(ctx context.Context, next string) (Pending, error) {
	d, _, err := p.discover(ctx)
	if err != nil {
		return Pending{}, err
	}
	state, nonce := random(), random()
	verifier := oauth2.GenerateVerifier()
	now := p.now()
	if err := p.st.CreatePendingLogin(ctx, store.PendingLogin{StateHash: secret.Hash(state), NonceHash: secret.Hash(nonce),
		Next: SafeNext(next), CreatedAt: now, ExpiresAt: now.Add(LoginTTL)}); err != nil {
		return Pending{}, fmt.Errorf("begin sign-in: %w: %w", authn.ErrUnavailable, err)
	}
	u := p.oauth2Config(d).AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	return Pending{URL: u, Cookie: state + "." + verifier}, nil
}

// SafeNext keeps next only when it is a path on authserver itself ("/x",
// not "//host" or "/\host" or a URL).
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") || len(next) > 2048 {
		return "/"
	}
	return next
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SignedIn is a finished sign-in.
type SignedIn struct {
	User     store.User
	SignIn   store.SignIn
	Identity authn.Identity
	// Next is where the browser goes now.
	Next string
	// Onboarded: the user was created by this sign-in.
	Onboarded bool
	// Groups are the groups the claim gave; Skipped those not joined
	// (the name belongs to a local or LDAP group).
	Groups, Skipped []string
}

// Finish completes a sign-in at the callback: state (from the query) must
// match the cookie Begin set and a pending login not yet taken; the code is
// exchanged with the PKCE verifier; the ID token must verify (signature,
// iss, aud, exp) and carry the nonce; then the claims become the user
// (bound to iss and sub, onboarded on first sign-in, groups synced) and a
// sign-in is recorded. A *Refusal says what the person did wrong or is
// not allowed; ErrProvider (503) that the provider could not be asked.
func (p *Provider) Finish(ctx context.Context, state, cookie, code string) (SignedIn, error) {
	cState, verifier, ok := strings.Cut(cookie, ".")
	if state == "" || code == "" || !ok || cState != state {
		return SignedIn{}, refuse("", "the sign-in does not belong to this browser or was already used (state mismatch): start again")
	}
	now := p.now()
	pending, err := p.st.TakePendingLogin(ctx, secret.Hash(state), now)
	if errors.Is(err, store.ErrNotFound) {
		return SignedIn{}, refuse("", "the sign-in was already used or took longer than %s (unknown state): start again", LoginTTL)
	}
	if err != nil {
		return SignedIn{}, fmt.Errorf("finish sign-in: %w: %w", authn.ErrUnavailable, err)
	}
	d, verify, err := p.discover(ctx)
	if err != nil {
		return SignedIn{}, err
	}
	tok, err := p.oauth2Config(d).Exchange(p.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return SignedIn{}, providerError("", "authorization code", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return SignedIn{}, refuse("", "the provider sent no ID token (is openid among oidc.scopes?)")
	}
	idt, err := verify.Verify(p.ctx(ctx), raw)
	if err != nil {
		if isFetchFailure(err) {
			return SignedIn{}, fmt.Errorf("verify id token: %w: %w", ErrProvider, err)
		}
		return SignedIn{}, refuse("", "the ID token does not verify: %v", err)
	}
	if secret.Hash(idt.Nonce) != pending.NonceHash {
		return SignedIn{}, refuse("", "the ID token's nonce is not the one this sign-in sent")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return SignedIn{}, refuse("", "the ID token's claims do not decode: %v", err)
	}
	si, err := p.signIn(ctx, idt, claims, tok.RefreshToken, now)
	si.Next = pending.Next
	return si, err
}

// isFetchFailure tells a key set that could not be fetched (the provider
// is down) from a token that does not verify.
func isFetchFailure(err error) bool {
	return strings.Contains(err.Error(), "fetching keys")
}

// signIn turns verified claims into a user and a sign-in.
func (p *Provider) signIn(ctx context.Context, idt *gooidc.IDToken, claims map[string]any, providerRefresh string, now time.Time) (SignedIn, error) {
	name, _ := claimString(claims, p.cfg.UsernameClaim)
	if err := validUsername(name); err != nil {
		return SignedIn{}, refuse(name, "the ID token's %s claim %q cannot be a user name: %v", p.cfg.UsernameClaim, clip(name, 64), err)
	}
	if strings.EqualFold(name, authn.AdminUser) {
		return SignedIn{}, refuse(name, "%q is always a local account: it cannot sign in with SSO", name)
	}
	groups, err := claimGroups(claims, p.cfg.GroupsClaim)
	if err != nil {
		return SignedIn{}, refuse(name, "%v", err)
	}
	if len(p.cfg.AllowedGroups) > 0 && !anyOf(groups, p.cfg.AllowedGroups) {
		return SignedIn{}, refuse(name, "%s is in none of the groups allowed to sign in (oidc.allowed_groups)", name)
	}
	email, _ := claimString(claims, "email")
	display, _ := claimString(claims, "name")
	ou := store.OIDCUser{Name: name, Email: clip(email, maxEmailLen), DisplayName: clip(display, maxDisplayLn),
		Issuer: idt.Issuer, Subject: idt.Subject, Groups: groups, Admin: anyOf(groups, p.cfg.AdminGroups)}
	u, sync, err := p.st.SyncOIDCUser(ctx, ou)
	if errors.Is(err, store.ErrAlreadyExists) {
		return SignedIn{}, refuse(name, "the name %s belongs to another account (a local or LDAP user, or another person's SSO account): "+
			"it is never merged; ask an administrator", name)
	}
	if err != nil {
		return SignedIn{}, fmt.Errorf("record sign-in of %q: %w: %w", name, authn.ErrUnavailable, err)
	}
	if u.Disabled {
		return SignedIn{}, refuse(u.Name, "the account %s is disabled", u.Name)
	}
	for _, g := range sync.Skipped {
		p.log.Warn("oidc group not joined: the name belongs to a local or LDAP group", "user", u.Name, "group", g)
	}
	rec := store.SignIn{UserID: u.ID, SignedInAt: now, ExpiresAt: now.Add(p.cfg.MaxSession.D())}
	if providerRefresh != "" && p.seal != nil && p.cfg.Recheck.D() > 0 {
		if rec.ProviderRefresh, err = p.seal.seal(providerRefresh); err != nil {
			return SignedIn{}, err
		}
	}
	if err := p.st.CreateSignIn(ctx, &rec); err != nil {
		return SignedIn{}, fmt.Errorf("record sign-in of %q: %w: %w", name, authn.ErrUnavailable, err)
	}
	id := authn.Identity{UserID: u.ID, Name: u.Name, Admin: u.Admin || ou.Admin, Method: authn.MethodSSO,
		SignInID: rec.ID, NotAfter: rec.ExpiresAt}
	return SignedIn{User: u, SignIn: rec, Identity: id, Onboarded: sync.Onboarded, Groups: groups, Skipped: sync.Skipped}, nil
}
