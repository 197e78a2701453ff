package admin_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
)

// tokens gives user two refresh tokens and two personal access tokens.
func (f *fixture) tokens(t *testing.T, user string) {
	t.Helper()
	ctx := t.Context()
	u, err := f.st.GetUser(ctx, user)
	f.must(t, err)
	for i := range 2 {
		f.must(t, f.st.CreateRefreshToken(ctx, &store.RefreshToken{UserID: u.ID, Hash: fmt.Sprintf("%s-rt-%d", user, i), Service: "registry"}))
		_, _, err := f.adm.CreatePAT(ctx, root, admin.NewPAT{User: user, Name: fmt.Sprintf("pat-%d", i)})
		f.must(t, err)
	}
}

// tokenCounts is how many refresh and personal access tokens user holds.
func (f *fixture) tokenCounts(t *testing.T, user string) (refresh, pats int) {
	t.Helper()
	rs, err := f.st.ListRefreshTokens(t.Context(), user)
	f.must(t, err)
	ps, err := f.st.ListPersonalTokens(t.Context(), user)
	f.must(t, err)
	return len(rs), len(ps)
}

// TestRevocation: a password reset by an administrator and a disable
// revoke the user's refresh and personal access tokens; a user changing
// their own password loses their refresh tokens and keeps their PATs;
// other changes keep both; nobody else's tokens are touched.
func TestRevocation(t *testing.T) {
	const pw = "Bob-pass-1"
	bob := admin.Actor{Name: "bob"}
	tests := []struct {
		name              string
		call              func(f *fixture) error
		refresh, personal int // left afterwards, of 2 each
	}{
		{name: "sysadmin resets the password (API)", call: func(f *fixture) error {
			return f.adm.ChangePassword(t.Context(), root, f.userID("bob"), "", "Reset-pass-2")
		}},
		{name: "user passwd (CLI)", call: func(f *fixture) error {
			_, err := f.adm.UpdateUser(t.Context(), root, f.userID("bob"), admin.UserChange{Password: ptr("Reset-pass-2")})
			return err
		}},
		{name: "an import sets a hash", call: func(f *fixture) error {
			h := "harbor-pbkdf2-sha256$4096$salt$0123456789abcdef0123456789abcdef"
			_, err := f.adm.UpdateUser(t.Context(), root, f.userID("bob"), admin.UserChange{PasswordHash: &h})
			return err
		}},
		{name: "user disable", call: func(f *fixture) error {
			_, err := f.adm.UpdateUser(t.Context(), root, f.userID("bob"), admin.UserChange{Disabled: ptr(true)})
			return err
		}},
		{name: "own password change", personal: 2, call: func(f *fixture) error {
			return f.adm.ChangePassword(t.Context(), bob, f.userID("bob"), pw, "Bob-pass-2")
		}},
		{name: "email change", refresh: 2, personal: 2, call: func(f *fixture) error {
			_, err := f.adm.UpdateUser(t.Context(), root, f.userID("bob"), admin.UserChange{Email: ptr("bob@example.org")})
			return err
		}},
		{name: "user enable", refresh: 2, personal: 2, call: func(f *fixture) error {
			_, err := f.adm.UpdateUser(t.Context(), root, f.userID("bob"), admin.UserChange{Disabled: ptr(false)})
			return err
		}},
		{name: "refused change revokes nothing", refresh: 2, personal: 2, call: func(f *fixture) error {
			err := f.adm.ChangePassword(t.Context(), bob, f.userID("bob"), "Wrong-pass-1", "Bob-pass-2")
			if err == nil {
				return fmt.Errorf("a wrong old password was accepted")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			for _, u := range []string{"bob", "carol"} {
				_, err := f.adm.CreateUser(t.Context(), root, admin.NewUser{Name: u, Password: pw})
				f.must(t, err)
				f.tokens(t, u)
			}
			f.must(t, tt.call(f))
			if r, p := f.tokenCounts(t, "bob"); r != tt.refresh || p != tt.personal {
				t.Errorf("bob keeps %d refresh and %d personal tokens, want %d and %d", r, p, tt.refresh, tt.personal)
			}
			if r, p := f.tokenCounts(t, "carol"); r != 2 || p != 2 {
				t.Errorf("carol's tokens touched: %d refresh, %d personal", r, p)
			}
		})
	}
}

// TestTokenCallerMayNotManageCredentials: a caller authenticated by a
// personal access token (or a refresh token) may not create or revoke
// tokens or change a password, even their own or as a sysadmin, and the
// refusal writes nothing; the same caller with the password may.
func TestTokenCallerMayNotManageCredentials(t *testing.T) {
	const pw = "Erin-pass-1"
	f := newFixture(t, nil)
	ctx := t.Context()
	for _, nu := range []admin.NewUser{{Name: "erin", Password: pw}, {Name: "root", Password: pw, Admin: true}, {Name: "carol", Password: pw}} {
		_, err := f.adm.CreateUser(ctx, root, nu)
		f.must(t, err)
		f.tokens(t, nu.Name)
	}
	ops := []struct {
		name string
		call func(who admin.Actor, user string) error
	}{
		{name: "create a PAT", call: func(who admin.Actor, user string) error {
			_, _, err := f.adm.CreatePAT(ctx, who, admin.NewPAT{User: user, Name: "more"})
			return err
		}},
		{name: "revoke a PAT", call: func(who admin.Actor, user string) error { return f.adm.RevokePAT(ctx, who, user, "pat-0") }},
		{name: "revoke a refresh token", call: func(who admin.Actor, user string) error {
			rs, err := f.st.ListRefreshTokens(ctx, user)
			f.must(t, err)
			return f.adm.RevokeRefreshToken(ctx, who, user, rs[0].ID)
		}},
		{name: "revoke all refresh tokens", call: func(who admin.Actor, user string) error {
			_, err := f.adm.RevokeRefreshTokens(ctx, who, user)
			return err
		}},
		{name: "change one's password", call: func(who admin.Actor, user string) error {
			return f.adm.ChangePassword(ctx, who, f.userID(user), pw, pw+"x")
		}},
		{name: "reset a password", call: func(who admin.Actor, user string) error {
			return f.adm.ChangePassword(ctx, who, f.userID("carol"), "", "Carol-pass-2")
		}},
		{name: "set a password", call: func(who admin.Actor, user string) error {
			_, err := f.adm.UpdateUser(ctx, who, f.userID("carol"), admin.UserChange{Password: ptr("Carol-pass-2")})
			return err
		}},
	}
	for _, method := range []string{authn.MethodPAT, authn.MethodRefresh} {
		for _, who := range []admin.Actor{{Name: "erin", UserID: 1, Method: method}, {Name: "root", Admin: true, Method: method}} {
			for _, op := range ops {
				t.Run(method+"/"+who.Name+"/"+op.name, func(t *testing.T) {
					before := len(f.adminRecords(t))
					err := op.call(who, who.Name)
					wantErr(t, err, admin.ErrForbidden, "")
					if err == nil || !strings.Contains(err.Error(), "log in with the password") {
						t.Errorf("message %q does not say to log in with the password", err)
					}
					if after := len(f.adminRecords(t)); after != before {
						t.Errorf("a refused change wrote %d admin records", after-before)
					}
				})
			}
		}
	}
	if r, p := f.tokenCounts(t, "erin"); r != 2 || p != 2 {
		t.Errorf("erin's tokens after refusals: %d refresh, %d personal; want 2 and 2", r, p)
	}
	// With the password, each works (the sysadmin's reset last).
	for _, op := range ops {
		who := admin.Actor{Name: "erin", Method: authn.MethodPassword}
		if op.name == "reset a password" || op.name == "set a password" {
			who = admin.Actor{Name: "root", Admin: true, Method: authn.MethodPassword}
		}
		if err := op.call(who, "erin"); err != nil {
			t.Errorf("%s with the password: %v", op.name, err)
		}
	}
}

// TestAuditRecordsMethod: every admin record names how its actor
// authenticated: the CLI as "cli", an API caller by its login method, the
// bootstrap as "server".
func TestAuditRecordsMethod(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	_, _, err := f.adm.Bootstrap(ctx, "Admin-pass-1", nil)
	f.must(t, err)
	cli := admin.Actor{Name: "cli", Admin: true, Method: admin.MethodCLI}
	_, err = f.adm.CreateUser(ctx, cli, admin.NewUser{Name: "erin", Password: "Erin-pass-1"})
	f.must(t, err)
	_, err = f.adm.CreateProject(ctx, admin.Actor{Name: "erin", UserID: 2, Method: authn.MethodPAT, ClientIP: "192.0.2.7"}, admin.NewProject{Name: "apps", Public: false})
	f.must(t, err)
	_, _, err = f.adm.CreatePAT(ctx, admin.Actor{Name: "erin", UserID: 2, Method: authn.MethodLDAP}, admin.NewPAT{User: "erin", Name: "ci"})
	f.must(t, err)
	var got []string
	for _, r := range f.adminRecords(t) {
		got = append(got, r.Subject+"/"+r.Method+"/"+r.ClientIP+"/"+r.Action)
	}
	want := []string{"erin/ldap/local/pat.create", "erin/pat/192.0.2.7/project.create", "cli/cli/local/user.create", "authserver/server/local/user.create"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("admin records (newest first) %q, want %q", got, want)
	}
}

// TestPasswordPolicy: the one rule (ValidPassword) and every operation that
// takes a chosen password or robot secret; a 73-byte password is refused as
// invalid (400), never hashed (bcrypt would read 72 bytes of it, and the
// error was an infrastructure one: 503).
func TestPasswordPolicy(t *testing.T) {
	long := "Aa1" + strings.Repeat("x", 70) // 73 bytes
	rules := []struct {
		name, pw string
		min      int
		why      string // "" when valid
	}{
		{name: "valid", pw: "Abcdefg1"},
		{name: "72 bytes", pw: long[:72]},
		{name: "multi-byte letters count as characters", pw: "Ééééééé1"},
		{name: "too short", pw: "Abcdef1", why: "it has 7 characters"},
		{name: "no upper-case letter", pw: "abcdefg1", why: "no upper-case letter"},
		{name: "no lower-case letter", pw: "ABCDEFG1", why: "no lower-case letter"},
		{name: "no digit", pw: "Abcdefgh", why: "no digit"},
		{name: "73 bytes", pw: long, why: "it has 73 bytes: bcrypt reads only the first 72"},
		{name: "36 two-byte letters: 72 bytes", pw: "A1" + strings.Repeat("é", 35)},
		{name: "37 two-byte letters: 76 bytes", pw: "A1" + strings.Repeat("é", 37), why: "it has 76 bytes"},
		{name: "raised minimum", pw: "Abcdefg1234", min: 12, why: "want at least 12 characters"},
		{name: "raised minimum met", pw: "Abcdefg12345", min: 12},
		{name: "empty", pw: "", why: "it has 0 characters"},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			err := admin.ValidPassword("password", r.pw, r.min)
			switch {
			case r.why == "" && err != nil:
				t.Errorf("refused: %v", err)
			case r.why != "" && (!errors.Is(err, admin.ErrInvalid) || !strings.Contains(err.Error(), r.why)):
				t.Errorf("error %v, want an invalid error saying %q", err, r.why)
			}
		})
	}

	// Every operation that takes a chosen password or secret holds to it.
	f := newFixture(t, nil)
	ctx := t.Context()
	_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "bob", Password: "Bob-pass-1"})
	f.must(t, err)
	_, err = f.adm.CreateProject(ctx, root, admin.NewProject{Name: "team", Public: false})
	f.must(t, err)
	_, _, err = f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "ci", Project: "team", Actions: []string{"pull"}})
	f.must(t, err)
	bob := admin.Actor{Name: "bob", Method: authn.MethodPassword}
	ops := []struct {
		name string
		call func(pw string) error
	}{
		{name: "user create", call: func(pw string) error {
			_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "carol", Password: pw})
			return err
		}},
		{name: "user passwd", call: func(pw string) error {
			_, err := f.adm.UpdateUser(ctx, root, f.userID("bob"), admin.UserChange{Password: &pw})
			return err
		}},
		{name: "password reset", call: func(pw string) error { return f.adm.ChangePassword(ctx, root, f.userID("bob"), "", pw) }},
		{name: "own password", call: func(pw string) error { return f.adm.ChangePassword(ctx, bob, f.userID("bob"), "Bob-pass-1", pw) }},
		{name: "robot create", call: func(pw string) error {
			_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "cd", Project: "team", Actions: []string{"pull"}, Secret: pw})
			return err
		}},
		{name: "robot secret", call: func(pw string) error {
			_, _, err := f.adm.SetRobotSecret(ctx, root, f.robotID("team+ci"), pw)
			return err
		}},
		{name: "bootstrap", call: func(pw string) error {
			g := newFixture(t, nil)
			_, _, err := g.adm.Bootstrap(ctx, pw, nil)
			if _, gerr := g.st.GetUser(ctx, "admin"); err != nil && gerr == nil {
				t.Error("bootstrap refused the password but created the admin")
			}
			return err
		}},
	}
	for _, op := range ops {
		for _, pw := range []string{long, "weakpass", "Sh0rt"} {
			t.Run(op.name+"/"+pw[:5], func(t *testing.T) {
				before := f.adminRecords(t)
				err := op.call(pw)
				if !errors.Is(err, admin.ErrInvalid) {
					t.Errorf("error %v, want an invalid error (400)", err)
				}
				if after := f.adminRecords(t); len(after) != len(before) {
					t.Errorf("a refused change was written")
				}
			})
		}
	}
	if u, _ := f.st.GetUser(ctx, "bob"); !secret.VerifyPassword(u.PasswordHash, "Bob-pass-1") {
		t.Error("bob's password changed")
	}
	// A hash handed over as it is (an import) is not checked: nobody knows
	// its password.
	h := "harbor-pbkdf2-sha256$4096$salt$0123456789abcdef0123456789abcdef"
	if _, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "imported", PasswordHash: h}); err != nil {
		t.Errorf("import of a Harbor hash: %v", err)
	}
}

