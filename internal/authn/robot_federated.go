package authn

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/authserver/authserver/internal/config"
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
	reason := ""
	if r.fed == nil {
		reason = "federation is not configured"
	} else if perr := r.fed.CheckPolicy(*rb.Trust); perr != nil {
		reason = perr.Error() // before the JWT is read: no JWT may pass
	} else if c, err = r.fed.Verify(ctx, issuer, password); err == nil {
		err = MatchConditions(rb.Trust.Conditions, c.Claims)
	}
	switch {
	case reason != "":
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
		Name:     username,
		Method:   MethodFederated,
		Robot:    PermissionsOf(rb),
		NotAfter: c.Expiry,
		// A federated robot's own lifetime and networks apply too.
		Conditions:    RobotCondition(rb, username),
		TokenLifetime: rb.TokenLifetime,
		Federated:     c.identity,
	}, true, nil
}

// CheckPolicy refuses a stored trust policy that no JWT may pass: its
// issuer is not configured (any more), or it does not pin the workload's
// identity (PinsIdentity; a policy stored before that rule, or before
// identity_claims changed). Such a robot fails closed at every login, with
// this reason in the log line, until its policy is fixed.
func (f *Federation) CheckPolicy(p store.TrustPolicy) error {
	is, ok := f.issuers[p.Issuer]
	if !ok {
		return fmt.Errorf("trust policy refused: issuer %q is not configured", p.Issuer)
	}
	if err := PinsIdentity(p.Conditions, is.identity); err != nil {
		return fmt.Errorf("trust policy refused: %w", err)
	}
	return nil
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

// ValidCondition checks one condition as an administrator writes it (a
// whole policy must also pass PinsIdentity).
func ValidCondition(c store.ClaimCondition) error {
	if err := config.CheckClaimKey(c.Claim); err != nil {
		return fmt.Errorf("condition: %w", err)
	}
	if c.Pattern == "" || strings.Trim(c.Pattern, "*") == "" {
		return fmt.Errorf("condition %s: the pattern must say something (not empty, not only '*')", c.Claim)
	}
	return nil
}

// PinsIdentity checks that a trust policy's conditions pin the workload:
// at least one of them is on a claim of identity (the issuer's: sub and
// its identity claims, config.FederationIssuer.Identity) with a pattern
// that starts with a literal ("org/app", "repo:org/app:*"; not "*app").
// Without one, any job of a shared issuer (every GitHub repository)
// whose JWT meets the rest would log in. The error says what is missing.
func PinsIdentity(conds []store.ClaimCondition, identity []string) error {
	for _, c := range conds {
		if c.Pattern == "" || c.Pattern[0] == '*' {
			continue
		}
		for _, id := range identity {
			if sameClaim(c.Claim, id) {
				return nil
			}
		}
	}
	example := "sub=..."
	if len(identity) > 1 {
		example = identity[1] + "=..."
	}
	return fmt.Errorf("no condition pins the workload's identity: the policy needs one on %s whose pattern starts with "+
		"a literal (not '*'), e.g. %s; conditions on other claims only narrow it", orList(identity), example)
}

// sameClaim reports whether two condition keys name the same claim: a JSON
// pointer to a top-level claim ("/repository") is that claim.
func sameClaim(a, b string) bool { return topLevel(a) == topLevel(b) }

// topLevel is the claim name a one-token JSON pointer refers to, else key.
func topLevel(key string) string {
	name, ok := strings.CutPrefix(key, "/")
	if !ok || strings.IndexByte(name, '/') >= 0 {
		return key
	}
	if strings.IndexByte(name, '~') >= 0 {
		name = strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~")
	}
	return name
}

// orList is words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}
