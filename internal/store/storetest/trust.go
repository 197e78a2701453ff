package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

// testTrustedRobots covers federated robots: a trust policy instead of a
// secret, stored, listed, replaced, removed, and never both.
func testTrustedRobots(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustProject(t, s, "team", false)
	policy := &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{
		{Claim: "repository", Pattern: "org/app"}, {Claim: "/kubernetes.io/namespace", Pattern: "ci-*"}}}
	gh := store.Robot{Name: "team+gh", Project: "team", Permissions: store.OneProject("team", "pull", "push"), Trust: policy}
	if err := s.CreateRobot(ctx, &gh); err != nil {
		t.Fatalf("CreateRobot(trust): %v", err)
	}
	// A second federated robot: the secret_hash marker must stay unique.
	k8s := store.Robot{Name: "k8s", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"),
		Trust: &store.TrustPolicy{Issuer: "cluster", Conditions: []store.ClaimCondition{{Claim: "sub", Pattern: "system:serviceaccount:ci:builder"}}}}
	if err := s.CreateRobot(ctx, &k8s); err != nil {
		t.Fatalf("CreateRobot(second trust): %v", err)
	}
	got, err := s.GetRobot(ctx, "team+gh")
	if err != nil || !robotEqual(got, gh) || got.SecretHash != "" {
		t.Errorf("GetRobot = %+v, %v; want %+v with no secret hash", got, err, gh)
	}
	// What a read returns is the caller's: changing it changes no later read
	// (a store may cache decoded policies).
	if err == nil && got.Trust != nil {
		got.Trust.Conditions[0].Pattern = "changed by the caller"
		if again, _ := s.GetRobot(ctx, "team+gh"); !robotEqual(again, gh) {
			t.Errorf("GetRobot after the caller changed an earlier result = %+v", again.Trust)
		}
	}
	list, err := s.ListRobots(ctx, "")
	if err != nil || len(list) != 2 || list[0].Name != "k8s" || !reflect.DeepEqual(list[0].Trust, k8s.Trust) {
		t.Errorf("ListRobots = %+v, %v", list, err)
	}

	tests := []struct {
		name  string
		robot store.Robot
	}{
		{name: "both", robot: store.Robot{Name: "team+both", Project: "team", Permissions: store.OneProject("team", "pull"), SecretHash: "b1", Trust: policy}},
		{name: "neither", robot: store.Robot{Name: "team+none", Project: "team", Permissions: store.OneProject("team", "pull")}},
		{name: "no conditions", robot: store.Robot{Name: "team+empty", Project: "team", Permissions: store.OneProject("team", "pull"), Trust: &store.TrustPolicy{Issuer: "github"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.robot
			err := s.CreateRobot(ctx, &r)
			if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyExists) {
				t.Fatalf("CreateRobot = %v; want a plain error", err)
			}
			if _, err := s.GetRobot(ctx, r.Name); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("refused robot was stored: %v", err)
			}
		})
	}

	// Replacing the conditions; refusing a secret next to the policy.
	conds := []store.ClaimCondition{{Claim: "ref", Pattern: "refs/heads/main"}}
	upd, err := s.ModifyRobot(ctx, "team+gh", func(r store.Robot) (store.Robot, error) {
		r.Trust = &store.TrustPolicy{Issuer: r.Trust.Issuer, Conditions: conds}
		return r, nil
	})
	if err != nil || !reflect.DeepEqual(upd.Trust.Conditions, conds) {
		t.Fatalf("ModifyRobot(conditions) = %+v, %v", upd, err)
	}
	if got, _ := s.GetRobot(ctx, "team+gh"); !reflect.DeepEqual(got.Trust, upd.Trust) {
		t.Errorf("after ModifyRobot: %+v", got.Trust)
	}
	_, err = s.ModifyRobot(ctx, "team+gh", func(r store.Robot) (store.Robot, error) {
		r.SecretHash = "s1"
		return r, nil
	})
	if err == nil {
		t.Errorf("ModifyRobot accepted a secret next to a trust policy")
	}
	// Turning it into a secret robot drops the policy, and back.
	sec, err := s.ModifyRobot(ctx, "team+gh", func(r store.Robot) (store.Robot, error) {
		r.Trust, r.SecretHash = nil, "s1"
		return r, nil
	})
	if err != nil || sec.Trust != nil || sec.SecretHash != "s1" {
		t.Fatalf("ModifyRobot(to secret) = %+v, %v", sec, err)
	}
	if got, _ := s.GetRobot(ctx, "team+gh"); got.Trust != nil || got.SecretHash != "s1" {
		t.Errorf("after ModifyRobot(to secret): %+v", got)
	}
	// Deleting the robot deletes its policy.
	wantErr(t, "DeleteRobot", s.DeleteRobot(ctx, "k8s"), nil)
	again := store.Robot{Name: "k8s", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"), SecretHash: "k1"}
	if err := s.CreateRobot(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetRobot(ctx, "k8s"); got.Trust != nil {
		t.Errorf("a new robot inherited a deleted robot's policy: %+v", got.Trust)
	}
}
