package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/stack"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// bootstrapConfig is apptest.Config with the signing key (beside which
// the password file goes) under dir/keys, and no $AUTHSERVER_ADMIN_PASSWORD.
func bootstrapConfig(t *testing.T, dir string) config.Config {
	t.Helper()
	t.Setenv("AUTHSERVER_ADMIN_PASSWORD", "") // restores the old value after the test
	os.Unsetenv("AUTHSERVER_ADMIN_PASSWORD")
	cfg := apptest.Config(t)
	cfg.Token.Key = filepath.Join(dir, "keys", "token.key")
	return cfg
}

// TestBootstrapPasswordFile: a generated admin password is written to
// admin-password (0600) beside the signing key, and the log names the
// file, never the password.
func TestBootstrapPasswordFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := bootstrapConfig(t, dir)
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	if err := app.BootstrapAdmin(ctx, cfg, st, slog.New(slog.NewTextHandler(&out, nil))); err != nil {
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
	logins := authntest.NewStack(t, st, cfg, stack.Options{}).Passwords
	if id, ok, err := logins.Login(ctx, "admin", pw); err != nil || !ok || !id.Admin {
		t.Fatalf("admin login with the password from the file: %v %v %+v", ok, err, id)
	}
	// A second start changes nothing.
	if err := app.BootstrapAdmin(ctx, cfg, st, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(file); !bytes.Equal(again, raw) {
		t.Fatal("the file was rewritten on the second start")
	}
}

// TestBootstrapPasswordFileUnwritable: a password that cannot be saved is
// never made the admin's.
func TestBootstrapPasswordFileUnwritable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := bootstrapConfig(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "keys"), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	if err := app.BootstrapAdmin(ctx, cfg, st, slog.New(slog.NewTextHandler(&out, nil))); err == nil {
		t.Fatal("no error when the password file cannot be written")
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("%d users (%v) after the failed bootstrap", n, err)
	}
}

// TestBootstrapPasswordPolicy: a $AUTHSERVER_ADMIN_PASSWORD the password
// policy refuses (passwords.min_length included) fails start-up with a
// message naming the variable and the reason, and creates no admin; one
// that meets it makes the admin.
func TestBootstrapPasswordPolicy(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, pw, why string
		min           int
	}{
		{name: "the walkthrough's old example", pw: "admin-pass", why: "no upper-case letter"},
		{name: "longer than bcrypt reads", pw: "Admin-1" + strings.Repeat("x", 70), why: "77 bytes"},
		{name: "under a raised min_length", pw: "Admin-pass-1", min: 14, why: "at least 14 characters"},
		{name: "meets it", pw: "Admin-pass-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := bootstrapConfig(t, t.TempDir())
			if tt.min != 0 {
				cfg.Passwords.MinLength = tt.min
			}
			t.Setenv("AUTHSERVER_ADMIN_PASSWORD", tt.pw)
			st, err := app.OpenStore(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			err = app.BootstrapAdmin(ctx, cfg, st, slog.New(slog.DiscardHandler))
			n, cerr := st.CountUsers(ctx)
			if cerr != nil {
				t.Fatal(cerr)
			}
			if tt.why == "" {
				if err != nil || n != 1 {
					t.Fatalf("BootstrapAdmin = %v, %d users; want the admin", err, n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "$AUTHSERVER_ADMIN_PASSWORD") || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("BootstrapAdmin = %v; want an error naming $AUTHSERVER_ADMIN_PASSWORD and saying %q", err, tt.why)
			}
			if n != 0 {
				t.Errorf("%d users after a refused password", n)
			}
		})
	}
}

// simultaneousBootstrap starts five bootstraps at once on one database,
// each on its own store handle (five replicas), sharing the key directory:
// exactly one creates the admin and writes the password file, which holds
// the admin's password; the others say they did not create it.
func simultaneousBootstrap(t *testing.T, cfg config.Config, dir string) {
	ctx := context.Background()
	const replicas = 5
	logs := make([]bytes.Buffer, replicas)
	errs := make(chan error, replicas)
	stores := make([]store.Store, replicas)
	for i := range stores {
		st, err := app.OpenStore(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stores[i] = st
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range replicas {
		wg.Go(func() {
			<-start
			errs <- app.BootstrapAdmin(ctx, cfg, stores[i], slog.New(slog.NewTextHandler(&logs[i], nil)))
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	created, declined := 0, 0
	for i := range logs {
		switch out := logs[i].String(); {
		case strings.Contains(out, "created sysadmin admin"):
			created++
		case strings.Contains(out, "not creating the bootstrap sysadmin"):
			declined++
		default:
			t.Errorf("replica %d said neither: %q", i, out)
		}
	}
	if created != 1 || declined != replicas-1 {
		t.Fatalf("%d replicas created the admin, %d said they did not; want 1 and %d", created, declined, replicas-1)
	}
	if n, err := stores[0].CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("%d users, %v; want the admin alone", n, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "keys", "admin-password"))
	if err != nil {
		t.Fatalf("the password file the log names: %v", err)
	}
	logins := authntest.NewStack(t, stores[0], cfg, stack.Options{}).Passwords
	if _, ok, err := logins.Login(ctx, "admin", strings.TrimSpace(string(raw))); err != nil || !ok {
		t.Fatalf("admin login with the password from the file: %v %v", ok, err)
	}
}

// TestSimultaneousBootstrap: five replicas starting at once on an empty
// SQLite database (PostgreSQL: postgres_test.go).
func TestSimultaneousBootstrap(t *testing.T) {
	dir := t.TempDir()
	simultaneousBootstrap(t, bootstrapConfig(t, dir), dir)
}

// TestIgnoredAdminPasswordLogged: $AUTHSERVER_ADMIN_PASSWORD set on a
// database that has users already changes nothing, and the log says so
// (before, it was silently ignored and people took it for admin's password).
func TestIgnoredAdminPasswordLogged(t *testing.T) {
	ctx := context.Background()
	cfg := bootstrapConfig(t, t.TempDir())
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t.Setenv("AUTHSERVER_ADMIN_PASSWORD", "First-pass-1")
	if err := app.BootstrapAdmin(ctx, cfg, st, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUTHSERVER_ADMIN_PASSWORD", "Second-pass-2")
	var out bytes.Buffer
	if err := app.BootstrapAdmin(ctx, cfg, st, slog.New(slog.NewTextHandler(&out, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "AUTHSERVER_ADMIN_PASSWORD is set but ignored") || strings.Contains(out.String(), "Second-pass-2") {
		t.Fatalf("log %q", out.String())
	}
	logins := authntest.NewStack(t, st, cfg, stack.Options{}).Passwords
	if _, ok, _ := logins.Login(ctx, "admin", "First-pass-1"); !ok {
		t.Fatal("the first password no longer works")
	}
}
