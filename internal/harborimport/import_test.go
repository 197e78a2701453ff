//go:build integration

package harborimport_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/authn/stack"
	"github.com/authserver/authserver/internal/harborimport"
	"github.com/authserver/authserver/internal/harborimport/harbortest"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/pgtest"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var cli = admin.Actor{Name: "test", Admin: true}

func TestPythonAgreesWithHarborVectors(t *testing.T) {
	if got := harbortest.PyPBKDF2(t, "sha1", 4096, "content", "salt"); got != "dc79e76c88415c97eb089d9cc80b4ab0" {
		t.Errorf("sha1 vector: %s", got)
	}
	if got := harbortest.PyPBKDF2(t, "sha256", 4096, "content", "salt"); got != "83d3d6f3e7cacb040423adf7ced63d21" {
		t.Errorf("sha256 vector: %s", got)
	}
}

func TestImport(t *testing.T) {
	harborDSN := testenv.Postgres(t)
	harbortest.Fill(t, harborDSN)
	snap, err := harborimport.Read(t.Context(), harborDSN, nil) // nil: every kind
	if err != nil {
		t.Fatal(err)
	}
	backends := []struct {
		name        string
		open        func(t *testing.T) store.Store
		bootstraped bool // the store has an admin of its own first
	}{
		{"sqlite", func(t *testing.T) store.Store { return sqlitetest.Open(t) }, false},
		{"postgres", func(t *testing.T) store.Store { return pgtest.Open(t) }, true},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			adm := admin.New(st, admin.Options{RobotPrefix: "robot$", BcryptCost: 4})
			if b.bootstraped {
				if _, _, err := adm.Bootstrap(t.Context(), "Authserver-admin-pw1", nil); err != nil {
					t.Fatal(err)
				}
			}
			testImport(t, st, adm, snap, b.bootstraped)
		})
	}
}

