package admin_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

func TestFederatedRobots(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	conds := func(kv ...string) []store.ClaimCondition {
		var out []store.ClaimCondition
		for _, s := range kv {
			c, err := admin.ParseCondition(s)
			f.must(t, err)
			out = append(out, c)
		}
		return out
	}
	gh := &store.TrustPolicy{Issuer: "github", Conditions: conds("repository=org/app", "ref=refs/heads/*")}
	r, secret, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "gh", Project: "team", Actions: []string{"push"}, Trust: gh})
	f.must(t, err)
	if secret != "" || r.SecretHash != "" || !reflect.DeepEqual(r.Trust, gh) || r.Login != "robot$team+gh" {
		t.Fatalf("created %+v, secret %q", r, secret)
	}

	tests := []struct {
		name string
		do   func() error
		kind error
		msg  string
	}{
		{name: "unknown issuer", kind: admin.ErrInvalid, msg: `issuer "gitlab" is not in federation.issuers (configured: github, cluster)`, do: func() error {
			_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "gl", Project: "team", Actions: []string{"pull"},
				Trust: &store.TrustPolicy{Issuer: "gitlab", Conditions: conds("project_path=g/app")}})
			return err
		}},
		{name: "no conditions", kind: admin.ErrInvalid, do: func() error {
			_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "x", Project: "team", Actions: []string{"pull"},
				Trust: &store.TrustPolicy{Issuer: "github"}})
			return err
		}},
		{name: "condition without =", kind: admin.ErrInvalid, do: func() error { _, err := admin.ParseCondition("repository"); return err }},
		{name: "pattern only *", kind: admin.ErrInvalid, do: func() error { _, err := admin.ParseCondition("sub=*"); return err }},
		{name: "refresh-secret of a federated robot", kind: admin.ErrInvalid, do: func() error {
			_, _, err := f.adm.RefreshRobotSecret(ctx, root, f.robotID("robot$team+gh"))
			return err
		}},
		{name: "trust on a secret robot", kind: admin.ErrInvalid, do: func() error {
			_, err := f.adm.SetRobotTrust(ctx, root, f.robotID("team+ci"), store.TrustPolicy{Conditions: conds("sub=x")})
			return err
		}},
		// A non-member is told the robot does not exist (permissions.go).
		{name: "not the project admin", kind: admin.ErrNotFound, do: func() error {
			_, err := f.adm.SetRobotTrust(ctx, admin.Actor{Name: "bob"}, f.robotID("team+gh"), store.TrustPolicy{Conditions: conds("sub=x")})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.do(), tt.kind, tt.msg) })
	}

	// robot set --claim replaces the conditions, keeping the issuer.
	upd, err := f.adm.SetRobotTrust(ctx, root, f.robotID("team+gh"), store.TrustPolicy{Conditions: conds("sub=repo:org/app:ref:refs/heads/main")})
	f.must(t, err)
	if upd.Trust.Issuer != "github" || !reflect.DeepEqual(upd.Trust.Conditions, conds("sub=repo:org/app:ref:refs/heads/main")) {
		t.Fatalf("after SetRobotTrust: %+v", upd.Trust)
	}
	// Other changes keep the policy.
	desc := "pushes app"
	upd, err = f.adm.UpdateRobot(ctx, root, f.robotID("team+gh"), admin.RobotChange{Description: &desc})
	f.must(t, err)
	if upd.Trust == nil || upd.SecretHash != "" {
		t.Fatalf("UpdateRobot lost the policy: %+v", upd)
	}
	e, err := f.adm.Explain(ctx, root, admin.ExplainRequest{Robot: "team+gh", Scopes: []string{"repository:team/app:push"}})
	f.must(t, err)
	if len(e.Notes) == 0 || !strings.Contains(e.Notes[0], "issuer github") || !strings.Contains(e.Notes[0], "sub=repo:org/app:ref:refs/heads/main") {
		t.Fatalf("explain notes %q", e.Notes)
	}
}

