//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/stack"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/postgres"
	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const seedPassword = "Pw-seed-1"

// seedArgs: 50 users × 4 memberships over 10 projects, 3 groups, proj00000
// and proj00005 public; batch 17 leaves partial batches at every table.
var seedArgs = []string{"--users", "50", "--projects", "10", "--members", "200", "--groups", "3",
	"--public-every", "5", "--password", seedPassword, "--batch", "17"}

func TestSeed(t *testing.T) {
	tests := []struct {
		name   string
		driver string
		dsn    func(t *testing.T) string
	}{
		{name: "sqlite", driver: "sqlite", dsn: func(t *testing.T) string { return filepath.Join(t.TempDir(), "seed.db") }},
		{name: "postgres", driver: "postgres", dsn: func(t *testing.T) string { return testenv.Postgres(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cfgPath := writeConfig(t, tt.driver, tt.dsn(t))
			args := append([]string{"--config", cfgPath}, seedArgs...)
			var out, errOut bytes.Buffer
			if code := realMain(ctx, args, &out, &errOut); code != 0 {
				t.Fatalf("seed exit %d: %s%s", code, out.String(), errOut.String())
			}
			t.Logf("seed output:\n%s", out.String())
			for _, want := range []string{"users", "members", "rows/s", "total"} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("output lacks %q:\n%s", want, out.String())
				}
			}

			cfg, err := config.Load(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			b, closeBulk, err := openBulk(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer closeBulk()
			wantCounts := map[string]int64{"users": 50, "projects": 10, "groups": 3, "user_groups": 50, "members": 203}
			checkCounts(t, b, wantCounts)

			st := openStore(t, tt.driver, cfg.Storage.DSN)
			checkGrants(t, st)

			// Seeding again is refused; --append adds nothing that exists.
			out.Reset()
			errOut.Reset()
			if code := realMain(ctx, args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--append") ||
				!strings.Contains(errOut.String(), "50 of the 50 users") {
				t.Fatalf("second seed: exit %d, stderr %q", code, errOut.String())
			}
			if code := realMain(ctx, append(args, "--append"), &out, &errOut); code != 0 {
				t.Fatalf("append: exit %d: %s", code, errOut.String())
			}
			checkCounts(t, b, wantCounts)
		})
	}
}

func writeConfig(t *testing.T, driver, dsn string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "authserver.yaml")
	yaml := "token:\n  key: " + filepath.Join(dir, "token.key") + "\n" +
		"storage:\n  driver: " + driver + "\n  dsn: " + dsn + "\n" +
		"passwords:\n  bcrypt_cost: 4\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkCounts(t *testing.T, b bulk, want map[string]int64) {
	t.Helper()
	for table, n := range want {
		got, err := b.count(context.Background(), table)
		if err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("%s: %d rows, want %d", table, got, n)
		}
	}
}

func openStore(t *testing.T, driver, dsn string) store.Store {
	t.Helper()
	var st store.Store
	var err error
	if driver == "sqlite" {
		st, err = sqlite.Open(context.Background(), dsn)
	} else {
		st, err = postgres.Open(context.Background(), dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// checkGrants asks, as user000007, what the seeded memberships give. By the
// plan, user 7 holds developer in proj00007, guest in proj00008,
// limitedGuest in proj00009 and projectAdmin in proj00000 (rounds 0–3,
// role (u+r)%5), and is in grp00001, which is maintainer of proj00001.
func checkGrants(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	logins := authntest.NewStack(t, st, authntest.Config(), stack.Options{}).Passwords
	id, ok, err := logins.Login(ctx, "user000007", seedPassword)
	if err != nil || !ok || id.Name != "user000007" {
		t.Fatalf("login with the seeded password: %v %v %+v", ok, err, id)
	}
	if _, ok, err := logins.Login(ctx, "user000007", "wrong"); ok || err != nil {
		t.Fatalf("login with a wrong password: %v %v", ok, err)
	}
	subj := authz.Subject{Name: id.Name, UserID: id.UserID, Admin: id.Admin}
	tests := []struct {
		name  string
		scope string
		want  []string
	}{
		{name: "developer direct", scope: "repository:proj00007/app:pull,push,delete", want: []string{"pull", "push"}},
		{name: "guest direct", scope: "repository:proj00008/app:pull,push", want: []string{"pull"}},
		{name: "limited guest direct", scope: "repository:proj00009/app:push,pull", want: []string{"pull"}},
		{name: "project admin on public project", scope: "repository:proj00000/app:*", want: []string{"delete", "pull", "push"}},
		{name: "maintainer through group", scope: "repository:proj00001/app:pull,push,delete", want: []string{"pull", "push", "delete"}},
		{name: "public project, not a member", scope: "repository:proj00005/app:push,pull", want: []string{"pull"}},
		{name: "private project, not a member", scope: "repository:proj00003/app:pull", want: []string{}},
		{name: "missing project", scope: "repository:proj00042/app:pull", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scopes, err := authz.ParseScopes([]string{tt.scope})
			if err != nil {
				t.Fatal(err)
			}
			ds, err := authz.New(st).Authorize(ctx, subj, scopes)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 1 || !reflect.DeepEqual(ds[0].Granted, tt.want) {
				t.Fatalf("granted %+v, want %v", ds, tt.want)
			}
		})
	}
}
