// Package readcache keeps the reads of an authenticated token request (the user's or robot's row, the permission query) in memory, checked against the store's policy version once per request.
package readcache

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// Store is a store.Store whose GetUser, GetRobot and ProjectAccess answer
// from memory within a request begun with Begin, and go to the store
// otherwise.
//
// The first of those reads in a request reads the store's policy version
// (one primary-key read; database triggers bump it on every committed
// change to users, robots and their permissions, memberships, groups and
// their members, repository rules and projects, whoever writes: another
// process, another replica, the CLI). When it has not changed since the entries were read,
// they are what the store would answer now, and they are used; when it has,
// every entry is dropped first. So a change committed before a request
// began is honoured by that request, on every replica — the same promise as
// reading the store every time (a disabled user, a changed password, a
// removed membership or rule takes effect at the next request) — for one
// read instead of two on a warm cache, and requests that arrive while a
// version read is under way share the next one (versions). A version that cannot be read is the
// store's error (503), never an answer from memory.
//
// What is kept: users and robots found by name (never a miss: a name that
// does not exist is read again, so a user created by this very request is
// found), and each (principal, project) answer of ProjectAccess for
// projects that exist (a project missing is read again:
// projects.create_on_push reads a project it has just created within the
// same request). Errors are never kept. The entries are bounded by max;
// past it they are all dropped.
//
// One request sees one version: a row it changes itself is not read back
// changed by its later cached reads (the next request sees the change).
// The token path writes nothing it reads back but projects created on
// push, which were missing and so are read from the store.
type Store struct {
	store.Store
	max      int
	stats    Stats
	versions versions

	mu      sync.Mutex
	version int64  // the version the entries were read at
	gen     uint64 // bumped whenever the entries are dropped for a newer version
	users   map[string]store.User
	robots  map[string]store.Robot
	access  map[accessKey]store.ProjectAccess
}

// accessKey is one principal's view of one project: everything in
// store.Principal that ProjectAccess's answer depends on.
type accessKey struct {
	user, robot   int64
	authenticated bool
	groups        string // GroupDNs joined by NUL, as given
	project       string
}

// DefaultMax bounds the entries a Store keeps (users, robots and project answers
// together): about 10 MB at their usual size.
const DefaultMax = 50000

// Stats receives what the cache did (a *metrics.Metrics satisfies it).
type Stats interface {
	// StoreRead counts n reads of kind read (user, robot, access: one
	// per project) answered from memory (hit) or from the store.
	StoreRead(read string, hit bool, n int)
	// PolicyVersionRead counts one read of the policy version.
	PolicyVersionRead()
}

type noStats struct{}

func (noStats) StoreRead(string, bool, int) {}
func (noStats) PolicyVersionRead()          {}

// New wraps st. max <= 0 is DefaultMax; stats may be nil.
func New(st store.Store, max int, stats Stats) *Store {
	if max <= 0 {
		max = DefaultMax
	}
	if stats == nil {
		stats = noStats{}
	}
	return &Store{Store: st, max: max, stats: stats, versions: versions{st: st, stats: stats},
		users: map[string]store.User{}, robots: map[string]store.Robot{}, access: map[accessKey]store.ProjectAccess{}}
}

// BoundReads bounds each policy-version read to d (ReadTimeout is meant
// for a database across a network; 0, the default, sets no bound) and
// returns c. A bound costs a cancellable context per read, for which
// drivers start a goroutine watching it (modernc's SQLite does per
// statement): worth it for PostgreSQL, whose reads cross a network that may
// stop answering, not for a local SQLite file.
func (c *Store) BoundReads(d time.Duration) *Store {
	c.versions.timeout = d
	return c
}

// request is one request's view: the generation of the entries it may use
// (0: none; the store is read and nothing is kept), fixed by its first read.
type request struct {
	once sync.Once
	gen  uint64
	err  error
}

type ctxKey struct{ c *Store }

// requestCtx carries a request's view: one allocation per request (a
// context.WithValue and the view would be two).
type requestCtx struct {
	context.Context
	key ctxKey
	r   request
}

func (rc *requestCtx) Value(key any) any {
	if k, ok := key.(ctxKey); ok && k == rc.key {
		return &rc.r
	}
	return rc.Context.Value(key)
}

// Begin marks ctx as one request: its cached reads check the policy
// version once, at the first of them. Reads with a context that was not
// begun go to the store.
func (c *Store) Begin(ctx context.Context) context.Context {
	return &requestCtx{Context: ctx, key: ctxKey{c}}
}

