package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/hookshift/hookshift/store"
)

// sourceCache keeps recently used sources (with their opened secrets) for a
// few seconds, so the receiver's hot path costs one Redis round trip fewer.
// Staleness is bounded by the TTL: a rotation keeps the old secret valid for
// 24 hours, and a deleted source accepts events for at most the TTL (they
// fan out to no destination).
type sourceCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]cachedSource
}

type cachedSource struct {
	src     store.Source
	expires time.Time
}

func newSourceCache(ttl time.Duration, max int) *sourceCache {
	return &sourceCache{ttl: ttl, max: max, entries: make(map[string]cachedSource)}
}

// get returns the source, from the cache or the store. Errors (including
// not found) are never cached, so a new source is usable at once.
func (c *sourceCache) get(ctx context.Context, st *store.Store, id string, now time.Time) (store.Source, error) {
	if c.ttl <= 0 {
		return st.GetSource(ctx, "", id)
	}
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.src, nil
	}
	src, err := st.GetSource(ctx, "", id)
	if err != nil {
		return src, err
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		clear(c.entries) // crude but bounded; the next requests refill it
	}
	c.entries[id] = cachedSource{src: src, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return src, nil
}

// forget drops a source after the API changed it in this process.
func (c *sourceCache) forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
