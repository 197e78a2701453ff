package admin_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

var (
	root  = admin.Actor{Name: "root", Admin: true}
	alice = admin.Actor{Name: "alice"}
)

// clock is a settable Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fixture is a Service on a migrated SQLite store in a temp dir.
type fixture struct {
	st    store.Store
	adm   *admin.Service
	clock *clock
}

func newFixture(t *testing.T, dir admin.Directory) *fixture {
	t.Helper()
	st := sqlitetest.Open(t)
	c := &clock{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	adm := admin.New(st, admin.Options{RobotPrefix: "robot$", BcryptCost: 4, Directory: dir,
		GroupBaseDN: "ou=groups,dc=x", GroupFilter: "(objectClass=groupOfNames)", Issuers: []string{"github", "cluster"}, Now: c.now,
		// github is GitHub Actions (its default identity claims), cluster a
		// Kubernetes cluster (sub only).
		Identity: map[string][]string{"github": (config.FederationIssuer{URL: config.GitHubActionsURL}).Identity(), "cluster": {"sub"}}})
	return &fixture{st: st, adm: adm, clock: c}
}

func (f *fixture) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seed makes user bob, project team and robot team+ci.
func (f *fixture) seed(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "bob", Password: "Pass-word-1"})
	f.must(t, err)
	_, err = f.adm.CreateProject(ctx, root, admin.NewProject{Name: "team", Public: false})
	f.must(t, err)
	_, _, err = f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "ci", Project: "team", Actions: []string{"pull"}, Lifetime: time.Hour})
	f.must(t, err)
}

func ptr[T any](v T) *T { return &v }

// wantErr checks err's kind (nil: success) and, when msg is set, its message.
func wantErr(t *testing.T, err, kind error, msg string) {
	t.Helper()
	switch {
	case kind == nil && err != nil:
		t.Errorf("unexpected error %v", err)
	case kind != nil && !errors.Is(err, kind):
		t.Errorf("error %v, want kind %v", err, kind)
	case msg != "" && (err == nil || err.Error() != msg):
		t.Errorf("error %q, want %q", err, msg)
	}
}

func TestValidation(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
		msg  string
	}{
		{name: "empty user name", msg: `name "": want 1 to 255 characters`,
			call: func() error {
				_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "", Password: "Pass-word-1"})
				return err
			}},
		{name: "long user name", call: func() error {
			_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: strings.Repeat("a", 256), Password: "Pass-word-1"})
			return err
		}},
		{name: "user name with space", msg: `name "a b": spaces, colons and control characters are not allowed`,
			call: func() error {
				_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "a b", Password: "Pass-word-1"})
				return err
			}},
		{name: "user name with colon", call: func() error {
			_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "a:b", Password: "Pass-word-1"})
			return err
		}},
		{name: "user name with robot prefix", msg: `name "robot$x" starts with the robot prefix "robot$": such logins are robots`,
			call: func() error {
				_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "robot$x", Password: "Pass-word-1"})
				return err
			}},
		{name: "empty password", call: func() error { _, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "carol"}); return err }},
		{name: "upper-case project", msg: `project name "Team": want lower-case letters and digits, separated by '.', '_', '__' or '-'`,
			call: func() error {
				_, err := f.adm.CreateProject(ctx, root, admin.NewProject{Name: "Team", Public: false})
				return err
			}},
		{name: "project with double dot", call: func() error {
			_, err := f.adm.CreateProject(ctx, root, admin.NewProject{Name: "a..b", Public: false})
			return err
		}},
		{name: "group name", call: func() error { _, err := f.adm.CreateGroup(ctx, root, "a b", ""); return err }},
		{name: "robot actions", call: func() error {
			_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "x", Project: "team", Actions: []string{"fly"}})
			return err
		}},
		{name: "robot name", call: func() error {
			_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "a+b", Project: "team", Actions: []string{"pull"}})
			return err
		}},
		{name: "robot lifetime", call: func() error {
			_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "x", Project: "team", Actions: []string{"pull"}, Lifetime: -time.Hour})
			return err
		}},
		{name: "robot change empty", call: func() error {
			_, err := f.adm.UpdateRobot(ctx, root, f.robotID("team+ci"), admin.RobotChange{})
			return err
		}},
		{name: "robot change actions", call: func() error {
			_, err := f.adm.UpdateRobot(ctx, root, f.robotID("team+ci"), admin.RobotChange{Actions: []string{""}})
			return err
		}},
		{name: "token name", call: func() error {
			_, _, err := f.adm.CreatePAT(ctx, root, admin.NewPAT{User: "bob", Name: "my laptop"})
			return err
		}},
		{name: "user change empty", call: func() error { _, err := f.adm.UpdateUser(ctx, root, f.userID("bob"), admin.UserChange{}); return err }},
		{name: "role", call: func() error {
			_, _, err := f.adm.AddMember(ctx, root, f.projectID("team"), admin.MemberRef{User: "bob"}, "owner")
			return err
		}},
		{name: "member both user and group", call: func() error {
			_, _, err := f.adm.AddMember(ctx, root, f.projectID("team"), admin.MemberRef{User: "bob", Group: "g"}, "guest")
			return err
		}},
		{name: "scope", call: func() error {
			_, err := f.adm.Explain(ctx, root, admin.ExplainRequest{User: "bob", Scopes: []string{"repository:x"}})
			return err
		}},
		{name: "audit result", msg: `result "ok": want issued, unauthorized, throttled or done`, call: func() error {
			_, err := f.adm.ListAudit(ctx, root, store.AuditFilter{Result: "ok"})
			return err
		}},
		{name: "audit kind", msg: `kind "tokens": want token or admin`, call: func() error {
			_, err := f.adm.ListAudit(ctx, root, store.AuditFilter{Kind: "tokens"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.call(), admin.ErrInvalid, tt.msg) })
	}
	if r, _ := f.st.GetRobot(ctx, "team+ci"); len(r.Permissions) != 1 || len(r.Permissions[0].Actions) != 1 {
		t.Errorf("an invalid change was written: %+v", r)
	}
}

