package federation_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/federation"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/oidctest"
	"github.com/authserver/authserver/internal/store"
)

func conds(kv ...string) []store.ClaimCondition {
	var out []store.ClaimCondition
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, store.ClaimCondition{Claim: kv[i], Pattern: kv[i+1]})
	}
	return out
}

// TestPinsIdentity: a policy pins the workload with a condition on sub or
// on one of the issuer's identity claims whose pattern starts with a
// literal; conditions on anything else only narrow it.
func TestPinsIdentity(t *testing.T) {
	github := (config.FederationIssuer{URL: config.GitHubActionsURL}).Identity()
	subOnly := []string{"sub"}
	tests := []struct {
		name     string
		conds    []store.ClaimCondition
		identity []string
		ok       bool
	}{
		{name: "repository exact", conds: conds("repository", "org/app"), identity: github, ok: true},
		{name: "repository_owner", conds: conds("repository_owner", "org", "ref", "refs/heads/main"), identity: github, ok: true},
		{name: "repository_owner_id", conds: conds("repository_owner_id", "12345"), identity: github, ok: true},
		{name: "sub with a literal prefix", conds: conds("sub", "repo:org/app:*"), identity: github, ok: true},
		{name: "sub counts for any issuer", conds: conds("sub", "system:serviceaccount:ci:builder"), identity: subOnly, ok: true},
		{name: "one character before the *", conds: conds("sub", "r*"), identity: subOnly, ok: true},
		{name: "JSON pointer to a top-level identity claim", conds: conds("/repository", "org/app"), identity: github, ok: true},
		{name: "identity claim given as a pointer", conds: conds("namespace", "ci"), identity: []string{"sub", "/namespace"}, ok: true},
		{name: "nested identity claim", conds: conds("/kubernetes.io/namespace", "ci"), identity: []string{"sub", "/kubernetes.io/namespace"}, ok: true},
		{name: "the pin among other conditions", conds: conds("ref", "refs/heads/*", "repository", "org/app"), identity: github, ok: true},

		{name: "aud only", conds: conds("aud", "harbor-registry"), identity: github},
		{name: "ref only", conds: conds("ref", "refs/heads/*"), identity: github},
		{name: "sub starting with *", conds: conds("sub", "*:ref:refs/heads/main"), identity: github},
		{name: "repository starting with *", conds: conds("repository", "*foo"), identity: github},
		{name: "sub only *", conds: conds("sub", "*"), identity: github},
		{name: "another issuer's identity claim", conds: conds("repository", "org/app"), identity: subOnly},
		{name: "a nested claim of the same last name", conds: conds("/x/repository", "org/app"), identity: github},
		{name: "no conditions", identity: github},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := federation.PinsIdentity(tt.conds, tt.identity)
			if (err == nil) != tt.ok {
				t.Fatalf("PinsIdentity = %v, want ok %v", err, tt.ok)
			}
			if err != nil && (!strings.Contains(err.Error(), "no condition pins the workload's identity") ||
				!strings.Contains(err.Error(), strings.Join(tt.identity[:len(tt.identity)-1], ", "))) {
				t.Fatalf("error %q does not name the claims that pin (%v)", err, tt.identity)
			}
		})
	}
}

// TestValidConditionVerifierClaims: conditions on the claims the verifier
// checks (iss, aud, exp, iat, nbf, also as JSON pointers) are refused.
func TestValidConditionVerifierClaims(t *testing.T) {
	for _, c := range conds("aud", "harbor-registry", "iss", "https://token.actions.githubusercontent.com", "exp", "1", "iat", "1",
		"nbf", "1", "/aud", "harbor-registry") {
		if err := federation.ValidCondition(c); err == nil || !strings.Contains(err.Error(), "checked by the verifier") {
			t.Errorf("condition %s=%s: %v, want refused as the verifier's job", c.Claim, c.Pattern, err)
		}
	}
	for _, c := range conds("repository", "org/app", "audience", "x", "/x/aud", "y", "jti", "z") {
		if err := federation.ValidCondition(c); err != nil {
			t.Errorf("condition %s=%s: %v", c.Claim, c.Pattern, err)
		}
	}
}

// TestFederatedUnpinnedPolicyFailsClosed: robots stored before the rule
// with a policy that pins no workload (aud only, a branch of any
// repository, a leading *, another issuer's identity claim) are refused at
// every login, even with a JWT meeting every condition, with the reason in
// the log line; a policy that pins still logs in.
func TestFederatedUnpinnedPolicyFailsClosed(t *testing.T) {
	e := newFedEnv(t)
	ctx := t.Context()
	stored := func(name, issuer string, c []store.ClaimCondition) {
		t.Helper()
		if err := e.st.CreateRobot(ctx, &store.Robot{Name: name, Project: "team", Permissions: store.OneProject("team", "pull"),
			Trust: &store.TrustPolicy{Issuer: issuer, Conditions: c}}); err != nil {
			t.Fatal(err)
		}
	}
	stored("team+aud", "github", conds("aud", "harbor-registry"))
	stored("team+branch", "github", conds("ref", "refs/heads/main"))
	stored("team+star", "github", conds("repository", "*app"))
	stored("team+k8s-repo", "cluster", conds("repository", "org/app"))
	stored("team+gone", "gitea", conds("sub", "repo:org/app:ref:refs/heads/main"))
	stored("team+pointer", "github", conds("/repository", "org/app"))

	gh := e.gh.Mint(aud, oidctest.GitHub("org/app", "refs/heads/main"))
	tests := []struct {
		robot, jwt, why string
	}{
		{"team+aud", gh, "no condition pins the workload's identity"},
		{"team+branch", gh, "no condition pins the workload's identity"},
		{"team+star", gh, "no condition pins the workload's identity"},
		{"team+k8s-repo", e.k8s.Mint(aud, with(oidctest.Kubernetes("ci", "builder"), "repository", "org/app")), "the policy needs one on sub whose"},
		{"team+gone", gh, "is not configured"},
		{"team+pointer", gh, ""},
	}
	for _, tt := range tests {
		t.Run(tt.robot, func(t *testing.T) {
			_, ok, err := e.robots.Login(ctx, "robot$"+tt.robot, tt.jwt)
			logged := e.log.Take()
			if err != nil {
				t.Fatalf("err = %v; want 401 or success", err)
			}
			if tt.why == "" {
				if !ok {
					t.Fatalf("a pinning policy refused: %s", logged)
				}
				return
			}
			if ok {
				t.Fatal("a policy that pins no workload let a JWT in")
			}
			if !strings.Contains(logged, "trust policy refused") || !strings.Contains(logged, tt.why) {
				t.Fatalf("log does not say %q:\n%s", tt.why, logged)
			}
		})
	}
	if got := testutil.ToFloat64(e.metrics.FederatedLogins.WithLabelValues("github", authn.FederatedRefused)); got != 3 {
		t.Errorf("refusals counted for github: %v, want 3", got)
	}
}
