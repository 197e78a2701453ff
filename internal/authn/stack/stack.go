package stack

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/federation"
	"github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/authn/oidc"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/store"
)

// Options are what the config does not say; the zero value is production's
// choice for each.
type Options struct {
	// Metrics counts credential-cache hits, LDAP round trips and federated
	// logins; nil counts nothing.
	Metrics *metrics.Metrics
	// Logger receives the sources' log lines (each with its "backend");
	// nil discards them.
	Logger *slog.Logger
	// Now is the clock of robot, PAT and refresh token expiry; nil:
	// time.Now.
	Now func() time.Time
	// UserCheckers re-check users of a source when a refresh token or PAT
	// stands in for their password, on top of (and before) the directory
	// of the config (tests stand in for a directory this way).
	UserCheckers map[string]authn.UserChecker
	// Federation tunes the verifier of federated robots' JWTs (tests
	// shorten MinRefetch).
	Federation federation.Options
	// OIDCHTTPClient asks the SSO provider; nil: a client trusting
	// oidc.ca_file.
	OIDCHTTPClient *http.Client
}

// Stack is the login stack of one config.
type Stack struct {
	// Passwords is what a login's name and secret go to: robots → PATs →
	// passwords (local users, or the chain of local users and LDAP).
	Passwords authn.PasswordAuthenticator
	// Refresher redeems and mints refresh tokens.
	Refresher *secret.Refresher
	// Accounts re-checks the users behind PATs and refresh tokens.
	Accounts *authn.Accounts
	// Directory is the LDAP client; nil without ldap:. The caller closes it.
	Directory *ldap.Directory
	// Federation verifies federated robots' JWTs; nil without
	// federation.issuers.
	Federation *federation.Verifier
	// SSO is the OIDC sign-in; nil without oidc:.
	SSO *oidc.Provider
}

// New wires the credential checks of cfg in the order a login meets them:
//
//	robots (a secret, or for a robot with a trust policy a JWT of
//	federation.issuers) → personal access tokens → passwords (local
//	users, or the chain of local users and LDAP)
//
// so robot secrets, JWTs and PATs, recognised by their prefixes, never
// reach bcrypt or LDAP. A new kind of credential is one more layer here,
// between robots and PATs when it is recognised by its shape. The refresh
// token service and the PATs re-check users of outside sources (LDAP)
// through checkers; without one, such users' refresh tokens and PATs are
// refused.
func New(cfg config.Config, st store.Store, o Options) (*Stack, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Stack{}
	ok := false
	defer func() {
		if !ok && s.Directory != nil {
			s.Directory.Close()
		}
	}()
	local, err := secret.NewLocal(st, cfg.Passwords.BcryptCost)
	if err != nil {
		return nil, err
	}
	var cacheStats secret.CacheStats // a nil *Metrics in the interface would not be nil
	if o.Metrics != nil {
		cacheStats = o.Metrics
	}
	if err := local.SetCache(cfg.Cache.CredentialsTTL.D(), cfg.Cache.CredentialsMax, cacheStats); err != nil {
		return nil, err
	}
	local.SetHarborHashesUntil(cfg.Import.HarborHashesUntil.End(), o.Now)
	var passwords authn.PasswordAuthenticator = local
	checkers := map[string]authn.UserChecker{}
	if cfg.LDAP != nil {
		if s.Directory, err = ldap.New(*cfg.LDAP, log.With("backend", "ldap")); err != nil {
			return nil, err
		}
		if o.Metrics != nil {
			s.Directory.SetObserver(o.Metrics)
		}
		chain := authn.NewChain(st, local, s.Directory, log.With("backend", "ldap"))
		if cfg.LDAP.InsecureSkipVerify {
			log.Warn("ldap.insecure_skip_verify is on: the directory's certificate is not checked")
		}
		log.Info("ldap logins enabled", "url", cfg.LDAP.URL, "start_tls", cfg.LDAP.StartTLS,
			"user_base_dn", cfg.LDAP.UserSearch.BaseDN, "group_base_dn", cfg.LDAP.GroupSearch.BaseDN,
			"nested", cfg.LDAP.GroupSearch.Nested, "cache_ttl", cfg.LDAP.CacheTTL.String())
		passwords, checkers[store.SourceLDAP] = chain, chain
	}
	maps.Copy(checkers, o.UserCheckers)
	if len(checkers) == 0 {
		checkers = nil
	}
	s.Accounts = authn.NewAccounts(st, checkers)
	if cfg.OIDC != nil {
		// SSO users' credentials are checked against their sign-in
		// (max_session, recheck): accounts asks the provider.
		if s.SSO, err = oidc.New(oidc.Options{Config: *cfg.OIDC, PublicURL: cfg.RealmBase(), Store: st,
			Logger: log.With("backend", "oidc"), Now: o.Now, HTTPClient: o.OIDCHTTPClient}); err != nil {
			return nil, err
		}
		s.Accounts.SetSignIns(s.SSO)
		log.Info("sso sign-in enabled", "issuer", cfg.OIDC.Issuer, "redirect_uri", s.SSO.RedirectURL(),
			"max_session", cfg.OIDC.MaxSession.String(), "recheck", cfg.OIDC.Recheck.String())
	}
	pats := secret.NewPATs(st, s.Accounts, passwords, o.Now, log.With("backend", "pat"))
	robots := secret.NewRobots(st, cfg.Robots.Prefix, pats, o.Now, log.With("backend", "robot"))
	if len(cfg.Federation.Issuers) > 0 {
		fed, err := federation.New(cfg.Federation, o.Federation)
		if err != nil {
			return nil, fmt.Errorf("federation: %w", err)
		}
		var fm secret.FederationMetrics
		if o.Metrics != nil {
			fm = o.Metrics
		}
		robots.SetFederation(fed, fm)
		s.Federation = fed
		log.Info("federated robots enabled", "issuers", fed.Issuers())
	}
	s.Passwords = robots
	s.Refresher = secret.NewRefresher(st, s.Accounts, secret.RefreshOptions{
		MaxLifetime:  cfg.RefreshTokens.MaxLifetime.D(),
		MaxIdle:      cfg.RefreshTokens.MaxIdle.D(),
		BindClientID: cfg.RefreshTokens.BindClientID,
		Now:          o.Now,
		Logger:       log.With("backend", "refresh_token"),
	})
	ok = true
	return s, nil
}
