package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/authserver/authserver/internal/authn"
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
}

// TrustOf is p as shown, nil when p is (a robot with a secret).
func TrustOf(p *store.TrustPolicy) *Trust {
	if p == nil {
		return nil
	}
	return &Trust{Issuer: p.Issuer, Conditions: p.Conditions}
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
	if err := authn.ValidCondition(c); err != nil {
		return store.ClaimCondition{}, invalid(err)
	}
	return c, nil
}

// trustPolicy validates a policy: a configured issuer and at least one
// valid condition.
func (s *Service) trustPolicy(p store.TrustPolicy) (*store.TrustPolicy, error) {
	if !slices.Contains(s.opt.Issuers, p.Issuer) {
		known := "none is configured (federation.issuers)"
		if len(s.opt.Issuers) > 0 {
			known = "configured: " + strings.Join(s.opt.Issuers, ", ")
		}
		return nil, invalidf(fmt.Sprintf("issuer %q is not in federation.issuers (%s)", p.Issuer, known))
	}
	if len(p.Conditions) == 0 {
		return nil, invalidf("a trust policy needs at least one condition (--claim CLAIM=PATTERN)")
	}
	for _, c := range p.Conditions {
		if err := authn.ValidCondition(c); err != nil {
			return nil, invalid(err)
		}
	}
	return &store.TrustPolicy{Issuer: p.Issuer, Conditions: slices.Clone(p.Conditions)}, nil
}

// SetRobotTrust replaces a federated robot's trust policy (the issuer
// stays when p.Issuer is ""). A robot with a secret cannot take a policy
// this way: create a federated robot instead, so no secret lingers.
func (s *Service) SetRobotTrust(ctx context.Context, who Actor, name string, p store.TrustPolicy) (Robot, error) {
	return s.modifyRobot(ctx, who, name, "robot.trust", func(r *store.Robot) error { return s.replaceTrust(r, p) })
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

// trustNote describes a federated robot for explain.
func trustNote(login string, p *store.TrustPolicy) string {
	return "robot " + login + " is federated: it logs in with a JWT of issuer " + p.Issuer +
		" whose claims match " + conditionsText(p.Conditions, " and ") + " (no secret); its tokens expire with the JWT"
}