// timedStore records how long the longest transaction took.
type timedStore struct {
	store.Store
	mu      sync.Mutex
	longest time.Duration
}

func (s *timedStore) Atomically(ctx context.Context, fn func(store.Store) error) error {
	began := time.Now()
	err := s.Store.Atomically(ctx, fn)
	s.mu.Lock()
	s.longest = max(s.longest, time.Since(began))
	s.mu.Unlock()
	return err
}

// TestOldPassword: changing one's own password checks the old one before
// the write transaction, never inside it (bcrypt held SQLite's write lock
// for its whole duration, stalling every other writer); against the hash
// read before, refusing the change when it changed meanwhile; through
// Options.CheckPassword when set; and a wrong old password is recorded
// once.
func TestOldPassword(t *testing.T) {
	const pw = "Bob-pass-1"
	ctx := t.Context()
	bob := admin.Actor{Name: "bob", Method: authn.MethodPassword, ClientIP: "192.0.2.5"}
	setup := func(t *testing.T, cost int, check func(ctx context.Context, who admin.Actor, user, password string) error) (*fixture, *timedStore) {
		t.Helper()
		f := newFixture(t, nil)
		ts := &timedStore{Store: f.st}
		f.adm = admin.New(ts, admin.Options{BcryptCost: cost, CheckPassword: check, Now: f.clock.now})
		_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "bob", Password: pw})
		f.must(t, err)
		ts.longest = 0
		return f, ts
	}

	t.Run("no bcrypt in the transaction", func(t *testing.T) {
		f, ts := setup(t, 11, nil)
		u, err := f.st.GetUser(ctx, "bob")
		f.must(t, err)
		began := time.Now()
		secret.VerifyPassword(u.PasswordHash, pw)
		verify := time.Since(began)
		f.must(t, f.adm.ChangePassword(ctx, bob, f.userID("bob"), pw, "Bob-pass-2"))
		if ts.longest > verify/2 {
			t.Errorf("the change's transaction took %v, one bcrypt check %v: bcrypt ran inside it", ts.longest, verify)
		}
		if u, _ := f.st.GetUser(ctx, "bob"); !secret.VerifyPassword(u.PasswordHash, "Bob-pass-2") {
			t.Error("password not changed")
		}
	})

	t.Run("the hook checks it, outside any transaction", func(t *testing.T) {
		var f *fixture
		var calls []string
		f, _ = setup(t, 4, func(ctx context.Context, who admin.Actor, user, password string) error {
			calls = append(calls, who.Name+"/"+who.ClientIP+"/"+user+"/"+password)
			// A write from elsewhere goes through at once: no write lock is held.
			wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := f.st.AppendAudit(wctx, []store.AuditRecord{{Time: time.Now(), Subject: "other", Result: store.AuditIssued}}); err != nil {
				t.Errorf("a write during the check: %v (a transaction is open)", err)
			}
			if password != pw {
				return &admin.Error{Kind: admin.KindForbidden, Msg: "the old password is wrong"}
			}
			return nil
		})
		f.must(t, f.adm.ChangePassword(ctx, bob, f.userID("bob"), pw, "Bob-pass-2"))
		err := f.adm.ChangePassword(ctx, bob, f.userID("bob"), "Wrong-pass-1", "Bob-pass-3")
		wantErr(t, err, admin.ErrForbidden, "the old password is wrong")
		if want := []string{"bob/192.0.2.5/bob/" + pw, "bob/192.0.2.5/bob/Wrong-pass-1"}; !reflect.DeepEqual(calls, want) {
			t.Errorf("hook calls %q, want %q", calls, want)
		}
		// The hook records a wrong password: admin adds nothing.
		for _, r := range f.adminRecords(t) {
			if r.Result != store.AuditDone {
				t.Errorf("admin recorded the hook's refusal too: %+v", r)
			}
		}
	})

	t.Run("the hook cannot check", func(t *testing.T) {
		down := errors.New("login gate: store down")
		f, _ := setup(t, 4, func(context.Context, admin.Actor, string, string) error { return down })
		err := f.adm.ChangePassword(ctx, bob, f.userID("bob"), pw, "Bob-pass-2")
		if !errors.Is(err, down) || errors.As(err, new(*admin.Error)) {
			t.Errorf("error %v, want the hook's infrastructure error (503)", err)
		}
	})

	t.Run("changed meanwhile", func(t *testing.T) {
		var f *fixture
		f, _ = setup(t, 4, func(ctx context.Context, _ admin.Actor, _, _ string) error {
			// A sysadmin's reset commits between the read and the write.
			_, err := f.adm.UpdateUser(ctx, root, f.userID("bob"), admin.UserChange{Password: ptr("Reset-pass-9")})
			return err
		})
		err := f.adm.ChangePassword(ctx, bob, f.userID("bob"), pw, "Bob-pass-2")
		wantErr(t, err, admin.ErrExists, "the password of bob changed meanwhile: give the current one")
		if u, _ := f.st.GetUser(ctx, "bob"); !secret.VerifyPassword(u.PasswordHash, "Reset-pass-9") {
			t.Error("the change overwrote the concurrent reset")
		}
	})

	t.Run("a wrong one is recorded once", func(t *testing.T) {
		f, _ := setup(t, 4, nil)
		err := f.adm.ChangePassword(ctx, bob, f.userID("bob"), "Wrong-pass-1", "Bob-pass-2")
		wantErr(t, err, admin.ErrForbidden, "the old password is wrong")
		recs := f.adminRecords(t)
		if len(recs) != 2 || recs[0].Result != store.AuditUnauthorized || recs[0].Action != "user.password" ||
			recs[0].Target != "user bob" || recs[0].Subject != "bob" || recs[0].Method != authn.MethodPassword || recs[0].ClientIP != "192.0.2.5" {
			t.Errorf("admin records %+v; want the creation and one unauthorized user.password by bob", recs)
		}
		wantErr(t, f.adm.ChangePassword(ctx, bob, f.userID("bob"), "", "Bob-pass-2"), admin.ErrInvalid, "old_password is required: the current password, to change one's own")
		if u, _ := f.st.GetUser(ctx, "bob"); !secret.VerifyPassword(u.PasswordHash, pw) {
			t.Error("password changed")
		}
	})
}

