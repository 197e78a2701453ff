package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
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
	// DefaultDuration is the lifetime of a robot created without one (the
	// API's duration absent or 0, the CLI's --expires not given), as
	// Harbor's robot_token_duration: default 30d; "never" for none.
	DefaultDuration Lifetime `yaml:"default_duration"`
	// MaxPerProject is the most robots one project may have (system robots
	// are not counted): default 100; 0 is no limit.
	MaxPerProject int `yaml:"max_per_project"`
}

// Lifetime is a Duration that may also be "never" (0).
type Lifetime Duration

// D returns the lifetime, 0 for never.
func (l Lifetime) D() time.Duration { return time.Duration(l) }

func (l Lifetime) String() string {
	if l == 0 {
		return "never"
	}
	return Duration(l).String()
}

// UnmarshalYAML reads "never" or a duration.
func (l *Lifetime) UnmarshalYAML(n *yaml.Node) error {
	if n.Value == "never" {
		*l = 0
		return nil
	}
	var d Duration
	if err := d.UnmarshalYAML(n); err != nil {
		return err
	}
	*l = Lifetime(d)
	return nil
}

// MarshalYAML writes "never" or the duration.
func (l Lifetime) MarshalYAML() (any, error) { return l.String(), nil }

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

// Robot defaults.
const (
	DefaultRobotDuration      = 30 * 24 * time.Hour
	DefaultRobotsPerProject   = 100
	DefaultMaxProjectsPerUser = 100
)

func defaultRobots() Robots {
	return Robots{Prefix: DefaultRobotPrefix, DefaultDuration: Lifetime(DefaultRobotDuration), MaxPerProject: DefaultRobotsPerProject}
}

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
	if c.Robots.DefaultDuration < 0 {
		bad("robots.default_duration %s: want a positive duration or never", c.Robots.DefaultDuration)
	}
	if c.Robots.MaxPerProject < 0 {
		bad("robots.max_per_project %d: want 0 (no limit) or more", c.Robots.MaxPerProject)
	}
	return errs
}