func TestStoreErrors(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	_, _, err := f.adm.CreatePAT(ctx, root, admin.NewPAT{User: "bob", Name: "laptop"})
	f.must(t, err)
	tests := []struct {
		name  string
		call  func() error
		kind  error
		store error // the store sentinel it wraps, if any
		msg   string
	}{
		{name: "user exists", kind: admin.ErrExists, store: store.ErrAlreadyExists, msg: "user bob already exists",
			call: func() error {
				_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "bob", Password: "Pass-word-1"})
				return err
			}},
		{name: "project exists", kind: admin.ErrExists, msg: "project team already exists",
			call: func() error {
				_, err := f.adm.CreateProject(ctx, root, admin.NewProject{Name: "team", Public: true})
				return err
			}},
		{name: "token name taken", kind: admin.ErrExists, store: store.ErrAlreadyExists, msg: "user bob already has a token named laptop",
			call: func() error {
				_, _, err := f.adm.CreatePAT(ctx, root, admin.NewPAT{User: "bob", Name: "laptop"})
				return err
			}},
		{name: "robot exists", kind: admin.ErrExists, msg: "robot robot$team+ci already exists",
			call: func() error {
				_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "ci", Project: "team", Actions: []string{"pull"}})
				return err
			}},
		{name: "user missing", kind: admin.ErrNotFound, store: store.ErrNotFound, msg: "user 1099511627776 not found",
			call: func() error {
				_, err := f.adm.UpdateUser(ctx, root, f.userID("nobody"), admin.UserChange{Admin: ptr(true)})
				return err
			}},
		{name: "robot project missing", kind: admin.ErrNotFound, msg: "project nope not found",
			call: func() error {
				_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "ci", Project: "nope", Actions: []string{"pull"}})
				return err
			}},
		{name: "robot missing", kind: admin.ErrNotFound, msg: "robot 1099511627776 not found",
			call: func() error {
				_, err := f.adm.UpdateRobot(ctx, root, f.robotID("robot$ghost"), admin.RobotChange{Disabled: ptr(true)})
				return err
			}},
		{name: "robot delete missing", kind: admin.ErrNotFound, msg: "robot 1099511627776 not found",
			call: func() error { _, err := f.adm.DeleteRobot(ctx, root, f.robotID("ghost")); return err }},
		{name: "membership missing", kind: admin.ErrNotFound, msg: "member 1099511627776 not found in project team",
			call: func() error {
				_, err := f.adm.RemoveMember(ctx, root, f.projectID("team"), f.memberID("team", admin.MemberRef{User: "bob"}))
				return err
			}},
		{name: "member project missing", kind: admin.ErrNotFound, msg: "project 1099511627776 not found",
			call: func() error {
				_, _, err := f.adm.AddMember(ctx, root, f.projectID("nope"), admin.MemberRef{User: "bob"}, "guest")
				return err
			}},
		{name: "group missing without directory", kind: admin.ErrNotFound, msg: "group devs not found",
			call: func() error {
				_, _, err := f.adm.AddMember(ctx, root, f.projectID("team"), admin.MemberRef{Group: "devs"}, "guest")
				return err
			}},
		{name: "group user", kind: admin.ErrNotFound, msg: "group 1099511627776 not found",
			call: func() error { return f.adm.AddGroupUser(ctx, root, f.groupID("devs"), f.userID("bob")) }},
		{name: "refresh token missing", kind: admin.ErrNotFound, store: store.ErrNotFound, msg: "user bob has no refresh token 7",
			call: func() error { return f.adm.RevokeRefreshToken(ctx, root, "bob", 7) }},
		{name: "token missing", kind: admin.ErrNotFound, msg: "token desk of user bob not found",
			call: func() error { return f.adm.RevokePAT(ctx, root, "bob", "desk") }},
		{name: "explain robot missing", kind: admin.ErrNotFound, msg: "robot ghost not found",
			call: func() error {
				_, err := f.adm.Explain(ctx, root, admin.ExplainRequest{Robot: "ghost", Scopes: []string{"repository:team/x:pull"}})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantErr(t, err, tt.kind, tt.msg)
			if tt.store != nil && !errors.Is(err, tt.store) {
				t.Errorf("error %v does not wrap %v", err, tt.store)
			}
			var ae *admin.Error
			if !errors.As(err, &ae) || errors.Is(err, admin.ErrInvalid) || errors.Is(err, admin.ErrForbidden) {
				t.Errorf("error %v: want exactly one admin.Error kind", err)
			}
		})
	}
}

