package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoginCache(t *testing.T) {
	c, err := NewLoginCache[DirectoryUser](time.Minute, 2)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	c.SetNow(func() time.Time { return now })
	k := func(u, p string) CacheKey { return c.Key(u, p) }
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{name: "keys separate username from password", check: func(t *testing.T) {
			if k("ab", "c") == k("a", "bc") || k("a", "b") == k("a", "c") || k("a", "b") != k("a", "b") {
				t.Fatal("bad key derivation")
			}
			other, _ := NewLoginCache[DirectoryUser](time.Minute, 2)
			if other.Key("a", "b") == k("a", "b") {
				t.Fatal("two caches share a key: the HMAC key is not per cache")
			}
		}},
		{name: "hit until the ttl, miss after", check: func(t *testing.T) {
			c.Put(k("alice", "pw"), DirectoryUser{Name: "alice"})
			if u, ok := c.Get(k("alice", "pw")); !ok || u.Name != "alice" {
				t.Fatal("miss right after put")
			}
			if _, ok := c.Get(k("alice", "other")); ok {
				t.Fatal("hit with another password")
			}
			now = now.Add(time.Minute - time.Nanosecond)
			if _, ok := c.Get(k("alice", "pw")); !ok {
				t.Fatal("expired early")
			}
			now = now.Add(time.Nanosecond)
			if _, ok := c.Get(k("alice", "pw")); ok {
				t.Fatal("hit at the ttl")
			}
			if c.Len() != 0 {
				t.Fatalf("expired entry kept: %d entries", c.Len())
			}
		}},
		{name: "least recently used is evicted", check: func(t *testing.T) {
			c.Put(k("a", "1"), DirectoryUser{Name: "a"})
			c.Put(k("b", "1"), DirectoryUser{Name: "b"})
			c.Get(k("a", "1"))
			c.Put(k("c", "1"), DirectoryUser{Name: "c"})
			if _, ok := c.Get(k("b", "1")); ok {
				t.Error("b should have been evicted")
			}
			for _, u := range []string{"a", "c"} {
				if _, ok := c.Get(k(u, "1")); !ok {
					t.Errorf("%s evicted", u)
				}
			}
			if c.Len() != 2 {
				t.Errorf("%d entries, want the cap 2", c.Len())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

// TestLoginCacheKeyPooled: Key, which reuses its HMACs, gives the HMAC
// the type documents, from many goroutines at once.
func TestLoginCacheKeyPooled(t *testing.T) {
	c, err := NewLoginCache[DirectoryUser](time.Minute, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := func(u, p string) CacheKey {
		m := hmac.New(sha256.New, c.hmacKey)
		m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(u))))
		m.Write([]byte(u + p))
		return CacheKey(m.Sum(nil))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				u, p := fmt.Sprint("user", g, i%7), strings.Repeat("p", i%70)
				if c.Key(u, p) != want(u, p) {
					t.Errorf("Key(%q, %q) is not HMAC(len || user || password)", u, p)
					return
				}
			}
		})
	}
	wg.Wait()
}
