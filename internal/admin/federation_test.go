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
			_, _, err := f.adm.RefreshRobotSecret(ctx, root, "robot$team+gh")
			return err
		}},
		{name: "trust on a secret robot", kind: admin.ErrInvalid, do: func() error {
			_, err := f.adm.SetRobotTrust(ctx, root, "team+ci", store.TrustPolicy{Conditions: conds("sub=x")})
			return err
		}},
		// A non-member is told the robot does not exist (permissions.go).
		{name: "not the project admin", kind: admin.ErrNotFound, do: func() error {
			_, err := f.adm.SetRobotTrust(ctx, admin.Actor{Name: "bob"}, "team+gh", store.TrustPolicy{Conditions: conds("sub=x")})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.do(), tt.kind, tt.msg) })
	}

	// robot set --claim replaces the conditions, keeping the issuer.
	upd, err := f.adm.SetRobotTrust(ctx, root, "team+gh", store.TrustPolicy{Conditions: conds("sub=repo:org/app:ref:refs/heads/main")})
	f.must(t, err)
	if upd.Trust.Issuer != "github" || !reflect.DeepEqual(upd.Trust.Conditions, conds("sub=repo:org/app:ref:refs/heads/main")) {
		t.Fatalf("after SetRobotTrust: %+v", upd.Trust)
	}
	// Other changes keep the policy.
	desc := "pushes app"
	upd, err = f.adm.UpdateRobot(ctx, root, "team+gh", admin.RobotChange{Description: &desc})
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
