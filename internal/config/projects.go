package config

import (
	"fmt"
	"strings"
	"time"
)

// Projects configures how projects come to be beyond an administrator
// creating them (issue 24).
type Projects struct {
	// CreateOnPush: a user allowed to create projects (api.project_creation)
	// who asks to push into a project that does not exist gets it created
	// (private, they its projectAdmin, an admin audit record) and the push
	// granted. Robots and anonymous callers never create projects. Default
	// false.
	CreateOnPush bool `yaml:"create_on_push"`
	// PersonalTemplate names every user's personal project, e.g.
	// "u-{username}" ({username} is the lower-cased user name; a name that
	// makes no valid project name has none). Every user may pull and push
	// there; it is created on first push with them as projectAdmin,
	// whatever api.project_creation says. Empty (the default) is off.
	PersonalTemplate string `yaml:"personal_template"`
}

// DefaultMaxExpiration is the cap of token lifetimes when
// token.max_expiration is not set and nothing configured is longer.
const DefaultMaxExpiration = 24 * time.Hour

// MaxTokenLifetime is the cap of every token lifetime: token.max_expiration,
// or when unset the longest of DefaultMaxExpiration, token.expiration and
// token.push_expiration.
func (t Token) MaxTokenLifetime() time.Duration {
	if m := t.MaxExpiration.D(); m > 0 {
		return m
	}
	return max(DefaultMaxExpiration, t.Expiration.D(), t.PushExpiration.D())
}

// PushLifetime is token.push_expiration, or token.expiration when unset.
func (t Token) PushLifetime() time.Duration {
	if p := t.PushExpiration.D(); p > 0 {
		return p
	}
	return t.Expiration.D()
}

func (c *Config) validatePolicy() []error {
	var errs []error
	if t := c.Projects.PersonalTemplate; t != "" && !strings.Contains(t, "{username}") {
		errs = append(errs, fmt.Errorf("projects.personal_template %q: want {username} in it", t))
	}
	exp, push, max := c.Token.Expiration.D(), c.Token.PushExpiration.D(), c.Token.MaxExpiration.D()
	if push != 0 && push < time.Minute {
		errs = append(errs, fmt.Errorf("token.push_expiration %s: must be at least 1m (or 0: token.expiration)", c.Token.PushExpiration))
	}
	switch {
	case max < 0:
		errs = append(errs, fmt.Errorf("token.max_expiration %s: must be positive (or 0: see the docs)", c.Token.MaxExpiration))
	case max == 0:
	case exp > max:
		errs = append(errs, fmt.Errorf("token.expiration %s is longer than token.max_expiration %s", c.Token.Expiration, c.Token.MaxExpiration))
	case push > max:
		errs = append(errs, fmt.Errorf("token.push_expiration %s is longer than token.max_expiration %s", c.Token.PushExpiration, c.Token.MaxExpiration))
	}
	return errs
}
