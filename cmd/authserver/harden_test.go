package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// testConfig is the embedded default with its files under dir.
func testConfig(dir string) config.Config {
	cfg := config.Defaults()
	cfg.Token.Key = filepath.Join(dir, "keys", "token.key")
	cfg.Token.Certificate = filepath.Join(dir, "keys", "token.crt")
	cfg.Storage.DSN = filepath.Join(dir, "authserver.db")
	cfg.Passwords.BcryptCost = 4
	return cfg
}

func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // restores the old value after the test
	os.Unsetenv(name)
}

// TestBootstrapPasswordFile: a generated admin password is written to
// admin-password (0600) beside the signing key, and the log names the
// file, never the password.
func TestBootstrapPasswordFile(t *testing.T) {
	unsetEnv(t, "AUTHSERVER_ADMIN_PASSWORD")
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(dir)
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: &out}
	if err := a.bootstrapAdmin(ctx, cfg, st, slog.New(slog.NewTextHandler(&out, nil))); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "keys", "admin-password")
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", info.Mode().Perm())
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pw := strings.TrimSpace(string(raw))
	if len(pw) < 20 {
		t.Fatalf("password %d characters", len(pw))
	}
	if strings.Contains(out.String(), pw) {
		t.Fatalf("the password was printed or logged: %q", out.String())
	}
	if !strings.Contains(out.String(), file) {
		t.Fatalf("the log does not name %s: %q", file, out.String())
	}
	local, err := authn.NewLocal(st, 4)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok, err := local.Login(ctx, "admin", pw); err != nil || !ok || !id.Admin {
		t.Fatalf("admin login with the password from the file: %v %v %+v", ok, err, id)
	}
	// A second start changes nothing.
	if err := a.bootstrapAdmin(ctx, cfg, st, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(file); !bytes.Equal(again, raw) {
		t.Fatal("the file was rewritten on the second start")
	}
}

// TestBootstrapPasswordFileUnwritable: a password that cannot be saved is
// never made the admin's.
func TestBootstrapPasswordFileUnwritable(t *testing.T) {
	unsetEnv(t, "AUTHSERVER_ADMIN_PASSWORD")
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(dir)
	if err := os.WriteFile(filepath.Join(dir, "keys"), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: &out}
	if err := a.bootstrapAdmin(ctx, cfg, st, slog.New(slog.NewTextHandler(&out, nil))); err == nil {
		t.Fatal("no error when the password file cannot be written")
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("%d users (%v) after the failed bootstrap", n, err)
	}
}

// TestAuditListEscapes: a crafted username or client_id can neither forge
// a row nor send escape sequences to the terminal.
func TestAuditListEscapes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	yaml := "storage: {driver: sqlite, dsn: " + filepath.Join(dir, "authserver.db") + "}\ntoken: {key: " + filepath.Join(dir, "token.key") + "}\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = st.AppendAudit(ctx, []store.AuditRecord{{
		Time: time.Now(), Subject: "mallory\n2026-01-01T00:00:00Z  admin\tpassword  issued\r", Method: "password",
		ClientIP: "192.0.2.1", Result: store.AuditUnauthorized, ClientID: "\x1b[2J\x1b[Hdocker\x7f\xc2\x9b\xff",
		Requested: []string{"repository:a/b:pull"},
	}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	root := a.root()
	root.SetArgs([]string{"--config", cfgPath, "audit", "list"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if lines := strings.Count(got, "\n"); lines != 2 {
		t.Fatalf("%d lines, want the header and one row:\n%s", lines, got)
	}
	for _, bad := range []string{"\x1b", "\r", "\x7f", "\xc2\x9b", "\xff", "\t"} {
		if strings.Contains(got, bad) {
			t.Fatalf("output holds %q:\n%q", bad, got)
		}
	}
	for _, want := range []string{`mallory\x0a2026`, `\x1b[2J\x1b[Hdocker\x7f\x9b\xff`, `admin\x09password`} {
		if !strings.Contains(got, want) {
			t.Fatalf("output lacks %s:\n%s", want, got)
		}
	}
}

func TestEscapeCell(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "plain", in: "team/app:pull", want: "team/app:pull"},
		{name: "unicode kept", in: "jürgen", want: "jürgen"},
		{name: "newline", in: "a\nb", want: `a\x0ab`},
		{name: "esc", in: "\x1b[31m", want: `\x1b[31m`},
		{name: "invalid utf-8", in: "a\xffb", want: `a\xffb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escapeCell(tt.in); got != tt.want {
				t.Fatalf("escapeCell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestServeWarnsInsecureConfig: serve logs the config's warnings before it
// opens anything (here the PostgreSQL server is not even there).
func TestServeWarnsInsecureConfig(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Storage.Driver, cfg.Storage.DSN = "postgres", "postgres://u:pw@db.invalid:1/a?sslmode=disable&connect_timeout=1"
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: &out}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = a.serve(ctx, cfg)
	if got := out.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "sslmode=disable does not verify") {
		t.Fatalf("no warning logged:\n%s", got)
	}
}