// TestChosenRobotSecret: a secret the caller chooses is stored with bcrypt
// at the configured cost, like a password (a person picked it); a
// generated one (256 random bits) keeps the fast SHA-256; a secret another
// robot has is no conflict. Each logs in (authn.VerifySecret).
func TestChosenRobotSecret(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	_, err := f.adm.CreateProject(ctx, root, admin.NewProject{Name: "team", Public: false})
	f.must(t, err)
	const chosen = "Chosen-secret-1"
	_, got, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "ci", Project: "team", Actions: []string{"pull"}, Secret: chosen})
	f.must(t, err)
	_, generated, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "gen", Project: "team", Actions: []string{"pull"}})
	f.must(t, err)
	_, again, err := f.adm.SetRobotSecret(ctx, root, f.robotID("robot$team+gen"), chosen) // ci's secret: no conflict
	f.must(t, err)
	for _, c := range []struct{ robot, sec, returned string }{{"team+ci", chosen, got}, {"team+gen", chosen, again}} {
		r, err := f.st.GetRobot(ctx, c.robot)
		f.must(t, err)
		if cost, err := bcrypt.Cost([]byte(r.SecretHash)); err != nil || cost != 4 || c.returned != c.sec ||
			!secret.Verify(r.SecretHash, c.sec) || secret.Verify(r.SecretHash, c.sec+"x") {
			t.Errorf("%s: stored %q (bcrypt cost %d, %v), returned %q; want bcrypt at cost 4 of %q", c.robot, r.SecretHash, cost, err, c.returned, c.sec)
		}
	}
	_, fresh, err := f.adm.RefreshRobotSecret(ctx, root, f.robotID("team+gen"))
	f.must(t, err)
	if r, _ := f.st.GetRobot(ctx, "team+gen"); r.SecretHash != secret.Hash(fresh) || secret.SlowHash(r.SecretHash) || generated == fresh {
		t.Errorf("a generated secret is stored as %q; want its SHA-256", r.SecretHash)
	}
}

