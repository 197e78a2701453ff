package app

import (
	"fmt"
	"log/slog"
	"maps"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/federation"
	"github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/authn/oidc"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/store"
)

// credentials is the authn stack: the password authenticator the server
// uses, the refresh token service, the directory (nil without ldap:) and
// the federated robots' verifier.
type credentials struct {
	passwords  authn.PasswordAuthenticator
	refresher  *secret.Refresher
	directory  *ldap.Directory
	federation *federation.Verifier // nil without federation.issuers
	accounts   *authn.Accounts
	sso        *oidc.Provider // nil without oidc:
}

// buildAuthn wires the credential checks in the order a login meets them:
//
//	robots (a secret, or for a robot with a trust policy a JWT of
//	federation.issuers) → personal access tokens → passwords (local
//	users, or the chain of local users and LDAP)
//
// so robot secrets, JWTs and PATs, recognised by their prefixes, never
// reach bcrypt or LDAP. A new kind of credential is one more layer here, between
// robots and PATs when it is recognised by its shape. The refresh token
// service and the PATs re-check users of outside sources (LDAP) through
// checkers; without one, such users' refresh tokens and PATs are refused.
func buildAuthn(cfg config.Config, st store.Store, m *metrics.Metrics, opts Options, log *slog.Logger) (*credentials, error) {
	now := opts.Now
	local, err := secret.NewLocal(st, cfg.Passwords.BcryptCost)
	if err != nil {
		return nil, err
	}
	if err := local.SetCache(cfg.Cache.CredentialsTTL.D(), cfg.Cache.CredentialsMax, m); err != nil {
		return nil, err
	}
	local.SetHarborHashesUntil(cfg.Import.HarborHashesUntil.End(), now)
	c := &credentials{}
	var passwords authn.PasswordAuthenticator = local
	checkers := map[string]authn.UserChecker{}
	if cfg.LDAP != nil {
		if c.directory, err = ldap.New(*cfg.LDAP, log.With("backend", "ldap")); err != nil {
			return nil, err
		}
		c.directory.SetObserver(m)
		chain := authn.NewChain(st, local, c.directory, log.With("backend", "ldap"))
		if cfg.LDAP.InsecureSkipVerify {
			log.Warn("ldap.insecure_skip_verify is on: the directory's certificate is not checked")
		}
		log.Info("ldap logins enabled", "url", cfg.LDAP.URL, "start_tls", cfg.LDAP.StartTLS,
			"user_base_dn", cfg.LDAP.UserSearch.BaseDN, "group_base_dn", cfg.LDAP.GroupSearch.BaseDN,
			"nested", cfg.LDAP.GroupSearch.Nested, "cache_ttl", cfg.LDAP.CacheTTL.String())
		passwords, checkers[store.SourceLDAP] = chain, chain
	}
	maps.Copy(checkers, opts.UserCheckers)
	if len(checkers) == 0 {
		checkers = nil
	}
	accounts := authn.NewAccounts(st, checkers)
	c.accounts = accounts
	if cfg.OIDC != nil {
		// SSO users' credentials are checked against their sign-in
		// (max_session, recheck): accounts asks the provider.
		if c.sso, err = oidc.New(oidc.Options{Config: *cfg.OIDC, PublicURL: cfg.RealmBase(), Store: st,
			Logger: log.With("backend", "oidc"), Now: now, HTTPClient: opts.OIDCHTTPClient}); err != nil {
			return nil, err
		}
		accounts.SetSignIns(c.sso)
		log.Info("sso sign-in enabled", "issuer", cfg.OIDC.Issuer, "redirect_uri", c.sso.RedirectURL(),
			"max_session", cfg.OIDC.MaxSession.String(), "recheck", cfg.OIDC.Recheck.String())
	}
	pats := secret.NewPATs(st, accounts, passwords, now, log.With("backend", "pat"))
	robots := secret.NewRobots(st, cfg.Robots.Prefix, pats, now, log.With("backend", "robot"))
	if len(cfg.Federation.Issuers) > 0 {
		fed, err := federation.New(cfg.Federation, opts.Federation)
		if err != nil {
			return nil, fmt.Errorf("federation: %w", err)
		}
		robots.SetFederation(fed, m)
		c.federation = fed
		log.Info("federated robots enabled", "issuers", fed.Issuers())
	}
	c.passwords = robots
	c.refresher = secret.NewRefresher(st, accounts, secret.RefreshOptions{
		MaxLifetime:  cfg.RefreshTokens.MaxLifetime.D(),
		MaxIdle:      cfg.RefreshTokens.MaxIdle.D(),
		BindClientID: cfg.RefreshTokens.BindClientID,
		Now:          now,
		Logger:       log.With("backend", "refresh_token"),
	})
	return c, nil
}

// NewDirectory builds the LDAP client of cfg for a CLI command (no logger,
// no observer), or nil without an ldap: section.
func NewDirectory(cfg config.Config) (*ldap.Directory, error) {
	if cfg.LDAP == nil {
		return nil, nil
	}
	return ldap.New(*cfg.LDAP, nil)
}