func run(t *testing.T, adm *admin.Service, snap *harborimport.Snapshot, opt harborimport.Options) *harborimport.Report {
	t.Helper()
	opt.RobotPrefix = "robot$"
	rep, err := harborimport.Run(t.Context(), adm, cli, snap, opt)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

func item(t *testing.T, rep *harborimport.Report, kind, name string) harborimport.Item {
	t.Helper()
	for _, it := range rep.Items {
		if it.Kind == kind && it.Name == name {
			return it
		}
	}
	t.Fatalf("no %s %q in the report: %+v", kind, name, rep.Items)
	return harborimport.Item{}
}

func testImport(t *testing.T, st store.Store, adm *admin.Service, snap *harborimport.Snapshot, bootstrapped bool) {
	ctx := t.Context()

	// A dry run reports the plan and writes nothing.
	before, _ := st.ListUsers(ctx)
	dry := run(t, adm, snap, harborimport.Options{DryRun: true})
	if after, _ := st.ListUsers(ctx); len(after) != len(before) {
		t.Fatalf("dry run wrote users: %d before, %d after", len(before), len(after))
	}
	if ps, _ := st.ListProjects(ctx); len(ps) != 0 {
		t.Fatalf("dry run created projects: %+v", ps)
	}
	if got := item(t, dry, "members", "team: user alice"); got.Action != harborimport.Created {
		t.Errorf("dry run: member alice %+v, want created", got)
	}

	rep := run(t, adm, snap, harborimport.Options{})
	// The dry run said what the real one did.
	for i, it := range rep.Items {
		if i >= len(dry.Items) || dry.Items[i] != it {
			t.Errorf("dry run and import differ at %d: %+v vs %+v", i, dry.Items[min(i, len(dry.Items)-1)], it)
			break
		}
	}
	want := []struct{ kind, name, action, detail string }{
		{"users", "alice", "created", "harbor-pbkdf2-sha1/4096"},
		{"users", "bob", "created", "harbor-pbkdf2-sha256/4096, sysadmin"},
		{"users", "carol", "created", "harbor-pbkdf2-sha256/600000"},
		{"users", "lena", "created", "ldap"},
		{"users", "anonymous", "skipped", "anonymous"},
		{"users", "dave#6", "skipped", "deleted"},
		{"users", "eve", "skipped", "OIDC"},
		{"groups", "devs", "created", "cn=devs"},
		{"groups", "proxyusers", "skipped", "http group"},
		{"projects", "library", "created", "public"},
		{"projects", "team", "created", "private"},
		{"projects", "cache", "created", "proxy-cache"},
		{"projects", "old#3", "skipped", "deleted"},
		{"members", "team: user alice", "created", "projectAdmin"},
		{"members", "team: user bob", "created", "developer"},
		{"members", "team: user carol", "created", "guest"},
		{"members", "team: user lena", "created", "maintainer"},
		{"members", "team: group devs", "created", "limitedGuest"},
		{"members", "library: group devs", "created", "developer"},
		{"members", "old#3: user alice", "skipped", "project not imported"},
		{"members", "team: user #7", "skipped", "not imported"},
		{"members", "team: group #2", "skipped", "not imported"},
		{"robots", "robot$team+ci", "created", "pull,push on team"},
		{"robots", "robot$sys", "created", "pull on *"},
		{"robots", "robot$team+old", "created", "expired"},
		{"robots", "robot$team+legacy", "created", "no secret"},
		{"robots", "robot$team+hidden", "skipped", "invisible"},
		{"robots", "robot$multi", "created", "pull on *; pull,push on library"},
		{"robots", "robot$deployer", "created", "pull on library; pull,push on team; not on /project/3 (projects not imported)"},
	}
	if bootstrapped {
		want = append(want, struct{ kind, name, action, detail string }{"users", "admin", "skipped", "--replace-admin"})
	} else {
		want = append(want, struct{ kind, name, action, detail string }{"users", "admin", "created", "sysadmin"})
	}
	for _, w := range want {
		got := item(t, rep, w.kind, w.name)
		if got.Action != w.action || !strings.Contains(got.Detail, w.detail) {
			t.Errorf("%s %s: %s (%s), want %s (…%s…)", w.kind, w.name, got.Action, got.Detail, w.action, w.detail)
		}
	}
	if !strings.Contains(rep.LDAPConfig, "base_dn: ou=people,dc=example,dc=org") ||
		!strings.Contains(rep.LDAPConfig, "filter: (objectClass=person)") {
		t.Errorf("ldap block:\n%s", rep.LDAPConfig)
	}
	if bootstrapped {
		rep := run(t, adm, snap, harborimport.Options{ReplaceAdmin: true, Only: map[string]bool{"users": true}})
		if got := item(t, rep, "users", "admin"); got.Action != harborimport.Updated {
			t.Errorf("--replace-admin: %+v", got)
		}
	}

	// Twice: nothing changes.
	again := run(t, adm, snap, harborimport.Options{ReplaceAdmin: true})
	if n := again.Changed(); n != 0 {
		t.Errorf("second import changed %d items: %+v", n, again.Items)
	}

	lena, _ := st.GetUser(ctx, "lena")
	if lena.Source != store.SourceLDAP || lena.PasswordHash != "" {
		t.Errorf("lena: %+v, want an ldap user without a password", lena)
	}
	if ms, _ := st.ListMembers(ctx, "team"); len(ms) != 5 {
		t.Errorf("team members: %+v", ms)
	}

	// Logins with Harbor's passwords and secrets, natively.
	logins := authntest.NewStack(t, st, authntest.Config(), stack.Options{}).Passwords
	login := func(user, pw string) (authn.Identity, bool) {
		t.Helper()
		id, ok, err := logins.Login(ctx, user, pw)
		if err != nil {
			t.Fatalf("login %s: %v", user, err)
		}
		return id, ok
	}
	for name, pw := range harbortest.Passwords {
		if _, ok := login(name, pw+"x"); ok {
			t.Errorf("%s logged in with a wrong password", name)
		}
		if _, ok := login(name, pw); !ok {
			t.Errorf("%s refused with its Harbor password", name)
			continue
		}
		if u, _ := st.GetUser(ctx, name); secret.HashKind(u.PasswordHash) != "bcrypt" {
			t.Errorf("%s after the first login: %s, want bcrypt", name, secret.HashKind(u.PasswordHash))
		}
	}
	if _, ok := login("lena", "12345678AbC"); ok {
		t.Error("the LDAP placeholder password logged in")
	}
	// Entries other than repository pull, push and delete are kept as
	// given (and grant nothing): team+ci's artifact read, sys's kind
	// system entry (scope /system).
	if r, err := st.GetRobot(ctx, "team+ci"); err != nil || !reflect.DeepEqual(r.Permissions[0].Other,
		[]store.RobotAccess{{Resource: "artifact", Action: "read", Effect: "allow"}}) {
		t.Errorf("team+ci's other access entries: %+v, %v", r.Permissions, err)
	}
	if r, err := st.GetRobot(ctx, "sys"); err != nil || !reflect.DeepEqual(r.SystemAccess,
		[]store.RobotAccess{{Resource: "project", Action: "create", Effect: "allow"}}) {
		t.Errorf("sys's access entries of kind system: %+v, %v", r.SystemAccess, err)
	}
	for name, want := range map[string][]store.RobotPermission{
		"team+ci":  {{Project: "team", Actions: []string{"pull", "push"}, Other: []store.RobotAccess{{Resource: "artifact", Action: "read", Effect: "allow"}}}},
		"sys":      store.OneProject("*", "pull"),
		"deployer": {{Project: "library", Actions: []string{"pull"}}, {Project: "team", Actions: []string{"pull", "push"}}},
	} {
		if id, ok := login("robot$"+name, harbortest.RobotSecrets[name]); !ok || !reflect.DeepEqual(id.Robot.Permissions, want) {
			t.Errorf("robot$%s: %v %+v, want %+v", name, ok, id.Robot, want)
		}
	}
	if _, ok := login("robot$team+old", harbortest.RobotSecrets["team+old"]); ok {
		t.Error("the expired robot logged in")
	}
	if r, _ := st.GetRobot(ctx, "team+legacy"); !r.Disabled {
		t.Error("the secretless robot is enabled")
	}

	// After the logins (hashes now bcrypt) an import still changes nothing
	// (--replace-admin would give the admin Harbor's hash again).
	third := run(t, adm, snap, harborimport.Options{})
	if n := third.Changed(); n != 0 {
		t.Errorf("import after logins changed %d items: %+v", n, third.Items)
	}
}

func TestImportRefusesOtherSchemas(t *testing.T) {
	dsn := testenv.Postgres(t)
	harbortest.Fill(t, dsn)
	harbortest.Exec(t, dsn, `ALTER TABLE harbor_user DROP COLUMN password_version; DROP TABLE role_permission`)
	_, err := harborimport.Read(t.Context(), dsn, map[string]bool{"users": true})
	if err == nil || !strings.Contains(err.Error(), "harbor_user.password_version") || strings.Contains(err.Error(), "role_permission") {
		t.Errorf("users only: %v", err)
	}
	_, err = harborimport.Read(t.Context(), dsn, map[string]bool{"robots": true})
	if err == nil || !strings.Contains(err.Error(), "role_permission.role_id") {
		t.Errorf("robots: %v", err)
	}
}
