package admin

import (
	"fmt"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// Text forms of a credential's settings, as an administrator types and
// reads them: the CLI's flags and table columns. Errors name no flag; the
// caller says which one it parsed.

// ParseLifetime reads a lifetime ("30d", "12h", "never"); "never" (or
// "0") is Never, which CreateRobot, UpdateRobot and CreatePAT take as
// never; "" is 0, the default (robots.default_duration for a robot).
func ParseLifetime(s string) (time.Duration, error) {
	switch s {
	case "never", "0":
		return Never, nil
	case "":
		return 0, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil {
		return 0, invalid(fmt.Errorf("%w (or never)", err))
	}
	if d <= 0 {
		return 0, invalidf("must be positive (or never)")
	}
	return d, nil
}

// ParsePermission reads one of a system robot's permissions,
// "PROJECT:ACTIONS" ("team:pull,push"; PROJECT "*" for every project).
// CreateRobot and UpdateRobot check the project and the actions.
func ParsePermission(s string) (store.RobotPermission, error) {
	project, actions, ok := strings.Cut(s, ":")
	if !ok || project == "" {
		return store.RobotPermission{}, invalidf("want PROJECT:ACTIONS ('*' for every project), e.g. team:pull,push")
	}
	return store.RobotPermission{Project: project, Actions: strings.Split(actions, ",")}, nil
}

// State is "disabled", "expired" (at now), "refused" (a federated robot
// whose trust policy lets no JWT in: TrustRefused says why) or "enabled".
func (r Robot) State(now time.Time) string {
	switch {
	case r.Disabled:
		return "disabled"
	case r.Expired(now):
		return "expired"
	case r.TrustRefused != "":
		return "refused"
	}
	return "enabled"
}

// PermissionsText is what a robot may do: the actions of a robot with one
// permission on its own project ("*": a system robot's on every project),
// else PROJECT:ACTIONS words.
func (r Robot) PermissionsText() string {
	if len(r.Permissions) == 1 && r.Permissions[0].Project == r.Project {
		return strings.Join(r.Permissions[0].Actions, ",")
	}
	words := make([]string, len(r.Permissions))
	for i, p := range r.Permissions {
		words[i] = p.Project + ":" + strings.Join(p.Actions, ",")
	}
	return strings.Join(words, " ")
}

// TrustText is a trust policy as "issuer: claim=pattern, ...", "-" for
// none (a robot with a secret).
func TrustText(p *store.TrustPolicy) string {
	if p == nil {
		return "-"
	}
	return p.Issuer + ": " + conditionsText(p.Conditions, ", ")
}

// conditionsText is the conditions as CLAIM=PATTERN, joined by sep.
func conditionsText(conds []store.ClaimCondition, sep string) string {
	words := make([]string, len(conds))
	for i, c := range conds {
		words[i] = c.Claim + "=" + c.Pattern
	}
	return strings.Join(words, sep)
}

// ParseTokenLifetime reads a robot's token lifetime as typed: a duration
// (s, m, h, d units), or "" / "0" / "default" for the configured one (0).
func ParseTokenLifetime(s string) (time.Duration, error) {
	switch s {
	case "", "0", "default":
		return 0, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, invalidf(fmt.Sprintf("token lifetime %q: want a duration such as 2h (or default)", s))
	}
	return d, nil
}

// SplitList reads a comma-separated flag value ("a,b"), dropping empty
// items; "" is none.
func SplitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
