package config

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits on the login gate's slow credential checks (bcrypt, Harbor's
// PBKDF2, an LDAP bind), server.max_password_checks and its neighbours.
const (
	// DefaultPasswordCheckWait is server.password_check_wait's default.
	DefaultPasswordCheckWait = 2 * time.Second
	// DefaultPasswordChecksPerNetwork is server.password_checks_per_network's
	// default.
	DefaultPasswordChecksPerNetwork = 2
)

// MaxPasswordChecks is server.max_password_checks, or its default, two per
// CPU the process may use (GOMAXPROCS), when it is 0.
func (s Server) MaxPasswordChecks() int {
	if s.MaxPasswordChecksSet > 0 {
		return s.MaxPasswordChecksSet
	}
	return 2 * runtime.GOMAXPROCS(0)
}

// Import configures what was imported from Harbor (`authserver import
// harbor`).
type Import struct {
	// HarborHashesUntil, when set, is the last day (UTC) on which a
	// password hash imported from Harbor logs in; after it such a user is
	// refused like a wrong password until an administrator resets the
	// password. Users who logged in once since the import are on bcrypt
	// already. Harbor's 600,000-round PBKDF2 takes far longer to check
	// than bcrypt, so while imported hashes are accepted the time a
	// refusal takes tells imported users from the others.
	HarborHashesUntil Date `yaml:"harbor_hashes_until"`
}

// Date is a calendar day, read as YYYY-MM-DD; zero when unset.
type Date struct{ t time.Time }

// IsZero reports whether no date is set.
func (d Date) IsZero() bool { return d.t.IsZero() }

// End is the first instant after the day, or zero when unset.
func (d Date) End() time.Time {
	if d.t.IsZero() {
		return time.Time{}
	}
	return d.t.AddDate(0, 0, 1)
}

// String is YYYY-MM-DD, or "" when unset.
func (d Date) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Date{t: t.UTC()}, nil
}

// UnmarshalYAML reads a date; an empty string (or null) is no date.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if strings.TrimSpace(n.Value) == "" || n.Tag == "!!null" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes YYYY-MM-DD.
func (d Date) MarshalYAML() (any, error) { return d.String(), nil }

// validateLogin checks the login gate's limits.
func (c *Config) validateLogin() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := c.Server
	if s.MaxPasswordChecksSet < 0 {
		bad("server.max_password_checks %d: want 0 (two per CPU) or more", s.MaxPasswordChecksSet)
	}
	if s.PasswordChecksPerNetwork < 1 {
		bad("server.password_checks_per_network %d: want at least 1", s.PasswordChecksPerNetwork)
	}
	if w := s.PasswordCheckWait.D(); w <= 0 || w > time.Minute {
		bad("server.password_check_wait %s: want more than 0 and at most 1m", s.PasswordCheckWait)
	}
	return errs
}
