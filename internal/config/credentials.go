package config

import (
	"fmt"
	"strings"
	"time"
)

// RefreshTokens configures the refresh tokens (docker's "identity token")
// handed out when a client asks for offline access: GET with
// offline_token=true or POST with access_type=offline.
type RefreshTokens struct {
	// MaxLifetime is how long a refresh token works after it was issued,
	// however often it is used; 0 means no limit. Default 90d.
	MaxLifetime Duration `yaml:"max_lifetime"`
	// MaxIdle is how long a refresh token works after its last use; 0 means
	// no limit. Default 30d.
	MaxIdle Duration `yaml:"max_idle"`
	// BindClientID refuses a refresh token presented with another client_id
	// than the one it was issued to. client_id is not a secret (every client
	// names itself), so this is no defence against theft; it keeps each
	// client's tokens apart. Note that crane, skopeo, regctl and oras read
	// the identitytoken that `docker login` stored in ~/.docker/config.json
	// but send their own client_id, so with binding on only docker can use a
	// token docker obtained, which is why the default is false: the client_id
	// is still recorded with each token and shown by `token list`.
	BindClientID bool `yaml:"bind_client_id"`
}

// Robots configures robot accounts.
type Robots struct {
	// Prefix starts every robot login name: "robot$" gives Harbor's
	// "robot$team+ci". Change it (e.g. to "robot_") where "$" is eaten by
	// shells; existing robots keep working under the new prefix, since only
	// the part after it is stored. Default "robot$".
	Prefix string `yaml:"prefix"`
}

// Credential defaults.
const (
	DefaultRefreshMaxLifetime = 90 * 24 * time.Hour
	DefaultRefreshMaxIdle     = 30 * 24 * time.Hour
	DefaultRobotPrefix        = "robot$"
)

func defaultRefreshTokens() RefreshTokens {
	return RefreshTokens{
		MaxLifetime:  Duration(DefaultRefreshMaxLifetime),
		MaxIdle:      Duration(DefaultRefreshMaxIdle),
		BindClientID: false,
	}
}

func defaultRobots() Robots { return Robots{Prefix: DefaultRobotPrefix} }

// validateCredentials checks refresh_tokens and robots.
func (c *Config) validateCredentials() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	rt := c.RefreshTokens
	if rt.MaxLifetime > 0 && rt.MaxIdle > rt.MaxLifetime {
		bad("refresh_tokens.max_idle %s: longer than max_lifetime %s", rt.MaxIdle, rt.MaxLifetime)
	}
	p := c.Robots.Prefix
	switch {
	case p == "":
		bad("robots.prefix: must not be empty (it tells robot logins from user logins)")
	case len(p) > 32:
		bad("robots.prefix %q: at most 32 bytes", p)
	case strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == ':' || r == 0x7f }):
		bad("robots.prefix %q: spaces, colons and control characters are not allowed", p)
	case strings.Contains(p, "+"):
		bad("robots.prefix %q: must not contain \"+\" (it separates project and name)", p)
	}
	return errs
}