// TestTrustPolicyPinsIdentity: a trust policy must pin the workload (a
// condition on sub or an identity claim of its issuer with a literal
// prefix), and conditions on the claims the verifier checks are refused.
// A robot stored before the rule with a policy that pins nothing is shown
// as refused, with the reason, by robot list (State, TrustOf) and explain,
// until robot set --claim fixes it.
func TestTrustPolicyPinsIdentity(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	policy := func(issuer string, kv ...string) *store.TrustPolicy {
		p := &store.TrustPolicy{Issuer: issuer}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Conditions = append(p.Conditions, store.ClaimCondition{Claim: kv[i], Pattern: kv[i+1]})
		}
		return p
	}
	create := func(name string, p *store.TrustPolicy) error {
		_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: name, Project: "team", Actions: []string{"pull"}, Trust: p})
		return err
	}
	const githubPins = "trust policy of issuer github: no condition pins the workload's identity: the policy needs one on sub, " +
		"repository, repository_owner, repository_id or repository_owner_id whose pattern starts with a literal (not '*'), " +
		"e.g. repository=...; conditions on other claims only narrow it"
	tests := []struct {
		name string
		do   func() error
		kind error
		msg  string
	}{
		{name: "aud alone", kind: admin.ErrInvalid, msg: "condition: aud is checked by the verifier (iss exactly, aud against the issuer's " +
			"audiences, exp, iat and nbf against the clock) and says nothing about which workload logs in",
			do: func() error { return create("a1", policy("github", "aud", "harbor-registry")) }},
		{name: "aud beside a pin", kind: admin.ErrInvalid, do: func() error {
			return create("a2", policy("github", "repository", "org/app", "aud", "harbor-registry"))
		}},
		{name: "iss typed on the command line", kind: admin.ErrInvalid, do: func() error {
			_, err := admin.ParseCondition("iss=https://token.actions.githubusercontent.com")
			return err
		}},
		{name: "a JSON pointer to nbf", kind: admin.ErrInvalid, do: func() error { _, err := admin.ParseCondition("/nbf=1"); return err }},
		{name: "a branch of any repository", kind: admin.ErrInvalid, msg: githubPins,
			do: func() error { return create("b", policy("github", "ref", "refs/heads/main")) }},
		{name: "repository with a leading *", kind: admin.ErrInvalid, msg: githubPins,
			do: func() error { return create("c", policy("github", "repository", "*app", "ref", "refs/heads/main")) }},
		{name: "sub with a leading *", kind: admin.ErrInvalid, msg: githubPins,
			do: func() error { return create("d", policy("github", "sub", "*:ref:refs/heads/main")) }},
		{name: "a claim the cluster does not name", kind: admin.ErrInvalid, msg: "trust policy of issuer cluster: no condition pins the " +
			"workload's identity: the policy needs one on sub whose pattern starts with a literal (not '*'), e.g. sub=...; " +
			"conditions on other claims only narrow it",
			do: func() error { return create("e", policy("cluster", "/kubernetes.io/namespace", "ci")) }},

		{name: "repository", do: func() error { return create("ok1", policy("github", "repository", "org/app")) }},
		{name: "repository_owner and a branch", do: func() error {
			return create("ok2", policy("github", "repository_owner", "org", "ref", "refs/heads/main"))
		}},
		{name: "a JSON pointer to repository", do: func() error { return create("ok3", policy("github", "/repository", "org/app")) }},
		{name: "sub with a literal prefix", do: func() error {
			return create("ok4", policy("cluster", "sub", "system:serviceaccount:ci:*"))
		}},
		{name: "then set --claim to conditions that do not pin", kind: admin.ErrInvalid, msg: githubPins, do: func() error {
			_, err := f.adm.SetRobotTrust(ctx, root, f.robotID("team+ok1"), *policy("", "ref", "refs/heads/main"))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.do(), tt.kind, tt.msg) })
	}
	if rb, err := f.adm.GetRobot(ctx, root, f.robotID("team+ok1")); err != nil || !reflect.DeepEqual(rb.Trust, policy("github", "repository", "org/app")) {
		t.Fatalf("a refused set --claim changed the policy: %+v %v", rb.Trust, err)
	}

	// Stored before the rule (or before the issuer was removed): shown as
	// refused, with the reason; other changes keep it; set --claim fixes it.
	f.must(t, f.st.CreateRobot(ctx, &store.Robot{Name: "team+old", Project: "team", Permissions: store.OneProject("team", "pull"),
		Trust: policy("github", "aud", "harbor-registry")}))
	f.must(t, f.st.CreateRobot(ctx, &store.Robot{Name: "team+gone", Project: "team", Permissions: store.OneProject("team", "pull"),
		Trust: policy("gitea", "sub", "repo:org/app")}))
	robots, err := f.adm.ListRobots(ctx, root, "team")
	f.must(t, err)
	shown := map[string]admin.Robot{}
	for _, r := range robots {
		shown[r.Login] = r
	}
	old, gone := shown["robot$team+old"], shown["robot$team+gone"]
	if old.State(f.clock.t) != "refused" || old.TrustRefused != githubPins || admin.TrustOf(old).Refused != githubPins {
		t.Errorf("stored non-pinning robot: state %q, refused %q", old.State(f.clock.t), old.TrustRefused)
	}
	if want := `issuer "gitea" is not in federation.issuers (configured: github, cluster)`; gone.State(f.clock.t) != "refused" || gone.TrustRefused != want {
		t.Errorf("robot of an issuer no longer configured: state %q, refused %q", gone.State(f.clock.t), gone.TrustRefused)
	}
	if r := shown["robot$team+ok1"]; r.State(f.clock.t) != "enabled" || r.TrustRefused != "" || admin.TrustOf(r).Refused != "" {
		t.Errorf("pinning robot: state %q, refused %q", r.State(f.clock.t), r.TrustRefused)
	}
	e, err := f.adm.Explain(ctx, root, admin.ExplainRequest{Robot: "team+old", Scopes: []string{"repository:team/app:pull"}})
	f.must(t, err)
	if len(e.Notes) < 2 || !strings.Contains(e.Notes[1], "trust policy lets no JWT in ("+githubPins+"): a real login would get 401") {
		t.Errorf("explain notes %q", e.Notes)
	}
	desc := "kept"
	upd, err := f.adm.UpdateRobot(ctx, root, f.robotID("team+old"), admin.RobotChange{Description: &desc})
	f.must(t, err)
	if upd.TrustRefused == "" || upd.Description != "kept" {
		t.Errorf("UpdateRobot of a refused policy: %+v", upd)
	}
	upd, err = f.adm.SetRobotTrust(ctx, root, f.robotID("team+old"), *policy("", "repository", "org/app"))
	f.must(t, err)
	if upd.TrustRefused != "" || upd.State(f.clock.t) != "enabled" {
		t.Errorf("after set --claim: state %q, refused %q", upd.State(f.clock.t), upd.TrustRefused)
	}
}
