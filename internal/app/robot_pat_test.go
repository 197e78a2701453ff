package app_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
)

// addRobot creates a robot as `robot create` does and returns its secret.
func (f *fixture) addRobot(project, name string, actions []string, expires time.Time) string {
	f.t.Helper()
	acts, err := secret.RobotActions(actions)
	f.must(err)
	bare, err := secret.RobotName(project, name)
	f.must(err)
	sec, err := secret.New("", false)
	f.must(err)
	f.must(f.st.CreateRobot(context.Background(), &store.Robot{Name: bare, Project: project, Permissions: store.OneProject(project, acts...),
		SecretHash: secret.Hash(sec), ExpiresAt: expires}))
	return sec
}

// addPAT creates a personal access token as `pat create` does.
func (f *fixture) addPAT(user, name string, expires time.Time) string {
	f.t.Helper()
	sec, err := secret.NewPAT()
	f.must(err)
	f.must(f.st.CreatePersonalToken(context.Background(), &store.PersonalToken{User: user, Name: name,
		Hash: secret.Hash(sec), ExpiresAt: expires}))
	return sec
}

// offline asks for a token as docker login does (offline_token=true) and
// wants status; a 200 must carry no refresh token, for robots and PATs
// never get one. It reports whether the answer was 200.
func (f *fixture) offline(t *testing.T, user, pass string, scopes []string, status int) (reply, bool) {
	t.Helper()
	q := scopeQuery(scopes...)
	q.Set("offline_token", "true")
	r := f.get("GET", "/service/token", q, user, pass)
	if r.status != status {
		t.Fatalf("status %d %v, want %d", r.status, r.body, status)
	}
	if status != 200 {
		return r, false
	}
	if _, ok := r.body["refresh_token"]; ok {
		t.Fatalf("%s got a refresh token", user)
	}
	return r, true
}

func TestRobots(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.must(f.st.CreateProject(ctx, &store.Project{Name: "other"}))
	ci := f.addRobot("team", "ci", []string{"push"}, time.Time{})
	puller := f.addRobot("team", "puller", []string{"pull"}, time.Time{})
	sys := f.addRobot("*", "scanner", []string{"pull", "delete"}, time.Time{})
	old := f.addRobot("team", "old", []string{"pull"}, f.clock.Now().Add(time.Hour))
	off := f.addRobot("team", "off", []string{"pull"}, time.Time{})
	r, err := f.st.GetRobot(ctx, "team+off")
	f.must(err)
	r.Disabled = true
	f.must(f.st.UpdateRobot(ctx, r))
	f.clock.Advance(2 * time.Hour) // "old" has expired

	tests := []struct {
		name, user, pass string
		scopes           []string
		status           int
		want             []any
	}{
		{name: "push implies pull in its project", user: "robot$team+ci", pass: ci, scopes: []string{"repository:team/app:pull,push,delete"},
			status: 200, want: []any{access("repository", "team/app", "pull", "push")}},
		{name: "nothing outside its project", user: "robot$team+ci", pass: ci, scopes: []string{"repository:other/app:pull,push"},
			status: 200, want: []any{access("repository", "other/app")}},
		{name: "public project pull like everyone", user: "robot$team+ci", pass: ci, scopes: []string{"repository:pub/x:pull,push"},
			status: 200, want: []any{access("repository", "pub/x", "pull")}},
		{name: "never the catalog", user: "robot$team+ci", pass: ci, scopes: []string{"registry:catalog:*"},
			status: 200, want: []any{access("registry", "catalog")}},
		{name: "nothing outside projects", user: "robot$scanner", pass: sys, scopes: []string{"repository:busybox:pull"},
			status: 200, want: []any{access("repository", "busybox")}},
		{name: "pull only", user: "robot$team+puller", pass: puller, scopes: []string{"repository:team/app:pull,push"},
			status: 200, want: []any{access("repository", "team/app", "pull")}},
		{name: "system robot on every project", user: "robot$scanner", pass: sys,
			scopes: []string{"repository:team/a:pull,push,delete", "repository:other/b:delete", "repository:missing/c:pull"},
			status: 200, want: []any{access("repository", "team/a", "pull", "delete"), access("repository", "other/b", "delete"), access("repository", "missing/c")}},
		{name: "wrong secret", user: "robot$team+ci", pass: puller, status: 401},
		{name: "unknown robot", user: "robot$team+nobody", pass: ci, status: 401},
		{name: "bare prefix", user: "robot$", pass: ci, status: 401},
		{name: "expired", user: "robot$team+old", pass: old, status: 401},
		{name: "disabled", user: "robot$team+off", pass: off, status: 401},
		{name: "robot secret is no user password", user: "team+ci", pass: ci, status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := f.offline(t, tt.user, tt.pass, tt.scopes, tt.status)
			if !ok {
				return
			}
			wantAccess(t, r, tt.want)
			if r.claims["sub"] != tt.user {
				t.Fatalf("sub %v", r.claims["sub"])
			}
		})
	}

	t.Run("password grant", func(t *testing.T) {
		form := url.Values{"grant_type": {"password"}, "username": {"robot$team+ci"}, "password": {ci},
			"scope": {"repository:team/app:push"}, "access_type": {"offline"}}
		r := f.post("/token", form, "")
		wantAccess(t, r, []any{access("repository", "team/app", "push")})
		if _, ok := r.body["refresh_token"]; ok {
			t.Fatal("a robot got a refresh token")
		}
	})
	t.Run("refresh-secret", func(t *testing.T) {
		fresh, err := secret.New("", false)
		f.must(err)
		r, err := f.st.GetRobot(ctx, "team+ci")
		f.must(err)
		r.SecretHash = secret.Hash(fresh)
		f.must(f.st.UpdateRobot(ctx, r))
		if got := f.get("GET", "/token", scopeQuery(), "robot$team+ci", ci); got.status != 401 {
			t.Fatalf("old secret: %d, want 401", got.status)
		}
		wantAccess(t, f.get("GET", "/token", scopeQuery(), "robot$team+ci", fresh), []any{})
	})
}

