package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/store"
)

// sourceCache keeps recently used sources (with their opened secrets and
// their built verifier) for a few seconds, so the receiver's hot path costs
// one Redis round trip fewer and no config decoding.
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
	ready   receivable
	expires time.Time
}

// receivable is a source ready to verify webhooks. problem is set instead of
// verifier when the stored source cannot verify anything (an unknown kind or
// a config its kind refuses): a fault of the source, not of the request.
type receivable struct {
	src      store.Source
	verifier inbound.Verifier
	problem  string
}

func prepare(src store.Source) receivable {
	kind, ok := inbound.Lookup(src.Kind)
	if !ok {
		return receivable{src: src, problem: "source kind " + src.Kind + " is not supported"}
	}
	v, err := kind.New(src.Config)
	if err != nil {
		return receivable{src: src, problem: "source config is invalid: " + err.Error()}
	}
	return receivable{src: src, verifier: v}
}

func newSourceCache(ttl time.Duration, max int) *sourceCache {
	return &sourceCache{ttl: ttl, max: max, entries: make(map[string]cachedSource)}
}

// get returns the source ready to verify, from the cache or the store.
// Storage errors (including not found) are never cached, so a new source is
// usable at once.
func (c *sourceCache) get(ctx context.Context, st *store.Store, id string, now time.Time) (receivable, error) {
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.entries[id]
		c.mu.Unlock()
		if ok && now.Before(e.expires) {
			return e.ready, nil
		}
	}
	src, err := st.GetSource(ctx, "", id)
	if err != nil {
		return receivable{}, err
	}
	ready := prepare(src)
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.entries) >= c.max {
			clear(c.entries) // crude but bounded; the next requests refill it
		}
		c.entries[id] = cachedSource{ready: ready, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return ready, nil
}

// forget drops a source after the API changed it in this process.
func (c *sourceCache) forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
