package secret

import (
	"context"
	"fmt"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// FederatedVerifier checks a federated robot's JWT against its trust
// policy (*federation.Verifier): refusal says why it is refused ("" when
// accepted), an error that the issuer could not be asked.
type FederatedVerifier interface {
	VerifyRobot(ctx context.Context, p store.TrustPolicy, jwt string) (notAfter time.Time, who *authn.FederatedIdentity, refusal string, err error)
}

// FederationMetrics counts federated logins by issuer name and result
// (*metrics.Metrics satisfies it).
type FederationMetrics interface {
	FederatedLogin(issuer, result string)
}

// SetFederation lets robots with a trust policy log in: their password is
// verified as a JWT by f. Without it such robots are refused. m may be nil.
func (r *Robots) SetFederation(f FederatedVerifier, m FederationMetrics) {
	r.fed, r.fedMetrics = f, m
}

// loginFederated checks password as a JWT against rb's trust policy. A
// refusal is logged with the failed check and evened out with the dummy
// comparison, as every refused robot login is.
func (r *Robots) loginFederated(ctx context.Context, username, password string, rb store.Robot) (authn.Identity, bool, error) {
	issuer := rb.Trust.Issuer
	var notAfter time.Time
	var who *authn.FederatedIdentity
	var reason string
	var err error
	if r.fed == nil {
		reason = "federation is not configured"
	} else {
		notAfter, who, reason, err = r.fed.VerifyRobot(ctx, *rb.Trust, password)
	}
	switch {
	case err != nil:
		r.countFederated(issuer, authn.FederatedUnavailable)
		return authn.Identity{}, false, fmt.Errorf("robot login: %w", err)
	case reason == "":
		reason = r.refusal(rb)
	}
	if reason != "" {
		r.countFederated(issuer, authn.FederatedRefused)
		r.log.Info("robot refused", "robot", username, "issuer", issuer, "reason", reason)
		return r.refuse(ctx, password)
	}
	r.countFederated(issuer, authn.FederatedOK)
	return authn.Identity{
		Name:     username,
		Method:   authn.MethodFederated,
		Robot:    authn.PermissionsOf(rb),
		NotAfter: notAfter,
		// A federated robot's own lifetime and networks apply too.
		Conditions:    authn.RobotCondition(rb, username),
		TokenLifetime: rb.TokenLifetime,
		Federated:     who,
	}, true, nil
}

func (r *Robots) countFederated(issuer, result string) {
	if r.fedMetrics != nil {
		r.fedMetrics.FederatedLogin(issuer, result)
	}
}