func TestPATs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	devPAT := f.addPAT("dev", "laptop", time.Time{})
	expiring := f.addPAT("dev", "short", f.clock.Now().Add(time.Hour))
	gonePAT := f.addPAT("gone", "laptop", time.Time{})
	neverStored, err := secret.NewPAT()
	f.must(err)
	scope := []string{"repository:team/app:pull,push"}
	devAccess := []any{access("repository", "team/app", "pull", "push")}

	tests := []struct {
		name, user, pass string
		status           int
	}{
		{name: "instead of the password", user: "dev", pass: devPAT, status: 200},
		{name: "another user's name", user: "root", pass: devPAT, status: 401},
		{name: "disabled user", user: "gone", pass: gonePAT, status: 401},
		{name: "well-formed but unknown token", user: "dev", pass: neverStored, status: 401},
		{name: "bad checksum goes to the password check", user: "dev", pass: devPAT[:len(devPAT)-1] + flip(devPAT[len(devPAT)-1]), status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := f.offline(t, tt.user, tt.pass, scope, tt.status)
			if !ok {
				return
			}
			wantAccess(t, r, devAccess)
			if r.claims["sub"] != "dev" {
				t.Fatalf("sub %v", r.claims["sub"])
			}
		})
	}
	t.Run("password grant", func(t *testing.T) {
		form := url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {devPAT}, "scope": scope}
		wantAccess(t, f.post("/service/token", form, ""), devAccess)
	})
	t.Run("last used recorded", func(t *testing.T) {
		list, err := f.st.ListPersonalTokens(ctx, "dev")
		f.must(err)
		if list[0].Name != "laptop" || !list[0].LastUsedAt.Equal(f.clock.Now()) || !list[1].LastUsedAt.IsZero() {
			t.Fatalf("tokens %+v", list)
		}
	})
	t.Run("expired", func(t *testing.T) {
		wantAccess(t, f.get("GET", "/token", scopeQuery(), "dev", expiring), []any{})
		f.clock.Advance(time.Hour)
		if r := f.get("GET", "/token", scopeQuery(), "dev", expiring); r.status != 401 {
			t.Fatalf("expired PAT: %d, want 401", r.status)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		f.must(f.st.DeletePersonalToken(ctx, "dev", "laptop"))
		if r := f.get("GET", "/token", scopeQuery(), "dev", devPAT); r.status != 401 {
			t.Fatalf("revoked PAT: %d, want 401", r.status)
		}
	})
	t.Run("user deleted", func(t *testing.T) {
		pat := f.addPAT("dev", "again", time.Time{})
		f.must(f.st.DeleteUser(ctx, "dev"))
		if r := f.get("GET", "/token", scopeQuery(), "dev", pat); r.status != 401 {
			t.Fatalf("deleted user's PAT: %d, want 401", r.status)
		}
	})
}

// TestLDAPUserPAT: an LDAP user's PAT grants the groups recorded at their
// last directory login, and stops once the directory (the UserChecker hook)
// no longer knows the user.
func TestLDAPUserPAT(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const groupDN = "cn=Builders,ou=groups,dc=example,dc=org"
	f.must(f.st.CreateGroup(ctx, &store.Group{Name: "builders", DN: groupDN}))
	f.must(f.st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberGroup, Name: "builders", Role: store.RoleMaintainer}))
	_, err := f.st.SyncLDAPUser(ctx, store.LDAPUser{Name: "lou", DN: "uid=lou,ou=people,dc=example,dc=org", GroupDNs: []string{groupDN}})
	f.must(err)
	pat := f.addPAT("lou", "ci", time.Time{})
	scope := scopeQuery("repository:team/app:pull,push,delete")

	if r := f.get("GET", "/token", scope, "lou", pat); r.status != 401 {
		t.Fatalf("directory does not know lou yet: %d, want 401", r.status)
	}
	f.directory.set("lou", true)
	r := f.get("GET", "/token", scope, "lou", pat)
	wantAccess(t, r, []any{access("repository", "team/app", "pull", "push", "delete")})
	f.directory.set("lou", false)
	if r := f.get("GET", "/token", scope, "lou", pat); r.status != 401 {
		t.Fatalf("lou gone from the directory: %d, want 401", r.status)
	}
}

// flip returns another base62 character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
