package authn

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"
	"time"
)

// LoginCacheSize bounds the entries of one cache; the least recently used
// entry is dropped first.
const LoginCacheSize = 10000

// CacheKey is HMAC-SHA256(per-process key, len(username) || username ||
// password): the cache holds neither the password nor a hash an attacker
// could test guesses against without the in-memory key.
type CacheKey [sha256.Size]byte

// LoginCache remembers verified logins for ttl: the LDAP authenticator
// keeps the directory user and groups, the local one the password hash it
// verified. Only successes are stored, so a wrong password always reaches
// the backend, and a removed group membership shows once the entry expires.
type LoginCache[V any] struct {
	hmacKey []byte
	macs    sync.Pool // of *keyMAC: Key runs on every cached login
	ttl     time.Duration
	max     int
	now     func() time.Time

	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recently used first
	byKey map[CacheKey]*list.Element
}

type cacheEntry[V any] struct {
	key     CacheKey
	user    V
	expires time.Time
}

// NewLoginCache returns an empty cache of at most max entries, each kept for ttl.
func NewLoginCache[V any](ttl time.Duration, max int) (*LoginCache[V], error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("login cache key: %w", err)
	}
	return &LoginCache[V]{hmacKey: k, ttl: ttl, max: max, now: time.Now,
		order: list.New(), byKey: map[CacheKey]*list.Element{}}, nil
}

// keyMAC is an HMAC keyed with the cache's key and a buffer for its
// input, reused from one Key to the next.
type keyMAC struct {
	mac hash.Hash
	buf []byte
	sum CacheKey
}

// Key derives the cache key of a username and password.
func (c *LoginCache[V]) Key(username, password string) CacheKey {
	m, _ := c.macs.Get().(*keyMAC)
	if m == nil {
		m = &keyMAC{mac: hmac.New(sha256.New, c.hmacKey)}
	}
	m.buf = binary.BigEndian.AppendUint64(m.buf[:0], uint64(len(username)))
	m.buf = append(append(m.buf, username...), password...)
	m.mac.Reset()
	m.mac.Write(m.buf)
	m.mac.Sum(m.sum[:0])
	k := m.sum
	clear(m.buf) // the password does not stay in the pool
	c.macs.Put(m)
	return k
}

// Get returns the unexpired entry for k.
func (c *LoginCache[V]) Get(k CacheKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.byKey[k]
	if !ok {
		return zero, false
	}
	e := el.Value.(*cacheEntry[V])
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.byKey, k)
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.user, true
}

// Put stores u under k for ttl, evicting the least recently used entry
// when full.
func (c *LoginCache[V]) Put(k CacheKey, u V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &cacheEntry[V]{key: k, user: u, expires: c.now().Add(c.ttl)}
	if el, ok := c.byKey[k]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.byKey[k] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry[V]).key)
	}
}

// Drop forgets k.
func (c *LoginCache[V]) Drop(k CacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		c.order.Remove(el)
		delete(c.byKey, k)
	}
}

// Len is the number of entries (expired ones included until touched).
func (c *LoginCache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// SetNow replaces the clock (tests).
func (c *LoginCache[V]) SetNow(now func() time.Time) { c.now = now }
