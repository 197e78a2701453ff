package admin_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// adminRecords reads the admin trail, newest first.
func (f *fixture) adminRecords(t *testing.T) []store.AuditRecord {
	t.Helper()
	recs, err := f.st.ListAudit(t.Context(), store.AuditFilter{Kind: store.AuditKindAdmin, Limit: 1000})
	f.must(t, err)
	return recs
}

// breakAudit drops the audit table: every audit write fails from now on.
func (f *fixture) breakAudit(t *testing.T) {
	t.Helper()
	_, err := f.st.(interface{ DB() *sql.DB }).DB().ExecContext(t.Context(), `DROP TABLE audit_log`)
	f.must(t, err)
}

// TestEveryChangeIsAudited: each operation that changes something leaves
// exactly one record naming actor, address, action and target; a refused
// one leaves none.
func TestEveryChangeIsAudited(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	who := admin.Actor{Name: "root", Admin: true, ClientIP: "192.0.2.9"}
	rt := store.RefreshToken{UserID: 0, Hash: "h1", Service: "registry"}
	trust := store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{{Claim: "repository", Pattern: "org/app"}}}
	changes := []struct {
		action, target string
		call           func() error
	}{
		{"user.create", "user carol", func() error {
			u, err := f.adm.CreateUser(ctx, who, admin.NewUser{Name: "carol", Password: "Pass-word-1"})
			rt.UserID = u.ID
			return err
		}},
		{"user.update", "user carol", func() error {
			_, err := f.adm.UpdateUser(ctx, who, f.userID("carol"), admin.UserChange{Email: ptr("c@x")})
			return err
		}},
		{"user.password", "user carol", func() error { return f.adm.ChangePassword(ctx, who, f.userID("carol"), "", "Pass-word-2") }},
		{"project.create", "project apps", func() error {
			_, err := f.adm.CreateProject(ctx, who, admin.NewProject{Name: "apps", Public: false})
			return err
		}},
		{"project.public=true", "project apps", func() error { _, err := f.adm.SetProjectPublic(ctx, who, f.projectID("apps"), true); return err }},
		{"group.create", "group devs", func() error { _, err := f.adm.CreateGroup(ctx, who, "devs", ""); return err }},
		{"group.add_user", "group devs: user carol", func() error { return f.adm.AddGroupUser(ctx, who, f.groupID("devs"), f.userID("carol")) }},
		{"group.remove_user", "group devs: user carol", func() error { return f.adm.RemoveGroupUser(ctx, who, f.groupID("devs"), f.userID("carol")) }},
		{"member.add", "project apps: user carol as developer", func() error {
			_, _, err := f.adm.AddMember(ctx, who, f.projectID("apps"), admin.MemberRef{User: "carol"}, "developer")
			return err
		}},
		{"member.set", "project apps: user carol as guest", func() error {
			_, err := f.adm.SetMemberRole(ctx, who, f.projectID("apps"), f.memberID("apps", admin.MemberRef{User: "carol"}), "guest")
			return err
		}},
		{"member.remove", "project apps: user carol", func() error {
			_, err := f.adm.RemoveMember(ctx, who, f.projectID("apps"), f.memberID("apps", admin.MemberRef{User: "carol"}))
			return err
		}},
		{"robot.create", "robot robot$apps+ci", func() error {
			_, _, err := f.adm.CreateRobot(ctx, who, admin.NewRobot{Name: "ci", Project: "apps", Actions: []string{"pull"}})
			return err
		}},
		{"robot.update", "robot robot$apps+ci", func() error {
			_, err := f.adm.UpdateRobot(ctx, who, f.robotID("robot$apps+ci"), admin.RobotChange{Description: ptr("CI")})
			return err
		}},
		{"robot.secret", "robot robot$apps+ci", func() error {
			_, _, err := f.adm.RefreshRobotSecret(ctx, who, f.robotID("apps+ci"))
			return err
		}},
		{"robot.delete", "robot robot$apps+ci", func() error { _, err := f.adm.DeleteRobot(ctx, who, f.robotID("apps+ci")); return err }},
		{"robot.create", "robot robot$apps+gh", func() error {
			_, _, err := f.adm.CreateRobot(ctx, who, admin.NewRobot{Name: "gh", Project: "apps", Actions: []string{"pull"}, Trust: &trust})
			return err
		}},
		{"robot.trust", "robot robot$apps+gh", func() error { _, err := f.adm.SetRobotTrust(ctx, who, f.robotID("apps+gh"), trust); return err }},
		{"pat.create", "token laptop of user carol", func() error {
			_, _, err := f.adm.CreatePAT(ctx, who, admin.NewPAT{User: "carol", Name: "laptop", Lifetime: time.Hour})
			return err
		}},
		{"pat.revoke", "token laptop of user carol", func() error { return f.adm.RevokePAT(ctx, who, "carol", "laptop") }},
		{"refresh_token.revoke", "refresh token 1 of user carol", func() error {
			f.must(t, f.st.CreateRefreshToken(ctx, &rt)) // the first: id 1
			return f.adm.RevokeRefreshToken(ctx, who, "carol", rt.ID)
		}},
		{"refresh_token.revoke_all", "refresh tokens of user carol", func() error {
			_, err := f.adm.RevokeRefreshTokens(ctx, who, "carol")
			return err
		}},
		{"group.delete", "group devs", func() error { _, err := f.adm.DeleteGroup(ctx, who, f.groupID("devs")); return err }},
		{"project.delete", "project apps", func() error { _, err := f.adm.DeleteProject(ctx, who, f.projectID("apps")); return err }},
		{"user.delete", "user carol", func() error { _, err := f.adm.DeleteUser(ctx, who, f.userID("carol"), false); return err }},
	}
	for _, c := range changes {
		before := len(f.adminRecords(t))
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.action, err)
		}
		recs := f.adminRecords(t)
		if len(recs) != before+1 {
			t.Fatalf("%s: %d new records, want 1", c.action, len(recs)-before)
		}
		if r := recs[0]; r.Action != c.action || r.Target != c.target || r.Subject != "root" || r.ClientIP != "192.0.2.9" ||
			r.Result != store.AuditDone || !r.Time.Equal(f.clock.t) {
			t.Errorf("%s: record %+v, want target %q", c.action, r, c.target)
		}
	}

	// Refused operations (forbidden, invalid, not found, taken) write nothing.
	before := len(f.adminRecords(t))
	refused := []error{
		func() error {
			_, err := f.adm.CreateUser(ctx, alice, admin.NewUser{Name: "x", Password: "Pass-word-1"})
			return err
		}(),
		func() error {
			_, err := f.adm.CreateUser(ctx, who, admin.NewUser{Name: "bob", Password: "Pass-word-1"})
			return err
		}(),
		func() error {
			_, err := f.adm.CreateProject(ctx, who, admin.NewProject{Name: "Bad Name", Public: false})
			return err
		}(),
		func() error { _, err := f.adm.DeleteProject(ctx, who, f.projectID("ghost")); return err }(),
		f.adm.RevokePAT(ctx, who, "bob", "none"),
		f.adm.RevokeRefreshToken(ctx, who, "bob", 99),
		f.adm.ChangePassword(ctx, admin.Actor{Name: "bob"}, f.userID("bob"), "Wrong-pass-1", "weak"),
		// A wrong old password is recorded (TestOldPassword), as unauthorized.
	}
	for i, err := range refused {
		if !errors.As(err, new(*admin.Error)) {
			t.Errorf("refused %d: %v, want an admin.Error", i, err)
		}
	}
	if n := len(f.adminRecords(t)) - before; n != 0 {
		t.Errorf("refused operations wrote %d records", n)
	}
}

