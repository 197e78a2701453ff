package authn

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/authserver/authserver/internal/store"
)

// MethodFederated: a federated robot, proved by an OIDC JWT of a trusted
// issuer that meets the robot's trust policy.
const MethodFederated = "federated"

// Results of a federated login, the result label of the metric.
const (
	FederatedOK          = "ok"
	FederatedRefused     = "refused"
	FederatedUnavailable = "unavailable"
)

// FederatedIdentity is the external identity behind a federated robot's
// login, for the audit trail: the JWT's issuer and subject, never the JWT.
type FederatedIdentity struct {
	// Issuer is the configured issuer's name, URL the JWT's iss.
	Issuer  string
	URL     string
	Subject string
}

// FederationMetrics counts federated logins by issuer name and result
// (*metrics.Metrics satisfies it).
type FederationMetrics interface {
	FederatedLogin(issuer, result string)
}

// SetFederation lets robots with a trust policy log in: their password is
// verified as a JWT by f. Without it such robots are refused. m may be nil.
func (r *Robots) SetFederation(f *Federation, m FederationMetrics) {
	r.fed, r.fedMetrics = f, m
}

// loginFederated checks password as a JWT against rb's trust policy. A
// refusal is logged with the failed check and evened out with the dummy
// comparison, as every refused robot login is.
func (r *Robots) loginFederated(ctx context.Context, username, password string, rb store.Robot) (Identity, bool, error) {
	issuer := rb.Trust.Issuer
	var c *FederatedClaims
	var err error
	if r.fed == nil {
		err = refuse("federation is not configured")
	} else {
		c, err = r.fed.Verify(ctx, issuer, password)
	}
	if err == nil {
		err = MatchConditions(rb.Trust.Conditions, c.Claims)
	}
	reason := ""
	switch {
	case err != nil && !IsRefusal(err):
		r.countFederated(issuer, FederatedUnavailable)
		return Identity{}, false, fmt.Errorf("robot login: %w", err)
	case err != nil:
		reason = "JWT refused: " + err.Error()
	default:
		reason = r.refusal(rb)
	}
	if reason != "" {
		r.countFederated(issuer, FederatedRefused)
		r.log.Info("robot refused", "robot", username, "issuer", issuer, "reason", reason)
		return r.refuse(ctx, password)
	}
	r.countFederated(issuer, FederatedOK)
	return Identity{
		Name:      username,
		Method:    MethodFederated,
		Robot:     permissionsOf(rb),
		NotAfter:  c.Expiry,
		Federated: c.identity,
	}, true, nil
}

func (r *Robots) countFederated(issuer, result string) {
	if r.fedMetrics != nil {
		r.fedMetrics.FederatedLogin(issuer, result)
	}
}

// MatchConditions checks every condition against a JWT's claims; the
// error (a refusal) names the first that fails.
func MatchConditions(conds []store.ClaimCondition, claims map[string]any) error {
	if len(conds) == 0 {
		return refuse("the trust policy has no conditions")
	}
	for _, c := range conds {
		v, ok := claimValue(claims, c.Claim)
		if !ok {
			return refuse("claim %s: missing or not a string, number or boolean", c.Claim)
		}
		if !GlobMatch(c.Pattern, v) {
			return refuse("claim %s: %q does not match %q", c.Claim, clip(v), c.Pattern)
		}
	}
	return nil
}

// claimValue finds a claim by top-level name or JSON pointer (RFC 6901)
// and renders a scalar as text.
func claimValue(claims map[string]any, key string) (string, bool) {
	var v any = claims
	if ptr, ok := strings.CutPrefix(key, "/"); ok {
		for _, tok := range strings.Split(ptr, "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch node := v.(type) {
			case map[string]any:
				if v, ok = node[tok]; !ok {
					return "", false
				}
			case []any:
				i, err := strconv.Atoi(tok)
				if err != nil || i < 0 || i >= len(node) {
					return "", false
				}
				v = node[i]
			default:
				return "", false
			}
		}
	} else {
		var ok bool
		if v, ok = claims[key]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// GlobMatch reports whether s matches pattern, in which '*' matches any
// run of characters (also none) and every other character itself.
func GlobMatch(pattern, s string) bool {
	first, rest, found := strings.Cut(pattern, "*")
	if !found {
		return pattern == s
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for {
		part, more, found := strings.Cut(rest, "*")
		if !found { // part is the last piece: it must end s
			return len(s) >= len(part) && strings.HasSuffix(s, part)
		}
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s, rest = s[i+len(part):], more
	}
}

// ValidCondition checks one condition as an administrator writes it.
func ValidCondition(c store.ClaimCondition) error {
	switch {
	case c.Claim == "" || c.Claim == "/":
		return errors.New("condition: the claim name must not be empty")
	case strings.ContainsFunc(c.Claim, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fmt.Errorf("condition %q: control characters in the claim name", c.Claim)
	case c.Pattern == "" || strings.Trim(c.Pattern, "*") == "":
		return fmt.Errorf("condition %s: the pattern must say something (not empty, not only '*')", c.Claim)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}
