package authn

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// Condition limits where a login with a credential may come from: its
// client address (after trusted-proxy resolution) must be in one of
// AllowFrom's networks.
type Condition struct {
	// On names the credential, for the refusal's reason ("user dev",
	// "robot robot$team+ci", "token ci of user dev").
	On string
	// AllowFrom are CIDRs (ParseAllowFrom's form).
	AllowFrom []string
}

// UserCondition is a user's own condition (none when it has no
// allow_from): every credential of the user carries it.
func UserCondition(u store.User) []Condition {
	if len(u.AllowFrom) == 0 {
		return nil
	}
	return []Condition{{On: "user " + u.Name, AllowFrom: u.AllowFrom}}
}

// RefusedFrom says why a login of id from clientIP is refused by one of
// its conditions, or "" when every condition holds: the one check the
// login gate and explain --from both make. An address that does not parse
// meets no condition (fail closed).
func (id Identity) RefusedFrom(clientIP string) string {
	if len(id.Conditions) == 0 {
		return ""
	}
	addr, err := netip.ParseAddr(clientIP)
	addr = addr.Unmap().WithZone("")
	for _, c := range id.Conditions {
		ok := false
		for _, n := range c.AllowFrom {
			if p, perr := netip.ParsePrefix(n); err == nil && perr == nil && p.Contains(addr) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Sprintf("%s may log in only from %s, not from %s", c.On, strings.Join(c.AllowFrom, ", "), clientIP)
		}
	}
	return ""
}

// MaxAllowFrom bounds the networks of one credential.
const MaxAllowFrom = 64

// ParseAllowFrom checks networks as an administrator types them (CIDRs, or
// addresses standing for one host) and returns them as masked CIDRs, each
// once, in the order given. None is no condition.
func ParseAllowFrom(nets []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, n := range nets {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(n, "/") {
			p, err = netip.ParsePrefix(n)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(n); err == nil && a.Zone() != "" {
				err = errors.New("zone")
			} else if err == nil {
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("allow-from %q: want a CIDR such as 10.0.0.0/8 or an address", n)
		}
		s := p.Masked().String()
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) > MaxAllowFrom {
		return nil, fmt.Errorf("allow-from: at most %d networks", MaxAllowFrom)
	}
	return out, nil
}

// TokenLifetimes are token.expiration, token.push_expiration and
// token.max_expiration: the one rule for how long an issued token lives.
type TokenLifetimes struct {
	// Default is token.expiration.
	Default time.Duration
	// Push is token.push_expiration, for a token granting push or delete
	// (0: Default).
	Push time.Duration
	// Max is token.max_expiration: no lifetime, a robot's own included,
	// goes beyond it (0: no cap).
	Max time.Duration
}

// For is the lifetime of a token for id granting access (the actions of
// every entry): the robot's own when it has one, else Push for a token
// granting push or delete, else Default; capped by Max.
func (l TokenLifetimes) For(id Identity, writes bool) time.Duration {
	d := l.Default
	switch {
	case id.TokenLifetime > 0:
		d = id.TokenLifetime
	case writes && l.Push > 0:
		d = l.Push
	}
	if l.Max > 0 && d > l.Max {
		d = l.Max
	}
	return d
}
