package readcache_test

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/readcache"
	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/testenv"
)

// counting counts the reads that reach the store.
type counting struct {
	store.Store
	versions, users, access atomic.Int64
	failVersion             atomic.Bool
}

var errDown = errors.New("database down")

func (c *counting) PolicyVersion(ctx context.Context) (int64, error) {
	c.versions.Add(1)
	if c.failVersion.Load() {
		return 0, errDown
	}
	return c.Store.PolicyVersion(ctx)
}

func (c *counting) GetUser(ctx context.Context, name string) (store.User, error) {
	c.users.Add(1)
	return c.Store.GetUser(ctx, name)
}

func (c *counting) ProjectAccess(ctx context.Context, p store.Principal, projects []string) (map[string]store.ProjectAccess, error) {
	c.access.Add(1)
	return c.Store.ProjectAccess(ctx, p, projects)
}

func (c *counting) reads() [3]int64 {
	return [3]int64{c.versions.Load(), c.users.Load(), c.access.Load()}
}

// recording counts what the cache reports (readcache.Stats).
type recording struct {
	mu       sync.Mutex
	reads    map[string]int // "user hit", "access miss", ...
	versions int
}

func (r *recording) StoreRead(read string, hit bool, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := "miss"
	if hit {
		res = "hit"
	}
	r.reads[read+" "+res] += n
}

func (r *recording) PolicyVersionRead() { r.mu.Lock(); r.versions++; r.mu.Unlock() }

// env is a cache over a real SQLite file and a second store on the same
// file: another process (the CLI) or another replica writing.
type env struct {
	stats *recording
	st    *counting
	c     *readcache.Store
	other store.Store
	dev   store.User
}

func newEnv(t *testing.T, max int) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authserver.db")
	open := func(ctx context.Context) (*sqlite.Store, error) { return sqlite.Open(ctx, path) }
	st := testenv.Migrated(t, "readcache", open)
	other := testenv.Migrated(t, "readcache-other", open)
	must(t, st.CreateUser(ctx, &store.User{Name: "dev", PasswordHash: "h1", Source: store.SourceLocal}))
	must(t, st.CreateProject(ctx, &store.Project{Name: "team"}))
	must(t, st.CreateGroup(ctx, &store.Group{Name: "ops"}))
	must(t, st.AddGroupUser(ctx, "ops", "dev"))
	must(t, st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleDeveloper}))
	dev, err := st.GetUser(ctx, "dev")
	must(t, err)
	cs := &counting{Store: st}
	stats := &recording{reads: map[string]int{}}
	return &env{stats: stats, st: cs, c: readcache.New(cs, max, stats), other: other, dev: dev}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// request is what a token request of dev reads: the user, then the
// access to team.
func (e *env) request(t *testing.T) (store.User, store.ProjectAccess, bool) {
	t.Helper()
	ctx := e.c.Begin(context.Background())
	u, err := e.c.GetUser(ctx, "dev")
	must(t, err)
	got, err := e.c.ProjectAccess(ctx, e.principal(), []string{"team", "missing"})
	must(t, err)
	pa, ok := got["team"]
	if _, ghost := got["missing"]; ghost {
		t.Fatal("a project that does not exist was answered")
	}
	return u, pa, ok
}

func (e *env) principal() store.Principal {
	return store.Principal{UserID: e.dev.ID, Authenticated: true}
}

func roles(pa store.ProjectAccess) []string {
	var out []string
	for _, g := range pa.Grants {
		out = append(out, string(g.Role)+"@"+g.Group)
	}
	return out
}