func TestPermissions(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "alice", Password: "Pass-word-1"})
	f.must(t, err)
	forbidden := []struct {
		name string
		call func() error
		kind error // nil: ErrForbidden
	}{
		{name: "create user", call: func() error {
			_, err := f.adm.CreateUser(ctx, alice, admin.NewUser{Name: "x", Password: "Pass-word-1"})
			return err
		}},
		{name: "make herself admin", call: func() error {
			_, err := f.adm.UpdateUser(ctx, alice, f.userID("alice"), admin.UserChange{Admin: ptr(true)})
			return err
		}},
		{name: "list users", call: func() error { _, err := f.adm.ListUsers(ctx, alice); return err }},
		// Private project team is hidden from non-members: not found.
		{name: "delete project", kind: admin.ErrNotFound, call: func() error { _, err := f.adm.DeleteProject(ctx, alice, f.projectID("team")); return err }},
		{name: "add member", call: func() error {
			_, _, err := f.adm.AddMember(ctx, alice, f.projectID("team"), admin.MemberRef{User: "alice"}, "projectAdmin")
			return err
		}, kind: admin.ErrNotFound},
		{name: "system robot", call: func() error {
			_, _, err := f.adm.CreateRobot(ctx, alice, admin.NewRobot{Name: "x", Project: "*", Actions: []string{"pull"}})
			return err
		}},
		{name: "change robot", call: func() error {
			_, err := f.adm.UpdateRobot(ctx, alice, f.robotID("team+ci"), admin.RobotChange{Disabled: ptr(true)})
			return err
		}, kind: admin.ErrNotFound},
		{name: "someone else's token", call: func() error {
			_, _, err := f.adm.CreatePAT(ctx, alice, admin.NewPAT{User: "bob", Name: "x"})
			return err
		}},
		{name: "explain", call: func() error {
			_, err := f.adm.Explain(ctx, alice, admin.ExplainRequest{Anonymous: true, Scopes: []string{"repository:team/x:pull"}})
			return err
		}},
	}
	for _, tt := range forbidden {
		t.Run(tt.name, func(t *testing.T) {
			kind := tt.kind
			if kind == nil {
				kind = admin.ErrForbidden
			}
			wantErr(t, tt.call(), kind, "")
		})
	}
	if u, _ := f.st.GetUser(ctx, "alice"); u.Admin {
		t.Error("a forbidden change was written")
	}
	if r, _ := f.st.GetRobot(ctx, "team+ci"); r.Disabled {
		t.Error("a forbidden robot change was written")
	}
	// Her own credentials are hers to manage.
	if _, _, err := f.adm.CreatePAT(ctx, alice, admin.NewPAT{User: "alice", Name: "laptop"}); err != nil {
		t.Errorf("CreatePAT for herself: %v", err)
	}
	if _, err := f.adm.ListRefreshTokens(ctx, alice, "alice"); err != nil {
		t.Errorf("ListRefreshTokens for herself: %v", err)
	}
}

