package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authapp "github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// TestRobotFederateMustPin: `robot create --federate` refuses, with a
// clear error and no robot, a policy that pins no workload (aud alone, a
// branch of any repository) or names a claim the verifier checks; the
// GitHub Actions issuer's default identity claims let repository pin. A
// robot stored earlier with such a policy shows STATE refused in `robot
// list`, the reason in `--output json` and in `explain`.
func TestRobotFederateMustPin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	yaml := "storage: {driver: sqlite, dsn: " + filepath.Join(dir, "authserver.db") + "}\ntoken: {key: " + filepath.Join(dir, "token.key") + "}\n" +
		"federation:\n  issuers:\n    - {name: github, url: \"https://token.actions.githubusercontent.com\", audiences: [harbor-registry]}\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
		root := a.root()
		root.SetArgs(append([]string{"--config", cfgPath}, args...))
		err := root.ExecuteContext(ctx)
		return out.String(), err
	}
	if out, err := run("migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err := run("project", "create", "team"); err != nil {
		t.Fatalf("project create: %v\n%s", err, out)
	}
	create := []string{"robot", "create", "gh", "--project", "team", "--actions", "pull", "--federate", "github"}
	for _, tt := range []struct{ name, claim, why string }{
		{"aud alone", "aud=harbor-registry", "--claim: condition: aud is checked by the verifier"},
		{"iss", "iss=https://token.actions.githubusercontent.com", "condition: iss is checked by the verifier"},
		{"a branch of any repository", "ref=refs/heads/main", "no condition pins the workload's identity: the policy needs one on sub, repository, repository_owner"},
		{"repository with a leading *", "repository=*/app", "no condition pins the workload's identity"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(append(create, "--claim", tt.claim)...)
			if err == nil || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("robot create --claim %s: %v (output %q); want an error saying %q", tt.claim, err, out, tt.why)
			}
		})
	}
	if out, err := run(append(create, "--claim", "repository=org/app", "--claim", "ref=refs/heads/*")...); err != nil || !strings.Contains(out, "No secret") {
		t.Fatalf("robot create with a pin: %v\n%s", err, out)
	}

	// A robot an earlier version stored with aud alone.
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := authapp.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = st.CreateRobot(ctx, &store.Robot{Name: "team+old", Project: "team", Permissions: store.OneProject("team", "pull"),
		Trust: &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{{Claim: "aud", Pattern: "harbor-registry"}}}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, err := run("robot", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) > 3 && fields[0] == "robot$team+old" && fields[3] != "refused" ||
			len(fields) > 3 && fields[0] == "robot$team+gh" && fields[3] != "enabled" {
			t.Fatalf("robot list: %q\n%s", line, out)
		}
	}
	if !strings.Contains(out, "refused") {
		t.Fatalf("robot list shows no refused robot:\n%s", out)
	}
	if out, err = run("robot", "list", "--output", "json"); err != nil || !strings.Contains(out, `"refused": "trust policy of issuer github: no condition pins`) {
		t.Fatalf("robot list --output json: %v\n%s", err, out)
	}
	if out, err = run("explain", "--robot", "team+old", "repository:team/app:pull"); err != nil ||
		!strings.Contains(out, "trust policy lets no JWT in (trust policy of issuer github: no condition pins") {
		t.Fatalf("explain: %v\n%s", err, out)
	}
}
