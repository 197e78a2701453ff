package secret

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// Local checks users created with `authserver user add` against their bcrypt
// hash in the store.
//
// With a credential cache (SetCache), a verified login is remembered for
// its TTL as HMAC(username, password) → the bcrypt hash it matched. A
// later login with the same username and password still reads the user
// (the one indexed query a login needs anyway) and skips bcrypt only when
// the stored hash is still the one verified and the user is still enabled.
// So a password change, disable or delete — by this process or any other,
// e.g. the CLI — takes effect on the very next request; the TTL only bounds
// how long a login is remembered.
type Local struct {
	users store.Users
	// dummy is compared against when the user is unknown, disabled or not
	// local, so the response time does not reveal which names exist.
	dummy *authn.Dummy
	cache *authn.LoginCache[string] // nil: every login runs bcrypt
	stats CacheStats
	cost  int // bcrypt cost of new hashes (an imported Harbor hash is replaced at the first login)
	// harborUntil, when set, is when imported Harbor hashes stop logging
	// in (SetHarborHashesUntil); now is the clock that decides it.
	harborUntil time.Time
	now         func() time.Time
}

// CacheStats receives credential-cache hits and misses (a *metrics.Metrics
// satisfies it); nil records nothing.
type CacheStats interface {
	Cache(cache string, hit bool)
}

// SetCache turns on the verified-credential cache: ttl 0 leaves it off.
func (l *Local) SetCache(ttl time.Duration, max int, stats CacheStats) error {
	l.stats = stats
	if ttl <= 0 || max <= 0 {
		l.cache = nil
		return nil
	}
	c, err := authn.NewLoginCache[string](ttl, max)
	if err != nil {
		return err
	}
	l.cache = c
	return nil
}

func (l *Local) record(hit bool) {
	if l.stats != nil {
		l.stats.Cache("local", hit)
	}
}

var _ authn.PasswordAuthenticator = (*Local)(nil)

// NewLocal returns a Local authenticator. cost is the bcrypt cost new
// hashes use; the dummy hash is made with the same cost so timing matches.
func NewLocal(users store.Users, cost int) (*Local, error) {
	dummy, err := authn.NewDummy(cost)
	if err != nil {
		return nil, fmt.Errorf("local authenticator: %w", err)
	}
	return &Local{users: users, dummy: dummy, cost: cost}, nil
}

// Dummy is the dummy comparison shared by the authenticators in front of l.
func (l *Local) Dummy() *authn.Dummy { return l.dummy }

