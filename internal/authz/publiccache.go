package authz

import (
	"context"
	"sync"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// PublicCache is a store.Access that answers the anonymous principal (no
// user, no robot, no group, not authenticated: anonymous requests only)
// from memory: what the store answered for each project
// name asked about (it exists, and is public, or does not exist), kept
// until the store's policy version (store.PolicyVersions) changes. The
// version is read at most once per every: a project created, deleted, or
// made public or private — by this process, another one or another replica
// — is honoured within every. Every other principal is passed to the store
// on every call: a member's roles are read as they are now.
//
// An Authorizer built on it decides exactly as on the store (the entry is
// the store's own answer, whatever fields store.ProjectAccess grows), only
// older by at most every. (Authenticated principals' answers are kept by
// internal/store/readcache, which reads the version on every request.)
type PublicCache struct {
	next     store.Access
	versions store.PolicyVersions
	every    time.Duration
	max      int
	now      func() time.Time

	mu      sync.Mutex
	checked time.Time // when the last version read started
	version int64
	gen     uint64 // bumped whenever entries are dropped for a new version
	entries map[string]publicEntry
}

type publicEntry struct {
	access store.ProjectAccess
	exists bool
}

// DefaultPublicCacheMax bounds the project names a PublicCache keeps
// (names that do not exist included); past it they are all dropped.
const DefaultPublicCacheMax = 10000

// NewPublicCache wraps next; versions tells it that projects changed
// (store.Store is both). every <= 0 disables the cache: every call goes
// to next.
func NewPublicCache(next store.Access, versions store.PolicyVersions, every time.Duration) *PublicCache {
	return &PublicCache{next: next, versions: versions, every: every, max: DefaultPublicCacheMax, now: time.Now,
		entries: map[string]publicEntry{}}
}

// ProjectAccess is store.Access.ProjectAccess, from memory for the
// anonymous principal.
func (c *PublicCache) ProjectAccess(ctx context.Context, p store.Principal, projects []string) (map[string]store.ProjectAccess, error) {
	if c.every <= 0 || p.UserID != 0 || p.RobotID != 0 || p.Authenticated || len(p.GroupDNs) > 0 {
		// Robots and signed-in callers have rules, internal projects
		// and roles of their own: read as they are now.
		return c.next.ProjectAccess(ctx, p, projects)
	}
	gen, err := c.fresh(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.ProjectAccess, len(projects))
	var missing []string
	c.mu.Lock()
	for _, name := range projects {
		e, ok := c.entries[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case e.exists:
			out[name] = e.access
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := c.next.ProjectAccess(ctx, p, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// An answer read before the entries were dropped for a new version
	// may be older than that version: use it, keep it not.
	if c.gen == gen {
		if len(c.entries)+len(missing) > c.max {
			clear(c.entries)
		}
		for _, name := range missing {
			pa, ok := got[name]
			c.entries[name] = publicEntry{access: pa, exists: ok}
		}
	}
	c.mu.Unlock()
	for name, pa := range got {
		out[name] = pa
	}
	return out, nil
}

// fresh reads the policy version when every has passed since the last
// read started, dropping every entry when it changed, and returns the
// generation of the entries that are current. A version that cannot be
// read is the store's error (503), never a stale answer.
func (c *PublicCache) fresh(ctx context.Context) (uint64, error) {
	now := c.now()
	c.mu.Lock()
	due, gen := now.Sub(c.checked) >= c.every, c.gen
	c.mu.Unlock()
	if !due {
		return gen, nil
	}
	v, err := c.versions.PolicyVersion(ctx)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Before(c.checked) { // a read that started later was applied
		return c.gen, nil
	}
	if v != c.version {
		c.version = v
		clear(c.entries)
		c.gen++
	}
	c.checked = now
	return c.gen, nil
}