// A warm request reads the version once and nothing else; every change
// another writer commits is seen by the next request.
func TestChangesByAnotherWriter(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	e.request(t) // warm
	before := e.st.reads()
	u, pa, ok := e.request(t)
	after := e.st.reads()
	// "missing" does not exist, so it is asked again: one ProjectAccess
	// read for it alone.
	if d := [3]int64{after[0] - before[0], after[1] - before[1], after[2] - before[2]}; d != [3]int64{1, 0, 1} {
		t.Fatalf("warm request: %v reads (version, user, access), want [1 0 1]", d)
	}
	if u.Disabled || u.PasswordHash != "h1" || !ok || len(pa.Grants) != 1 {
		t.Fatalf("warm request: user %+v, access %+v", u, pa)
	}

	changes := []struct {
		name  string
		write func() error
		check func(u store.User, pa store.ProjectAccess, ok bool) bool
	}{
		{"disable", func() error {
			_, err := e.other.ModifyUser(ctx, "dev", func(u store.User) (store.User, error) { u.Disabled = true; return u, nil })
			return err
		}, func(u store.User, _ store.ProjectAccess, _ bool) bool { return u.Disabled }},
		{"change password", func() error {
			_, err := e.other.ModifyUser(ctx, "dev", func(u store.User) (store.User, error) { u.PasswordHash = "h2"; return u, nil })
			return err
		}, func(u store.User, _ store.ProjectAccess, _ bool) bool { return u.PasswordHash == "h2" }},
		{"allow from", func() error { return e.other.SetUserAllowFrom(ctx, "dev", []string{"10.0.0.0/8"}) },
			func(u store.User, _ store.ProjectAccess, _ bool) bool { return len(u.AllowFrom) == 1 }},
		{"group grant", func() error {
			return e.other.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberGroup, Name: "ops", Role: store.RoleMaintainer})
		}, func(_ store.User, pa store.ProjectAccess, _ bool) bool { return len(pa.Grants) == 2 }},
		{"leave group", func() error { return e.other.RemoveGroupUser(ctx, "ops", "dev") },
			func(_ store.User, pa store.ProjectAccess, _ bool) bool { return len(pa.Grants) == 1 }},
		{"deny rule", func() error {
			return e.other.CreateRule(ctx, &store.Rule{Project: "team", Repos: "*", Subject: store.RuleUser, Name: "dev", Actions: []string{"push"}, Deny: true})
		}, func(_ store.User, pa store.ProjectAccess, _ bool) bool { return len(pa.Rules) == 1 }},
		{"remove member", func() error { return e.other.RemoveMember(ctx, "team", store.MemberUser, "dev") },
			func(_ store.User, pa store.ProjectAccess, _ bool) bool { return len(pa.Grants) == 0 }},
		{"make public", func() error { return e.other.SetProjectPublic(ctx, "team", true) },
			func(_ store.User, pa store.ProjectAccess, _ bool) bool { return pa.Public }},
		{"delete project", func() error { return e.other.DeleteProject(ctx, "team") },
			func(_ store.User, _ store.ProjectAccess, ok bool) bool { return !ok }},
	}
	for _, c := range changes {
		e.request(t) // the entries are warm before the change
		must(t, c.write())
		if u, pa, ok := e.request(t); !c.check(u, pa, ok) {
			t.Fatalf("after %s by another writer, the next request read user %+v, access %v %+v (roles %v)", c.name, u, ok, pa, roles(pa))
		}
	}
}

