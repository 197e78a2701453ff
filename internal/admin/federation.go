package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/authserver/authserver/internal/authn/federation"
	"github.com/authserver/authserver/internal/store"
)

// Federated robots: a trust policy (an issuer of federation.issuers and
// conditions on the JWT's claims) instead of a secret. The CLI and the
// REST API share these functions.

// Trust is a trust policy as the CLI (robot list --output json) and the
// REST API (a robot's authserver_federation) show and take it.
type Trust struct {
	Issuer     string                 `json:"issuer"`
	Conditions []store.ClaimCondition `json:"conditions"`
	// Refused, only shown, is Robot.TrustRefused: why every login of the
	// robot is refused whatever the JWT. Ignored when taken.
	Refused string `json:"refused,omitempty"`
}

// TrustOf is r's policy as shown, nil for a robot with a secret.
func TrustOf(r Robot) *Trust {
	if r.Trust == nil {
		return nil
	}
	return &Trust{Issuer: r.Trust.Issuer, Conditions: r.Trust.Conditions, Refused: r.TrustRefused}
}

// Policy is t for NewRobot.Trust or RobotChange.Trust, nil when t is; the
// operations check each condition as ParseCondition does.
func (t *Trust) Policy() *store.TrustPolicy {
	if t == nil {
		return nil
	}
	return &store.TrustPolicy{Issuer: t.Issuer, Conditions: t.Conditions}
}

// ParseCondition reads "KEY=PATTERN" as typed on the command line (the
// first '=' splits; a JSON pointer KEY starts with '/').
func ParseCondition(s string) (store.ClaimCondition, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return store.ClaimCondition{}, invalidf(fmt.Sprintf("condition %q: want CLAIM=PATTERN", s))
	}
	c := store.ClaimCondition{Claim: k, Pattern: v}
	if err := federation.ValidCondition(c); err != nil {
		return store.ClaimCondition{}, invalid(err)
	}
	return c, nil
}

// trustPolicy validates a policy: a configured issuer, at least one valid
// condition, and one that pins the workload's identity.
func (s *Service) trustPolicy(p store.TrustPolicy) (*store.TrustPolicy, error) {
	if err := s.knownIssuer(p.Issuer); err != nil {
		return nil, err
	}
	if len(p.Conditions) == 0 {
		return nil, invalidf("a trust policy needs at least one condition (--claim CLAIM=PATTERN)")
	}
	for _, c := range p.Conditions {
		if err := federation.ValidCondition(c); err != nil {
			return nil, invalid(err)
		}
	}
	if err := s.pinsIdentity(p); err != nil {
		return nil, err
	}
	return &store.TrustPolicy{Issuer: p.Issuer, Conditions: slices.Clone(p.Conditions)}, nil
}

// trustRefusal is why a login with the stored policy p is refused whatever
// the JWT, as authn.Federation.CheckPolicy refuses it (nil when a JWT may
// pass): its issuer is no longer configured, or it does not pin the
// workload's identity (stored before that rule, or before the issuer's
// identity_claims changed). robot list, the API and explain show it.
func (s *Service) trustRefusal(p store.TrustPolicy) error {
	if err := s.knownIssuer(p.Issuer); err != nil {
		return err
	}
	return s.pinsIdentity(p)
}

func (s *Service) knownIssuer(issuer string) error {
	if slices.Contains(s.opt.Issuers, issuer) {
		return nil
	}
	known := "none is configured (federation.issuers)"
	if len(s.opt.Issuers) > 0 {
		known = "configured: " + strings.Join(s.opt.Issuers, ", ")
	}
	return invalidf(fmt.Sprintf("issuer %q is not in federation.issuers (%s)", issuer, known))
}

// pinsIdentity is authn.PinsIdentity with the claims of p's issuer.
func (s *Service) pinsIdentity(p store.TrustPolicy) error {
	identity := s.opt.Identity[p.Issuer]
	if identity == nil {
		identity = []string{"sub"}
	}
	if err := federation.PinsIdentity(p.Conditions, identity); err != nil {
		return invalid(fmt.Errorf("trust policy of issuer %s: %w", p.Issuer, err))
	}
	return nil
}

// SetRobotTrust replaces a federated robot's trust policy (the issuer
// stays when p.Issuer is ""). A robot with a secret cannot take a policy
// this way: create a federated robot instead, so no secret lingers.
func (s *Service) SetRobotTrust(ctx context.Context, who Actor, id int64, p store.TrustPolicy) (Robot, error) {
	return s.modifyRobot(ctx, who, id, "robot.trust", func(r *store.Robot) error { return s.replaceTrust(r, p) })
}

// replaceTrust validates p and puts it on r, which must be federated.
func (s *Service) replaceTrust(r *store.Robot, p store.TrustPolicy) error {
	if r.Trust == nil {
		return invalidf("robot " + s.opt.RobotPrefix + r.Name + " has a secret, not a trust policy: create a federated robot (--federate) instead")
	}
	if p.Issuer == "" {
		p.Issuer = r.Trust.Issuer
	}
	policy, err := s.trustPolicy(p)
	if err != nil {
		return err
	}
	r.Trust = policy
	return nil
}

// trustNotes describe a federated robot for explain: its policy and,
// when no JWT may pass it, why.
func trustNotes(r Robot) []string {
	notes := []string{"robot " + r.Login + " is federated: it logs in with a JWT of issuer " + r.Trust.Issuer +
		" whose claims match " + conditionsText(r.Trust.Conditions, " and ") + " (no secret); its tokens expire with the JWT"}
	if r.TrustRefused != "" {
		notes = append(notes, "robot "+r.Login+"'s trust policy lets no JWT in ("+r.TrustRefused+"): a real login would get 401")
	}
	return notes
}