// TestAuditFailsClosed: when the record cannot be written the change is
// not made and the caller gets an infrastructure error (503 in the API).
func TestAuditFailsClosed(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	f.breakAudit(t)
	tests := []struct {
		name   string
		change func() error
		landed func() bool
	}{
		{name: "create user", change: func() error {
			_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "dave", Password: "Pass-word-1"})
			return err
		}, landed: func() bool { _, err := f.st.GetUser(ctx, "dave"); return err == nil }},
		{name: "update user", change: func() error {
			_, err := f.adm.UpdateUser(ctx, root, f.userID("bob"), admin.UserChange{Admin: ptr(true)})
			return err
		}, landed: func() bool { u, _ := f.st.GetUser(ctx, "bob"); return u.Admin }},
		{name: "create project with its admin", change: func() error {
			bob, err := f.st.GetUser(ctx, "bob")
			f.must(t, err)
			_, err = f.adm.CreateProject(ctx, admin.Actor{Name: "bob", UserID: bob.ID}, admin.NewProject{Name: "mine", Public: false})
			return err
		}, landed: func() bool { _, err := f.st.GetProject(ctx, "mine"); return err == nil }},
		{name: "delete robot", change: func() error { _, err := f.adm.DeleteRobot(ctx, root, f.robotID("team+ci")); return err },
			landed: func() bool { _, err := f.st.GetRobot(ctx, "team+ci"); return err != nil }},
		{name: "add member", change: func() error {
			_, _, err := f.adm.AddMember(ctx, root, f.projectID("team"), admin.MemberRef{User: "bob"}, "guest")
			return err
		}, landed: func() bool { ms, _ := f.st.ListMembers(ctx, "team"); return len(ms) > 0 }},
		{name: "delete user", change: func() error { _, err := f.adm.DeleteUser(ctx, root, f.userID("bob"), false); return err },
			landed: func() bool { _, err := f.st.GetUser(ctx, "bob"); return err != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.change()
			if err == nil || errors.As(err, new(*admin.Error)) {
				t.Fatalf("error %v, want an infrastructure error", err)
			}
			if tt.landed() {
				t.Error("the change landed without its audit record")
			}
		})
	}

	// The bootstrap admin is not created either.
	g := newFixture(t, nil)
	g.breakAudit(t)
	if created, _, err := g.adm.Bootstrap(ctx, "Admin-pass-1", nil); created || err == nil {
		t.Fatalf("Bootstrap with no audit trail = %v, %v", created, err)
	}
	if _, err := g.st.GetUser(ctx, "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("admin created without its record: %v", err)
	}
}
