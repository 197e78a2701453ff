package app

import (
	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn/oidc"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/server/web"
	"github.com/authserver/authserver/internal/throttle"
)

// ssoStartsPerMinute bounds the sign-ins, and apart the device
// authorizations, one client network starts per minute.
const ssoStartsPerMinute = 60

// buildSSO mounts SSO sign-in when oidc: is configured: the pages
// (/login, /login/callback, /, /tokens, /refresh-tokens, /device,
// /logout), POST /oauth/device/code and the device_code grant of
// /service/token. Credentials are made and revoked through admin, as the
// CLI and the REST API make them.
func (a *App) buildSSO(opts Options) error {
	if a.SSO == nil {
		return nil
	}
	cfg := a.Config
	devices := oidc.NewDevices(a.Store, a.Accounts, opts.Now)
	// Sign-ins and device authorizations take no credential but keep a row
	// for 10 minutes each: at most 60 per client network and minute.
	var network func(string) string
	if a.Throttle != nil {
		network = a.Throttle.Network
	}
	adm := admin.New(a.Store, adminOptions(cfg, nil))
	h, err := web.New(web.Options{Provider: a.SSO, Devices: devices, Store: a.Store, Accounts: a.Accounts,
		Admin: adm, PublicURL: cfg.RealmBase(), Registry: cfg.Registry.LoginHost(), ClientIP: server.ClientIP, Logger: a.Log.With("component", "web"),
		Metrics: a.Metrics, Now: opts.Now, Starts: throttle.NewStarts(ssoStartsPerMinute, 100000, opts.Now), Network: network})
	if err != nil {
		return err
	}
	a.Server.Web, a.Server.Device, a.Server.DevicePublicURL = h, devices, cfg.RealmBase()
	a.Server.DeviceStarts, a.Server.Network = throttle.NewStarts(ssoStartsPerMinute, 100000, opts.Now), network
	return nil
}
