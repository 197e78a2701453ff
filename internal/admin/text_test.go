package admin_test

import (
	"errors"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// TestParseLifetime: never and 0 are Never, "" the default (0), units s m
// h d, a wrong or non-positive value is ErrInvalid with the duration's own
// message.
func TestParseLifetime(t *testing.T) {
	good := map[string]time.Duration{"never": admin.Never, "0": admin.Never, "": 0, "30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour}
	for in, want := range good {
		if got, err := admin.ParseLifetime(in); err != nil || got != want {
			t.Errorf("ParseLifetime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"0h":   "must be positive (or never)",
		"-5d":  `duration "-5d": must not be negative (or never)`,
		"soon": `duration "soon": want e.g. 90s, 30m, 12h or 30d (or never)`,
	}
	for in, msg := range bad {
		if _, err := admin.ParseLifetime(in); !errors.Is(err, admin.ErrInvalid) || err.Error() != msg {
			t.Errorf("ParseLifetime(%q) = %v, want ErrInvalid %q", in, err, msg)
		}
	}
}

// TestParsePermission: PROJECT:ACTIONS, the project required.
func TestParsePermission(t *testing.T) {
	p, err := admin.ParsePermission("team:pull,push")
	if err != nil || p.Project != "team" || len(p.Actions) != 2 || p.Actions[1] != "push" {
		t.Fatalf("ParsePermission(team:pull,push) = %+v, %v", p, err)
	}
	for _, in := range []string{"team", ":pull", ""} {
		if _, err := admin.ParsePermission(in); !errors.Is(err, admin.ErrInvalid) {
			t.Errorf("ParsePermission(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

// TestRobotText: the state, permissions and trust columns of a robot.
func TestRobotText(t *testing.T) {
	now := time.Now()
	perm := func(project string, actions ...string) store.RobotPermission {
		return store.RobotPermission{Project: project, Actions: actions}
	}
	robot := func(project string, perms ...store.RobotPermission) admin.Robot {
		return admin.Robot{Robot: store.Robot{Project: project, Permissions: perms}}
	}
	tests := []struct {
		name              string
		r                 admin.Robot
		state, perms, trs string
	}{
		{name: "project robot", r: robot("team", perm("team", "pull", "push")), state: "enabled", perms: "pull,push", trs: "-"},
		{name: "system robot on all", r: robot("*", perm("*", "pull")), state: "enabled", perms: "pull", trs: "-"},
		{name: "system robot per project", r: robot("*", perm("team", "pull", "push"), perm("web", "pull")), state: "enabled", perms: "team:pull,push web:pull", trs: "-"},
		{name: "disabled wins over expired", r: admin.Robot{Robot: store.Robot{Disabled: true, ExpiresAt: now.Add(-time.Hour)}}, state: "disabled", trs: "-"},
		{name: "expired", r: admin.Robot{Robot: store.Robot{ExpiresAt: now.Add(-time.Hour)}}, state: "expired", trs: "-"},
		{name: "federated", r: admin.Robot{Robot: store.Robot{Trust: &store.TrustPolicy{Issuer: "github",
			Conditions: []store.ClaimCondition{{Claim: "repository", Pattern: "org/app"}, {Claim: "ref", Pattern: "refs/heads/*"}}}}},
			state: "enabled", trs: "github: repository=org/app, ref=refs/heads/*"},
		{name: "federated, a policy no JWT may pass", r: admin.Robot{Robot: store.Robot{Trust: &store.TrustPolicy{Issuer: "github",
			Conditions: []store.ClaimCondition{{Claim: "aud", Pattern: "harbor-registry"}}}}, TrustRefused: "no condition pins the workload's identity"},
			state: "refused", trs: "github: aud=harbor-registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.State(now); got != tt.state {
				t.Errorf("State = %q, want %q", got, tt.state)
			}
			if got := tt.r.PermissionsText(); got != tt.perms {
				t.Errorf("PermissionsText = %q, want %q", got, tt.perms)
			}
			if got := admin.TrustText(tt.r.Trust); got != tt.trs {
				t.Errorf("TrustText = %q, want %q", got, tt.trs)
			}
			if tt.r.Trust != nil {
				shown := admin.TrustOf(tt.r)
				if p := shown.Policy(); p.Issuer != tt.r.Trust.Issuer || len(p.Conditions) != len(tt.r.Trust.Conditions) {
					t.Errorf("TrustOf(r).Policy() = %+v, want %+v", p, tt.r.Trust)
				}
				if shown.Refused != tt.r.TrustRefused {
					t.Errorf("TrustOf(r).Refused = %q, want %q", shown.Refused, tt.r.TrustRefused)
				}
			}
		})
	}
	if admin.TrustOf(admin.Robot{}) != nil || (*admin.Trust)(nil).Policy() != nil {
		t.Error("TrustOf of a robot with a secret, or nil.Policy(), is not nil")
	}
}
