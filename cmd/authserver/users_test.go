package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliRun runs one authserver command with cfgPath and stdin, and returns
// what it printed and its error.
func cliRun(t *testing.T, cfgPath, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &out}
	root := a.root()
	root.SetArgs(append([]string{"--config", cfgPath}, args...))
	err := root.ExecuteContext(t.Context())
	return out.String(), err
}

// cliConfig writes a config with a SQLite store under a temp dir, and
// creates the database (migrate).
func cliConfig(t *testing.T) string {
	t.Helper()
	cfgPath := cliConfigFile(t)
	if out, err := cliRun(t, cfgPath, "", "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	return cfgPath
}

// cliConfigFile writes the config of cliConfig, without the database.
func cliConfigFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	yaml := "storage: {driver: sqlite, dsn: " + filepath.Join(dir, "authserver.db") + "}\ntoken: {key: " +
		filepath.Join(dir, "token.key") + "}\npasswords: {bcrypt_cost: 4}\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath
}

// TestUserPasswdAndDisableRevoke: `user passwd` (an administrator's reset)
// and `user disable` revoke the user's personal access tokens (and refresh
// tokens: internal/admin TestRevocation), so a leaked token does not
// survive the reset meant to lock its holder out.
func TestUserPasswdAndDisableRevoke(t *testing.T) {
	cfg := cliConfig(t)
	must := func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return out
	}
	tokens := func() string {
		return strings.TrimSpace(must(cliRun(t, cfg, "", "pat", "list", "--user", "bob", "--output", "json")))
	}
	must(cliRun(t, cfg, "Bob-pass-1\n", "user", "add", "bob", "--password-stdin"))
	for _, step := range [][]string{{"user", "passwd", "bob", "--password-stdin"}, {"user", "disable", "bob"}} {
		must(cliRun(t, cfg, "", "user", "enable", "bob"))
		must(cliRun(t, cfg, "", "pat", "create", "--user", "bob", "--name", "laptop"))
		if got := tokens(); !strings.Contains(got, "laptop") {
			t.Fatalf("pat list before %s: %s", step[1], got)
		}
		out := must(cliRun(t, cfg, "Bob-pass-2\n", step...))
		if !strings.Contains(out, "personal access tokens revoked") {
			t.Errorf("%s says %q; want it to say the tokens were revoked", step[1], out)
		}
		if got := tokens(); got != "[]" {
			t.Errorf("pat list after %s: %s, want []", step[1], got)
		}
	}
}

// TestCLITextBounds: the CLI gets admin's text bounds: an email over 255
// bytes and a robot description over 1 KiB are refused with the bound.
func TestCLITextBounds(t *testing.T) {
	cfg := cliConfig(t)
	for _, c := range []struct {
		stdin, why string
		args       []string
	}{
		{"Frank-pass-1\n", "email: at most 255 bytes", []string{"user", "add", "frank", "--password-stdin", "--email", strings.Repeat("a", 256)}},
		{"", "description: at most 1024 bytes", []string{"robot", "create", "ci", "--project", "*", "--actions", "pull", "--description", strings.Repeat("d", 1025)}},
	} {
		if out, err := cliRun(t, cfg, c.stdin, c.args...); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s %s: %v (%s), want an error saying %q", c.args[0], c.args[1], err, out, c.why)
		}
	}
	if out, err := cliRun(t, cfg, "", "user", "list"); err != nil || strings.Contains(out, "frank") {
		t.Errorf("user list after a refused add: %v\n%s", err, out)
	}
}

// TestMissingDatabase: an admin command whose config names a SQLite file
// that does not exist fails, naming the file, and creates nothing (before,
// it made an empty database and printed an empty table); migrate creates it.
func TestMissingDatabase(t *testing.T) {
	cfg := cliConfigFile(t)
	db := filepath.Join(filepath.Dir(cfg), "authserver.db")
	for _, args := range [][]string{{"user", "list"}, {"project", "create", "team"}, {"audit", "list"}} {
		out, err := cliRun(t, cfg, "", args...)
		if err == nil || !strings.Contains(err.Error(), "no database at "+db) {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Fatalf("%v created the database", args)
		}
	}
	if out, err := cliRun(t, cfg, "", "migrate"); err != nil || !strings.Contains(out, db) {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err := cliRun(t, cfg, "", "user", "list"); err != nil {
		t.Fatalf("user list after migrate: %v\n%s", err, out)
	}
}
