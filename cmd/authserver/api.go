package main

import (
	"log/slog"
	"net/http"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/server/api"
	"github.com/authserver/authserver/internal/store"
)

// newAPI builds the admin REST API on the token endpoint's authenticator
// and throttle (opts), or nil when api.enabled is false.
func newAPI(cfg config.Config, st store.Store, dir *authn.LDAP, opts server.Options, log *slog.Logger) http.Handler {
	if !cfg.API.Enabled {
		return nil
	}
	var d admin.Directory
	mode := "db_auth"
	if dir != nil {
		d, mode = dir, "ldap_auth"
	}
	adm := newAdmin(cfg, st, d)
	return api.New(api.Options{Admin: adm, Passwords: opts.Passwords, Throttle: opts.Throttle, ClientIP: server.ClientIP,
		Realm: opts.Realm, Version: buildVersion(), AuthMode: mode, RegistryURL: cfg.RealmBase(), RobotPrefix: cfg.Robots.Prefix,
		AdminOnlyProjects: cfg.API.ProjectCreation == config.ProjectCreationAdminOnly, Logger: log.With("component", "api")})
}
