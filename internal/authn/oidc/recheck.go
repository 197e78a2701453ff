package oidc

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// CheckSignIn implements authn.SignInChecker: a credential minted from
// sign-in id stands while the sign-in has not ended (oidc.max_session) and,
// with oidc.recheck, while the provider still honours the grant: once per
// recheck period the stored provider refresh token is redeemed (and the new
// one kept). The provider answering invalid_grant (or any 4xx OAuth error)
// refuses the credential and deletes the sign-in (and with it every
// credential minted from it); a provider that cannot be
// reached is an error (503), never a refusal. A sign-in without a provider
// refresh token (none given: no offline_access) is bounded by max_session
// alone.
func (p *Provider) CheckSignIn(ctx context.Context, id int64) (string, error) {
	si, err := p.st.GetSignIn(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "its SSO sign-in is gone", nil
	}
	if err != nil {
		return "", fmt.Errorf("read sign-in: %w", err)
	}
	now := p.now()
	if !now.Before(si.ExpiresAt) {
		return "its SSO sign-in ended (oidc.max_session)", nil
	}
	every := p.cfg.Recheck.D()
	if every <= 0 || si.ProviderRefresh == nil || now.Sub(si.RecheckedAt) < every {
		return "", nil
	}
	if p.seal == nil {
		return "the provider refresh token cannot be opened without oidc.client_secret", nil
	}
	rt, err := p.seal.open(si.ProviderRefresh)
	if err != nil {
		return "the provider refresh token cannot be opened (oidc.client_secret changed)", nil
	}
	d, _, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	tok, err := p.oauth2Config(d).TokenSource(p.ctx(ctx), &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		perr := providerError(si.User, "refresh token", err)
		var r *Refusal
		if errors.As(perr, &r) {
			p.log.Info("oidc recheck refused: the sign-in ends", "user", si.User, "sign_in", id, "reason", r.Reason)
			if err := p.st.DeleteSignIn(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				p.log.Warn("cannot delete a refused sign-in", "sign_in", id, "err", err)
			}
			return "the provider no longer honours the sign-in (" + r.Reason + ")", nil
		}
		return "", perr
	}
	var sealed []byte
	if tok.RefreshToken != "" && tok.RefreshToken != rt {
		if sealed, err = p.seal.seal(tok.RefreshToken); err != nil {
			return "", err
		}
	}
	if err := p.st.RecheckedSignIn(ctx, id, sealed, now); err != nil {
		return "", fmt.Errorf("record recheck: %w: %w", authn.ErrUnavailable, err)
	}
	return "", nil
}