// TestRobotExpiry checks the one expiry rule: a robot is expired from its
// ExpiresAt on, and lifetimes count from the service's clock.
func TestRobotExpiry(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	start := f.clock.t
	r, err := f.adm.GetRobot(ctx, root, f.robotID("robot$team+ci"))
	f.must(t, err)
	if !r.ExpiresAt.Equal(start.Add(time.Hour)) || r.Login != "robot$team+ci" {
		t.Fatalf("robot %+v: want expiry %v", r, start.Add(time.Hour))
	}
	tests := []struct {
		name    string
		at      time.Time
		expired bool
	}{
		{name: "a second before", at: start.Add(time.Hour - time.Second)},
		{name: "exactly at", at: start.Add(time.Hour), expired: true},
		{name: "after", at: start.Add(2 * time.Hour), expired: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.t = tt.at
			if got := r.Expired(tt.at); got != tt.expired {
				t.Errorf("Expired = %v, want %v", got, tt.expired)
			}
			e, err := f.adm.Explain(ctx, root, admin.ExplainRequest{Robot: "team+ci", Scopes: []string{"repository:team/app:pull"}})
			f.must(t, err)
			if refused := e.Refused == "robot robot$team+ci: expired"; refused != tt.expired {
				t.Errorf("explain refused %q, want expired=%v", e.Refused, tt.expired)
			}
			if granted := e.Decisions[0].Granted; len(granted) == 0 != tt.expired {
				t.Errorf("explain granted %v, want expired=%v", granted, tt.expired)
			}
		})
	}
	f.clock.t = start
	never := time.Duration(0)
	r, err = f.adm.UpdateRobot(ctx, root, f.robotID("team+ci"), admin.RobotChange{Lifetime: &never})
	f.must(t, err)
	if !r.ExpiresAt.IsZero() || r.Expired(start.Add(1000*time.Hour)) {
		t.Errorf("a robot renewed for ever: %+v", r)
	}
}

func TestRobotSecret(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	r, sec, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "scan", Project: "*", Actions: []string{"push"}})
	f.must(t, err)
	if r.Login != "robot$scan" || r.SecretHash != secret.Hash(sec) || !reflect.DeepEqual(r.Permissions, store.OneProject("*", "pull", "push")) || !r.ExpiresAt.IsZero() {
		t.Errorf("created %+v", r)
	}
	r2, secret2, err := f.adm.RefreshRobotSecret(ctx, root, f.robotID("robot$scan"))
	f.must(t, err)
	stored, _ := f.st.GetRobot(ctx, "scan")
	if secret2 == sec || stored.SecretHash != secret.Hash(secret2) || r2.Login != "robot$scan" {
		t.Errorf("after refresh: %+v", stored)
	}
	gone, err := f.adm.DeleteRobot(ctx, root, f.robotID("scan"))
	login := gone.Login
	if err != nil || login != "robot$scan" {
		t.Errorf("DeleteRobot = %q, %v", login, err)
	}
}

