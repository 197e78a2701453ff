package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authapp "github.com/authserver/authserver/internal/app"
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
	st, err := authapp.OpenStore(ctx, cfg)
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
