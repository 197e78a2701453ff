package config

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// OIDC lets people sign in with their company's SSO (an OpenID Connect
// provider: Okta, Entra ID, Google, Keycloak, GitLab…) in a browser, at
// /login, and trade that sign-in for registry credentials authserver issues
// itself (refresh tokens through the device flow, personal access tokens).
// When the oidc: section is absent, none of the sign-in pages exist.
// docs/SSO.md has the setup for each provider.
//
// The redirect URI to register at the provider is
// server.public_url + "/login/callback".
type OIDC struct {
	// Issuer is the provider's issuer URL, compared exactly with the ID
	// token's iss; its discovery document is Issuer +
	// "/.well-known/openid-configuration". https:// unless AllowHTTP.
	Issuer string `yaml:"issuer"`
	// ClientID is authserver's client at the provider; ID tokens must name
	// it in aud.
	ClientID string `yaml:"client_id"`
	// ClientSecret authenticates authserver to the provider's token
	// endpoint (use ${VAR}). It also keys the encryption of stored provider
	// refresh tokens (Recheck): those tokens are usable only with it anyway.
	ClientSecret string `yaml:"client_secret"`
	// Scopes asked for; must include openid. Default openid, profile, email.
	// Add offline_access (or the provider's equivalent) for Recheck, and
	// groups where the provider sends groups only when asked (Keycloak,
	// Okta's custom scopes).
	Scopes []string `yaml:"scopes"`
	// UsernameClaim names the claim that becomes the authserver user name.
	// Default preferred_username; email is the usual alternative.
	UsernameClaim string `yaml:"username_claim"`
	// GroupsClaim names the claim listing the user's groups (a list of
	// strings, or one string). Default groups; absent in a token means no
	// groups.
	GroupsClaim string `yaml:"groups_claim"`
	// AdminGroups: members of any of these groups are sysadmins while the
	// claim says so (checked at every sign-in), as ldap.admin_group_dn.
	AdminGroups []string `yaml:"admin_groups"`
	// AllowedGroups, when set, refuses users in none of these groups.
	AllowedGroups []string `yaml:"allowed_groups"`
	// MaxSession is how long a credential minted from one sign-in (a web
	// session, a device-flow refresh token, a personal access token made
	// in the page) lives at most, however often it is used. Default 30d.
	MaxSession Duration `yaml:"max_session"`
	// Recheck, when positive, asks the provider again (with the provider
	// refresh token kept, encrypted, from the sign-in; needs
	// offline_access) at most this often when a credential minted from a
	// sign-in is used: a grant the provider revoked refuses the
	// credential (401), a provider that cannot be reached is 503. Default
	// 0: off (MaxSession alone bounds the credential).
	Recheck Duration `yaml:"recheck"`
	// CAFile is a PEM bundle trusted for the provider (private CA); empty
	// means the system roots.
	CAFile string `yaml:"ca_file"`
	// AllowHTTP permits an http:// issuer (loopback tests only).
	AllowHTTP bool `yaml:"allow_http"`
}

// Defaults of the oidc: section.
const (
	DefaultOIDCUsernameClaim = "preferred_username"
	DefaultOIDCGroupsClaim   = "groups"
	DefaultOIDCMaxSession    = 30 * 24 * time.Hour
)

// DefaultOIDCScopes are asked for when scopes is not set.
var DefaultOIDCScopes = []string{"openid", "profile", "email"}

// UnmarshalYAML fills in the defaults of keys a present section leaves out.
func (o *OIDC) UnmarshalYAML(unmarshal func(any) error) error {
	*o = OIDC{UsernameClaim: DefaultOIDCUsernameClaim, GroupsClaim: DefaultOIDCGroupsClaim,
		MaxSession: Duration(DefaultOIDCMaxSession)}
	type plain OIDC
	if err := unmarshal((*plain)(o)); err != nil {
		return err
	}
	if o.Scopes == nil {
		o.Scopes = slices.Clone(DefaultOIDCScopes)
	}
	return nil
}

// RedirectURL is the callback registered at the provider for base, the
// server's public URL (Config.RealmBase).
func (o *OIDC) RedirectURL(base string) string {
	return strings.TrimRight(base, "/") + "/login/callback"
}

func (c *Config) validateOIDC() []error {
	o := c.OIDC
	if o == nil {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("oidc."+format, args...)) }
	u, err := url.Parse(o.Issuer)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "":
		bad("issuer %q: want an https:// URL without query or fragment (the ID token's iss)", o.Issuer)
	case u.Scheme == "http" && !o.AllowHTTP:
		bad("issuer %q: http:// needs allow_http: true (loopback tests only)", o.Issuer)
	}
	if o.ClientID == "" {
		bad("client_id: must not be empty (authserver's client at the provider)")
	}
	if !slices.Contains(o.Scopes, "openid") {
		bad("scopes: must include openid")
	}
	for _, s := range o.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			bad("scopes: %q is not a scope token", s)
		}
	}
	if o.UsernameClaim == "" {
		bad("username_claim: must not be empty")
	}
	if o.GroupsClaim == "" {
		bad("groups_claim: must not be empty")
	}
	for _, g := range append(slices.Clone(o.AdminGroups), o.AllowedGroups...) {
		if strings.TrimSpace(g) == "" {
			bad("admin_groups/allowed_groups: a group must not be empty")
		}
	}
	if o.MaxSession.D() < time.Minute {
		bad("max_session %s: want at least 1m", o.MaxSession)
	}
	switch r := o.Recheck.D(); {
	case r < 0:
		bad("recheck %s: must not be negative (0 turns it off)", o.Recheck)
	case r > 0 && o.ClientSecret == "":
		bad("recheck: needs client_secret (the provider refresh token is redeemed with it and encrypted under a key derived from it)")
	case r > 0 && !slices.Contains(o.Scopes, "offline_access"):
		bad("recheck: add offline_access to scopes (without it the provider gives no refresh token to recheck with)")
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			bad("ca_file: %v", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			bad("ca_file %s: no PEM certificate in it", o.CAFile)
		}
	}
	if c.Server.PublicURL == "" {
		bad("needs server.public_url: the redirect URI registered at the provider is server.public_url + /login/callback")
	}
	return errs
}
