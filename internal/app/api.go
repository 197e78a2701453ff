package app

import (
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"

	"context"
	"errors"
	"net/http"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/server/api"
	"github.com/authserver/authserver/internal/store"
)

// NewAdmin returns the administrator operations on st with the policy of
// cfg (robot prefix, bcrypt cost, who may create projects, the registry
// of registry.url, asked with tokens signed with the config's key, read
// when first needed); dir (nil without ldap:) onboards directory users
// and groups. The CLI goes through it; the REST API through the same
// options with the server's issuer (buildAPI).
func NewAdmin(cfg config.Config, st store.Store, dir admin.Directory) (*admin.Service, error) {
	opt := adminOptions(cfg, dir)
	var err error
	if opt.Registry, err = newRegistry(cfg, &lazyIssuer{cfg: cfg}); err != nil {
		return nil, err
	}
	return admin.New(st, opt), nil
}

// adminOptions is the admin policy of cfg.
func adminOptions(cfg config.Config, dir admin.Directory) admin.Options {
	opt := admin.Options{RobotPrefix: cfg.Robots.Prefix, BcryptCost: cfg.Passwords.BcryptCost,
		MinPasswordLength: cfg.Passwords.MinLength, Directory: dir,
		AdminOnlyProjects: cfg.API.ProjectCreation == config.ProjectCreationAdminOnly,
		Issuers:           cfg.Federation.IssuerNames(), Identity: map[string][]string{},
		MaxProjectsPerUser: cfg.API.MaxProjectsPerUser, MaxRobotsPerProject: cfg.Robots.MaxPerProject,
		DefaultRobotLifetime: cfg.Robots.DefaultDuration.D(), Policy: policyOptions(cfg),
		MaxTokenLifetime: cfg.Token.MaxTokenLifetime()}
	for _, is := range cfg.Federation.Issuers {
		opt.Identity[is.Name] = is.Identity()
	}
	if cfg.LDAP != nil {
		opt.GroupBaseDN, opt.GroupFilter = cfg.LDAP.GroupSearch.BaseDN, cfg.LDAP.GroupSearch.Filter
	}
	return opt
}

// policyOptions are the authorizer's policy settings of cfg (without a
// Creator).
func policyOptions(cfg config.Config) authz.Options {
	return authz.Options{CreateOnPush: cfg.Projects.CreateOnPush, PersonalTemplate: cfg.Projects.PersonalTemplate}
}

// tokenLifetimes are the token lifetimes of cfg.
func tokenLifetimes(cfg config.Config) authn.TokenLifetimes {
	return authn.TokenLifetimes{Default: cfg.Token.Expiration.D(), Push: cfg.Token.PushLifetime(), Max: cfg.Token.MaxTokenLifetime()}
}

// buildAPI is the admin REST API behind the token endpoint's login gate,
// or nil when api.enabled is false.
func (a *App) buildAPI(version string) (http.Handler, error) {
	cfg := a.Config
	if !cfg.API.Enabled {
		return nil, nil
	}
	var dir admin.Directory
	mode := "db_auth"
	if a.Directory != nil { // a nil *authn.LDAP in the interface would not be nil
		dir, mode = a.Directory, "ldap_auth"
	}
	opt := adminOptions(cfg, dir)
	opt.CheckPassword = a.checkOldPassword
	var err error
	if opt.Registry, err = newRegistry(cfg, a.Keys.Issuer()); err != nil {
		return nil, err
	}
	registryURL := cfg.Registry.URL
	if registryURL == "" {
		registryURL = cfg.RealmBase()
	}
	return api.New(api.Options{
		Admin:             admin.New(a.Store, opt),
		Gate:              a.Gate,
		Metrics:           a.Metrics,
		ClientIP:          server.ClientIP,
		RequestID:         server.RequestID,
		Realm:             a.Server.Realm,
		Version:           version,
		AuthMode:          mode,
		RegistryURL:       registryURL,
		PublicURL:         cfg.RealmBase(),
		RobotPrefix:       cfg.Robots.Prefix,
		AdminOnlyProjects: cfg.API.ProjectCreation == config.ProjectCreationAdminOnly,
		Logger:            a.Log.With("component", "api"),
	}), nil
}

// checkOldPassword is the REST API's admin.Options.CheckPassword: the
// password a user gives again to change their own goes through the login
// gate like a login (the throttle counts a wrong one, the audit trail
// records it with action user.password), and only the password itself
// counts, not a personal access token. A throttled or busy check is
// answered as the gate answers it (429, 503).
func (a *App) checkOldPassword(ctx context.Context, who admin.Actor, user, password string) error {
	_, err := a.Gate.Login(ctx, login.Attempt{Endpoint: login.EndpointAPI, Grant: login.GrantOldPassword,
		Username: user, Secret: password, ClientIP: who.ClientIP, Action: "user.password"})
	var le *login.Error
	if errors.As(err, &le) && le.Kind == login.KindUnauthorized {
		return &admin.Error{Kind: admin.KindForbidden, Msg: "the old password is wrong"}
	}
	return err
}