// TestTextBounds: email and real name at most 255 bytes, a robot's
// description at most 1 KiB, on creation and change; over that is
// invalid (400) and writes nothing.
func TestTextBounds(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	_, err := f.adm.CreateProject(ctx, root, admin.NewProject{Name: "team", Public: false})
	f.must(t, err)
	_, err = f.adm.CreateUser(ctx, root, admin.NewUser{Name: "bob", Password: "Bob-pass-1"})
	f.must(t, err)
	_, _, err = f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "ci", Project: "team", Actions: []string{"pull"}})
	f.must(t, err)
	bob := admin.Actor{Name: "bob", Method: authn.MethodPassword}
	n := 0
	ops := []struct {
		name, field string
		max         int
		call        func(text string) error
	}{
		{"user create", "email", 255, func(s string) error {
			n++
			_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: fmt.Sprintf("u%d", n), Password: "User-pass-1", Email: s})
			return err
		}},
		{"user create", "real name", 255, func(s string) error {
			n++
			_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: fmt.Sprintf("u%d", n), Password: "User-pass-1", DisplayName: s})
			return err
		}},
		{"own profile", "email", 255, func(s string) error {
			_, err := f.adm.UpdateUser(ctx, bob, f.userID("bob"), admin.UserChange{Email: &s})
			return err
		}},
		{"own profile", "real name", 255, func(s string) error {
			_, err := f.adm.UpdateUser(ctx, bob, f.userID("bob"), admin.UserChange{DisplayName: &s})
			return err
		}},
		{"robot create", "description", 1024, func(s string) error {
			n++
			_, _, err := f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: fmt.Sprintf("r%d", n), Project: "team", Actions: []string{"pull"}, Description: s})
			return err
		}},
		{"robot change", "description", 1024, func(s string) error {
			_, err := f.adm.UpdateRobot(ctx, root, f.robotID("team+ci"), admin.RobotChange{Description: &s})
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name+"/"+op.field, func(t *testing.T) {
			f.must(t, op.call(strings.Repeat("é", op.max/2)+strings.Repeat("x", op.max%2))) // exactly max bytes
			before := len(f.adminRecords(t))
			err := op.call(strings.Repeat("x", op.max+1))
			wantErr(t, err, admin.ErrInvalid, fmt.Sprintf("%s: at most %d bytes, this one has %d", op.field, op.max, op.max+1))
			if len(f.adminRecords(t)) != before {
				t.Error("a refused change was written")
			}
		})
	}
}