// TestUpdateUser checks that a refused change writes nothing and that
// concurrent changes to different fields both survive.
func TestUpdateUser(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	_, err := f.st.SyncLDAPUser(ctx, store.LDAPUser{Name: "dora", DN: "uid=dora,dc=x"})
	f.must(t, err)
	_, err = f.adm.UpdateUser(ctx, root, f.userID("dora"), admin.UserChange{Password: ptr("Pass-word-1"), Email: ptr("d@x")})
	wantErr(t, err, admin.ErrInvalid, "user dora comes from ldap: its password is kept there")
	if u, _ := f.st.GetUser(ctx, "dora"); u.Email != "" || u.PasswordHash != "" {
		t.Errorf("a refused change was written: %+v", u)
	}

	// Another sysadmin: bob, made one, is not the last when disabled.
	_, err = f.adm.CreateUser(ctx, root, admin.NewUser{Name: "boss", Password: "Pass-word-1", Admin: true})
	f.must(t, err)
	changes := []admin.UserChange{{Admin: ptr(true)}, {Disabled: ptr(true)}, {Email: ptr("bob@x")}, {DisplayName: ptr("Bob")}}
	var wg sync.WaitGroup
	for _, ch := range changes {
		wg.Go(func() {
			if _, err := f.adm.UpdateUser(ctx, root, f.userID("bob"), ch); err != nil {
				t.Errorf("UpdateUser(%+v): %v", ch, err)
			}
		})
	}
	wg.Wait()
	u, _ := f.st.GetUser(ctx, "bob")
	if !u.Admin || !u.Disabled || u.Email != "bob@x" || u.DisplayName != "Bob" {
		t.Errorf("after concurrent changes: %+v (one was lost)", u)
	}
	before := u.PasswordHash
	u, err = f.adm.UpdateUser(ctx, root, f.userID("bob"), admin.UserChange{Password: ptr("New-pass-1")})
	f.must(t, err)
	if stored, _ := f.st.GetUser(ctx, "bob"); stored.PasswordHash == before || stored.PasswordHash != u.PasswordHash {
		t.Error("password not changed")
	}
}

func TestBootstrap(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	created, pw, err := f.adm.Bootstrap(ctx, "", nil)
	if err != nil || !created || len(pw) < 20 {
		t.Fatalf("Bootstrap = %v, %q, %v", created, pw, err)
	}
	u, err := f.st.GetUser(ctx, "admin")
	if err != nil || !u.Admin || u.Source != store.SourceLocal {
		t.Fatalf("admin = %+v, %v", u, err)
	}
	if created, _, err := f.adm.Bootstrap(ctx, "Other-pass-1", nil); created || err != nil {
		t.Errorf("second Bootstrap = %v, %v", created, err)
	}
	for _, name := range []string{"admin", "ADMIN", "Admin"} {
		if !admin.IsBootstrapAdmin(name) {
			t.Errorf("IsBootstrapAdmin(%q) = false", name)
		}
	}
	if admin.IsBootstrapAdmin("admins") {
		t.Error(`IsBootstrapAdmin("admins") = true`)
	}
}

// missingID is an id no row has.
const missingID = 1 << 40

// userID, projectID, groupID and robotID look a name up in the store (a
// robot's with or without the prefix), missingID when there is none: the
// operations take ids, the tests name things.
func (f *fixture) userID(name string) int64 {
	u, err := f.st.GetUser(context.Background(), name)
	return idOr(u.ID, err)
}

func (f *fixture) projectID(name string) int64 {
	p, err := f.st.GetProject(context.Background(), name)
	return idOr(p.ID, err)
}

func (f *fixture) groupID(name string) int64 {
	g, err := f.st.GetGroup(context.Background(), name)
	return idOr(g.ID, err)
}

func (f *fixture) robotID(name string) int64 {
	r, err := f.st.GetRobot(context.Background(), strings.TrimPrefix(name, "robot$"))
	return idOr(r.ID, err)
}

// memberID is the membership of ref in project, missingID when none.
func (f *fixture) memberID(project string, ref admin.MemberRef) int64 {
	m, err := f.adm.FindMember(context.Background(), admin.Actor{Name: "cli", Admin: true}, f.projectID(project), ref)
	return idOr(m.ID, err)
}

func idOr(id int64, err error) int64 {
	if err != nil {
		return missingID
	}
	return id
}
