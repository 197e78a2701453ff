//go:build integration

package ldap_test

import (
	"slices"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// stack is the server's authenticator: robots, then personal access
// tokens, then local users and the directory.
// Every refusal that did not reach a real bcrypt hash runs the dummy one,
// exactly once.
func TestRefusalsRunTheDummyBcrypt(t *testing.T) {
	s := testenv.Slapd(t)
	st := sqlitetest.Open(t)
	ctx := t.Context()
	authntest.AddLocal(t, st, "lena", "lena-pw", false)
	if err := st.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	authntest.AddRobot(t, st, "team+ci", "team", "ci-secret")
	authntest.AddRobot(t, st, "team+off", "team", "off-secret")
	off, _ := st.GetRobot(ctx, "team+off")
	off.Disabled = true
	if err := st.UpdateRobot(ctx, off); err != nil {
		t.Fatal(err)
	}
	pat, err := secret.NewPAT()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePersonalToken(ctx, &store.PersonalToken{User: "lena", Name: "laptop", Hash: secret.Hash(pat)}); err != nil {
		t.Fatal(err)
	}
	unknownPAT, _ := secret.NewPAT()
	auth, dummy := authntest.Stack(t, st, 4, new(ldapConfig(s, "logins")))
	if dummy == nil {
		t.Fatal("the stack has no dummy")
	}
	// bob logs in once (onboarded), then an operator disables him.
	if _, ok, err := auth.Login(ctx, "bob", "bob-pw"); !ok || err != nil {
		t.Fatalf("bob: %t, %v", ok, err)
	}
	authntest.DisableUser(t, st, "bob")

	tests := []struct {
		name       string
		user, pass string
		wantOK     bool
		wantDummy  int64
	}{
		{name: "local user, right password", user: "lena", pass: "lena-pw", wantOK: true},
		{name: "local user, wrong password (a real hash)", user: "lena", pass: "nope"},
		{name: "unknown name", user: "nobody", pass: "nope", wantDummy: 1},
		{name: "directory user, wrong password", user: "alice", pass: "nope", wantDummy: 1},
		{name: "disabled directory user", user: "bob", pass: "bob-pw", wantDummy: 1},
		{name: "directory entry named admin", user: "ADMIN ", pass: "admin-pw", wantDummy: 1},
		{name: "robot, right secret", user: "robot$team+ci", pass: "ci-secret", wantOK: true},
		{name: "robot, wrong secret", user: "robot$team+ci", pass: "nope", wantDummy: 1},
		{name: "unknown robot", user: "robot$team+ghost", pass: "nope", wantDummy: 1},
		{name: "robot prefix alone", user: "robot$", pass: "nope", wantDummy: 1},
		{name: "disabled robot", user: "robot$team+off", pass: "off-secret", wantDummy: 1},
		{name: "personal token", user: "lena", pass: pat, wantOK: true},
		{name: "unknown personal token", user: "lena", pass: unknownPAT, wantDummy: 1},
		{name: "personal token of another user", user: "alice", pass: pat, wantDummy: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dummy.Runs()
			_, ok, err := auth.Login(ctx, tt.user, tt.pass)
			if err != nil || ok != tt.wantOK {
				t.Fatalf("Login = %t, %v; want %t", ok, err, tt.wantOK)
			}
			if got := dummy.Runs() - before; got != tt.wantDummy {
				t.Errorf("%d dummy comparisons, want %d", got, tt.wantDummy)
			}
		})
	}
}

// A wrong password costs about the same whatever the name: measured, with
// the default bcrypt cost and the real directory (a relative timing test,
// not a performance target).
func TestFailedLoginTiming(t *testing.T) {
	s := testenv.Slapd(t)
	st := sqlitetest.Open(t)
	ctx := t.Context()
	cost := config.Defaults().Passwords.BcryptCost
	hash, err := secret.HashPassword("lena-pw", cost)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, &store.User{Name: "lena", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	auth, _ := authntest.Stack(t, st, cost, new(ldapConfig(s, "logins")))
	unknownPAT, _ := secret.NewPAT()
	cases := []struct{ name, user, pass string }{
		{"local user", "lena", "wrong-pw"}, // the reference: a real bcrypt
		{"unknown name", "nobody-at-all", "wrong-pw"},
		{"directory user", "alice", "wrong-pw"},
		{"unknown robot", "robot$team+ghost", "wrong-pw"},
		{"unknown personal token", "lena", unknownPAT},
	}
	const samples = 15
	took := make([][]time.Duration, len(cases))
	for range samples {
		for i, c := range cases { // interleaved, so load spikes hit every case
			start := time.Now()
			if _, ok, err := auth.Login(ctx, c.user, c.pass); ok || err != nil {
				t.Fatalf("%s: %t, %v", c.name, ok, err)
			}
			took[i] = append(took[i], time.Since(start))
		}
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	ref := median(took[0])
	for i, c := range cases[1:] {
		m := median(took[i+1])
		t.Logf("%s: median %v (local user %v)", c.name, m, ref)
		if m > 2*ref || 2*m < ref {
			t.Errorf("%s: median %v, local user %v: not within 2x", c.name, m, ref)
		}
	}
}