// Login implements PasswordAuthenticator. A login the cache does not
// answer is a slow check (slowCheck): it takes a slot before bcrypt (or
// the dummy comparison, or Harbor's PBKDF2), and looks in the cache once
// more when it got one, since an identical login may have been verified
// while it waited.
func (l *Local) Login(ctx context.Context, username, password string) (authn.Identity, bool, error) {
	if username == "" || password == "" {
		return authn.Identity{}, false, nil
	}
	u, err := l.users.GetUser(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return l.refuse(ctx, password)
	}
	if err != nil {
		return authn.Identity{}, false, fmt.Errorf("local login: %w: %w", authn.ErrUnavailable, err)
	}
	var key authn.CacheKey
	if l.cache != nil {
		key = l.cache.Key(username, password)
		if id, ok := l.cached(u, key); ok {
			l.record(true)
			return id, true, nil
		}
		l.record(false)
	}
	if err := authn.SlowCheck(ctx); err != nil {
		return authn.Identity{}, false, err
	}
	if l.cache != nil {
		if id, ok := l.cached(u, key); ok {
			return id, true, nil
		}
	}
	if u.Source != store.SourceLocal || u.PasswordHash == "" {
		return l.refuse(ctx, password)
	}
	if IsHarborHash(u.PasswordHash) {
		return l.loginHarbor(ctx, u, password, key)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil || u.Disabled {
		return authn.Identity{}, false, nil
	}
	if l.cache != nil {
		l.cache.Put(key, u.PasswordHash)
	}
	return authn.Identity{UserID: u.ID, Name: u.Name, Admin: u.Admin, Method: authn.MethodPassword, Conditions: authn.UserCondition(u)}, true, nil
}

// cached answers a login from the cache: only while u, just read, still
// has the hash the cached password was verified against and may log in.
func (l *Local) cached(u store.User, key authn.CacheKey) (authn.Identity, bool) {
	verified, ok := l.cache.Get(key)
	if !ok {
		return authn.Identity{}, false
	}
	if verified == u.PasswordHash && !u.Disabled && u.Source == store.SourceLocal {
		return authn.Identity{UserID: u.ID, Name: u.Name, Admin: u.Admin, Method: authn.MethodPassword, Conditions: authn.UserCondition(u)}, true
	}
	l.cache.Drop(key) // password changed, disabled, or no longer local
	return authn.Identity{}, false
}

// refuse runs the dummy comparison of a refusal that reached no real hash.
func (l *Local) refuse(ctx context.Context, password string) (authn.Identity, bool, error) {
	return authn.Identity{}, false, l.dummy.Compare(ctx, password)
}

// SetHarborHashesUntil stops imported Harbor password hashes from logging
// in after until (import.harbor_hashes_until; zero: they always do). A
// user still on a Harbor hash after it has never logged in since the
// import and must have the password reset.
func (l *Local) SetHarborHashesUntil(until time.Time, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	l.harborUntil, l.now = until, now
}

// loginHarbor checks a password against an imported Harbor hash and, when
// it matches, replaces that hash with bcrypt at the configured cost.
func (l *Local) loginHarbor(ctx context.Context, u store.User, password string, key authn.CacheKey) (authn.Identity, bool, error) {
	if !l.harborUntil.IsZero() && l.now().After(l.harborUntil) {
		// Past import.harbor_hashes_until: refused like a wrong password
		// (one dummy bcrypt), so the answer does not tell who is left.
		return l.refuse(ctx, password)
	}
	if !verifyHarbor(u.PasswordHash, password) || u.Disabled {
		// PBKDF2 at 4,096 rounds takes a millisecond: a refusal costs one
		// bcrypt like every other refusal.
		return l.refuse(ctx, password)
	}
	verified := u.PasswordHash
	if h, ok := l.rehash(ctx, u, password); ok {
		verified = h
	}
	if l.cache != nil {
		l.cache.Put(key, verified)
	}
	return authn.Identity{UserID: u.ID, Name: u.Name, Admin: u.Admin, Method: authn.MethodPassword, Conditions: authn.UserCondition(u)}, true, nil
}

// errStaleHash stops a rehash whose user no longer has the hash verified.
var errStaleHash = errors.New("password hash changed meanwhile")

// rehash writes the bcrypt hash of a password just verified against u's
// Harbor hash, only if the user still has that hash: a concurrent login
// that rehashed first, or a password change, wins and nothing is written.
// So exactly one write replaces the Harbor hash. The same password in
// another form revokes nothing (revocation is admin's, for a password
// someone set). The new hash is made before the write, so no bcrypt runs
// while the row is locked. A failure (a password bcrypt cannot take, a
// store error) keeps the Harbor hash: the login stands and the next one
// tries again.
func (l *Local) rehash(ctx context.Context, u store.User, password string) (string, bool) {
	h, err := HashPassword(password, l.cost)
	if err != nil {
		return "", false
	}
	_, err = l.users.ModifyUser(ctx, u.Name, func(cur store.User) (store.User, error) {
		if cur.PasswordHash != u.PasswordHash {
			return cur, errStaleHash
		}
		cur.PasswordHash = h
		return cur, nil
	})
	return h, err == nil
}

// HashPassword returns the bcrypt hash of a new password. It refuses an
// empty password and one longer than bcrypt's 72-byte limit, rather than
// silently truncating it.
func HashPassword(password string, cost int) (string, error) {
	if password == "" {
		return "", errors.New("password must not be empty")
	}
	if len(password) > 72 {
		return "", errors.New("password longer than 72 bytes (bcrypt's limit)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}
