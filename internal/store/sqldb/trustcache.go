package sqldb

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/authserver/authserver/internal/store"
)

// condCache remembers decoded trust-policy conditions by their stored JSON
// text, so a federated robot's every login reads its row but decodes the
// conditions once. Keyed by the text itself, an entry can never be stale:
// a changed policy is a different key. Bounded: when full it starts over.
type condCache struct {
	mu sync.Mutex
	m  map[string][]store.ClaimCondition
}

const condCacheMax = 4096

// decode returns the conditions of text, a copy the caller may keep.
func (c *condCache) decode(text string) ([]store.ClaimCondition, error) {
	c.mu.Lock()
	conds, ok := c.m[text]
	c.mu.Unlock()
	if ok {
		return slices.Clone(conds), nil
	}
	if err := json.Unmarshal([]byte(text), &conds); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= condCacheMax {
		c.m = make(map[string][]store.ClaimCondition)
	}
	c.m[text] = conds
	c.mu.Unlock()
	return slices.Clone(conds), nil
}