// One request keeps one view: the version is read at its first read only.
func TestOneVersionPerRequest(t *testing.T) {
	e := newEnv(t, 0)
	ctx := e.c.Begin(context.Background())
	before := e.st.reads()
	for range 3 {
		if _, err := e.c.GetUser(ctx, "dev"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.ProjectAccess(ctx, e.principal(), []string{"team"}); err != nil {
			t.Fatal(err)
		}
	}
	after := e.st.reads()
	if d := [3]int64{after[0] - before[0], after[1] - before[1], after[2] - before[2]}; d != [3]int64{1, 1, 1} {
		t.Fatalf("three reads of each in one request: %v reads (version, user, access), want [1 1 1]", d)
	}
	// What the metrics are told: the same, seen from the cache.
	want := map[string]int{"user miss": 1, "user hit": 2, "access miss": 1, "access hit": 2}
	if !maps.Equal(e.stats.reads, want) || e.stats.versions != 1 {
		t.Fatalf("stats: %v and %d version reads, want %v and 1", e.stats.reads, e.stats.versions, want)
	}
}

// Outside a request (the admin API's own reads, the CLI) every read goes
// to the store.
func TestNotBegun(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	for range 3 {
		if _, err := e.c.GetUser(ctx, "dev"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.ProjectAccess(ctx, e.principal(), []string{"team"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.st.reads(); got != [3]int64{0, 3, 3} {
		t.Fatalf("reads outside a request: %v (version, user, access), want [0 3 3]", got)
	}
}

// A version that cannot be read is the store's error: nothing is answered
// from memory.
func TestVersionUnreadable(t *testing.T) {
	e := newEnv(t, 0)
	e.request(t)
	e.st.failVersion.Store(true)
	ctx := e.c.Begin(context.Background())
	if _, err := e.c.GetUser(ctx, "dev"); !errors.Is(err, errDown) {
		t.Fatalf("GetUser with the version unreadable: %v, want the store's error", err)
	}
	if _, err := e.c.ProjectAccess(ctx, e.principal(), []string{"team"}); !errors.Is(err, errDown) {
		t.Fatalf("ProjectAccess with the version unreadable: %v, want the store's error", err)
	}
	e.st.failVersion.Store(false)
	if u, _, ok := e.request(t); u.Name != "dev" || !ok {
		t.Fatal("the cache does not recover once the version reads again")
	}
}

// A project that did not exist is read again within the same request:
// projects.create_on_push creates it and reads it back.
func TestMissingReadAgain(t *testing.T) {
	e := newEnv(t, 0)
	ctx := e.c.Begin(context.Background())
	got, err := e.c.ProjectAccess(ctx, e.principal(), []string{"fresh"})
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("missing project answered: %+v", got)
	}
	must(t, e.st.CreateProject(ctx, &store.Project{Name: "fresh"}))
	must(t, e.st.SetMember(ctx, store.Member{Project: "fresh", Kind: store.MemberUser, Name: "dev", Role: store.RoleProjectAdmin}))
	got, err = e.c.ProjectAccess(ctx, e.principal(), []string{"fresh"})
	must(t, err)
	if pa, ok := got["fresh"]; !ok || len(pa.Grants) != 1 || pa.Grants[0].Role != store.RoleProjectAdmin {
		t.Fatalf("project created within the request: %+v, want it with the creator's role", got)
	}
	// Nor is a user that did not exist kept as missing.
	if _, err := e.c.GetUser(ctx, "newcomer"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser(newcomer) = %v", err)
	}
	must(t, e.st.CreateUser(ctx, &store.User{Name: "newcomer", Source: store.SourceLDAP}))
	if _, err := e.c.GetUser(ctx, "newcomer"); err != nil {
		t.Fatalf("a user created within the request is not found: %v", err)
	}
}

// A request that read the version before another request saw a newer
// one reads the store and keeps nothing it read.
func TestOlderRequestKeepsNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	old := e.c.Begin(ctx)
	if _, err := e.c.GetUser(old, "dev"); err != nil { // reads version v
		t.Fatal(err)
	}
	_, err := e.other.ModifyUser(ctx, "dev", func(u store.User) (store.User, error) { u.Disabled = true; return u, nil })
	must(t, err)
	if u, _, _ := e.request(t); !u.Disabled { // a newer request: v+1
		t.Fatal("disable not seen by the next request")
	}
	_, err = e.other.ModifyUser(ctx, "dev", func(u store.User) (store.User, error) { u.Disabled = false; u.PasswordHash = "h3"; return u, nil })
	must(t, err)
	// old's view is v: it reads the store (now re-enabled, h3) and must
	// not leave that in memory under v+1's entries.
	got, err := e.c.ProjectAccess(old, e.principal(), []string{"team"})
	must(t, err)
	if _, ok := got["team"]; !ok {
		t.Fatal("old request lost the project")
	}
	if u, _, _ := e.request(t); u.Disabled || u.PasswordHash != "h3" {
		t.Fatalf("after re-enable: %+v", u)
	}
}

// Past max entries, every entry goes; answers stay right.
func TestBound(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 3)
	for i := range 5 {
		name := []string{"p0", "p1", "p2", "p3", "p4"}[i]
		must(t, e.other.CreateProject(ctx, &store.Project{Name: name, Public: true}))
	}
	for range 3 {
		rc := e.c.Begin(ctx)
		got, err := e.c.ProjectAccess(rc, e.principal(), []string{"p0", "p1", "p2", "p3", "p4"})
		must(t, err)
		if len(got) != 5 {
			t.Fatalf("got %d projects, want 5", len(got))
		}
	}
}

// Many requests and writers at once (go test -race): every request
// answers, and once the writers stop the next request sees the last
// write.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				rc := e.c.Begin(ctx)
				if _, err := e.c.GetUser(rc, "dev"); err != nil {
					t.Error(err)
					return
				}
				if _, err := e.c.ProjectAccess(rc, e.principal(), []string{"team"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 20 {
		_, err := e.other.ModifyUser(ctx, "dev", func(u store.User) (store.User, error) { u.Disabled = i%2 == 0; return u, nil })
		must(t, err)
	}
	close(stop)
	wg.Wait()
	if u, _, _ := e.request(t); u.Disabled {
		t.Fatal("the last write (enabled) is not what the next request read")
	}
}

// A robot's row (its secret, disabled, expiry, permissions) is read from
// memory too, and every change to it is seen by the next request.
func TestRobotChanges(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	must(t, e.other.CreateRobot(ctx, &store.Robot{Name: "team+ci", Project: "team", SecretHash: "s1",
		Permissions: []store.RobotPermission{{Project: "team", Actions: []string{"pull"}}}}))
	read := func() store.Robot {
		t.Helper()
		rb, err := e.c.GetRobot(e.c.Begin(ctx), "team+ci")
		must(t, err)
		return rb
	}
	read()
	before := e.st.reads()
	if rb := read(); rb.SecretHash != "s1" || rb.Disabled {
		t.Fatalf("robot: %+v", rb)
	}
	if after := e.st.reads(); after[0]-before[0] != 1 {
		t.Fatalf("warm robot read: %d version reads, want 1", after[0]-before[0])
	}
	changes := []struct {
		name  string
		write func(rb store.Robot) store.Robot
		check func(rb store.Robot) bool
	}{
		{"disable", func(rb store.Robot) store.Robot { rb.Disabled = true; return rb }, func(rb store.Robot) bool { return rb.Disabled }},
		{"new secret", func(rb store.Robot) store.Robot { rb.SecretHash = "s2"; return rb }, func(rb store.Robot) bool { return rb.SecretHash == "s2" }},
		{"permissions", func(rb store.Robot) store.Robot {
			rb.Permissions = []store.RobotPermission{{Project: "team", Actions: []string{"pull", "push"}}}
			return rb
		}, func(rb store.Robot) bool {
			return len(rb.Permissions) == 1 && len(rb.Permissions[0].Actions) == 2
		}},
	}
	for _, c := range changes {
		read()
		_, err := e.other.ModifyRobot(ctx, "team+ci", func(rb store.Robot) (store.Robot, error) { return c.write(rb), nil })
		must(t, err)
		if rb := read(); !c.check(rb) {
			t.Fatalf("after %s by another writer the next request read %+v", c.name, rb)
		}
	}
	must(t, e.other.DeleteRobot(ctx, "team+ci"))
	if _, err := e.c.GetRobot(e.c.Begin(ctx), "team+ci"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted robot: %v, want not found", err)
	}
}