// view returns the generation of the entries ctx's request may use, reading
// the policy version at the request's first call. ok is false outside a
// request begun with Begin.
func (c *Store) view(ctx context.Context) (gen uint64, ok bool, err error) {
	r, _ := ctx.Value(ctxKey{c}).(*request)
	if r == nil {
		return 0, false, nil
	}
	r.once.Do(func() {
		v, err := c.versions.read(ctx)
		if err != nil {
			r.err = err
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case c.gen == 0 || v > c.version:
			// First read, or something changed: what is kept may be older
			// than the store; drop it, and keep what is read from now on.
			c.drop()
			c.version = v
			c.gen++
			r.gen = c.gen
		case v == c.version:
			r.gen = c.gen
		default:
			// A request that read the version before the entries moved to
			// a newer one: it reads the store and keeps nothing.
		}
	})
	return r.gen, true, r.err
}

// GetUser is store.Users.GetUser, from memory within a request.
func (c *Store) GetUser(ctx context.Context, name string) (store.User, error) {
	return byName(c, ctx, "user", c.users, name, c.Store.GetUser)
}

// GetRobot is store.Robots.GetRobot, from memory within a request.
func (c *Store) GetRobot(ctx context.Context, name string) (store.Robot, error) {
	return byName(c, ctx, "robot", c.robots, name, c.Store.GetRobot)
}

// byName is a read of one row by name through m: from memory when ctx's
// request may use the entries, else from the store, kept when found.
func byName[R any](c *Store, ctx context.Context, kind string, m map[string]R, name string, read func(context.Context, string) (R, error)) (R, error) {
	gen, ok, err := c.view(ctx)
	if !ok {
		return read(ctx, name)
	}
	var zero R
	if err != nil {
		return zero, err
	}
	if gen != 0 {
		c.mu.Lock()
		row, hit := m[name]
		hit = hit && c.gen == gen
		c.mu.Unlock()
		if hit {
			c.stats.StoreRead(kind, true, 1)
			return row, nil
		}
	}
	c.stats.StoreRead(kind, false, 1)
	row, err := read(ctx, name)
	if err == nil && gen != 0 {
		c.mu.Lock()
		if c.gen == gen { // else read across a newer version: use it, keep it not
			c.room(1)
			m[name] = row
		}
		c.mu.Unlock()
	}
	return row, err
}

// ProjectAccess is store.Access.ProjectAccess, from memory within a
// request for the projects that exist.
func (c *Store) ProjectAccess(ctx context.Context, p store.Principal, projects []string) (map[string]store.ProjectAccess, error) {
	gen, ok, err := c.view(ctx)
	if !ok {
		return c.Store.ProjectAccess(ctx, p, projects)
	}
	if err != nil {
		return nil, err
	}
	if gen == 0 {
		c.stats.StoreRead("access", false, len(projects))
		return c.Store.ProjectAccess(ctx, p, projects)
	}
	key := accessKey{user: p.UserID, robot: p.RobotID, authenticated: p.Authenticated}
	if len(p.GroupDNs) > 0 {
		key.groups = strings.Join(p.GroupDNs, "\x00")
	}
	out := make(map[string]store.ProjectAccess, len(projects))
	var missing []string
	c.mu.Lock()
	if c.gen != gen {
		missing = projects
	} else {
		for _, name := range projects {
			key.project = name
			if pa, hit := c.access[key]; hit {
				out[name] = pa
			} else {
				missing = append(missing, name)
			}
		}
	}
	c.mu.Unlock()
	c.stats.StoreRead("access", true, len(projects)-len(missing))
	if len(missing) == 0 {
		return out, nil
	}
	c.stats.StoreRead("access", false, len(missing))
	got, err := c.Store.ProjectAccess(ctx, p, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.room(len(got))
		for name, pa := range got {
			key.project = name
			c.access[key] = pa
		}
	}
	c.mu.Unlock()
	for name, pa := range got {
		out[name] = pa
	}
	return out, nil
}

// room makes room for n more entries (c.mu held): past max, every entry
// goes.
func (c *Store) room(n int) {
	if len(c.users)+len(c.robots)+len(c.access)+n > c.max {
		c.drop()
	}
}

// drop forgets every entry (c.mu held).
func (c *Store) drop() {
	clear(c.users)
	clear(c.robots)
	clear(c.access)
}
