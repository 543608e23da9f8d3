package transformer

import (
	"slices"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// programCache is a bounded LRU of compiled script versions.
type programCache struct {
	lru *lru.Cache[scriptKey, *compiled]
}

func newProgramCache(max int) *programCache {
	c, err := lru.New[scriptKey, *compiled](max)
	if err != nil { // only for max <= 0, which setDefaults rules out
		panic("transformer: program cache: " + err.Error())
	}
	return &programCache{lru: c}
}

func (c *programCache) get(k scriptKey) *compiled {
	p, _ := c.lru.Get(k)
	return p
}

// add caches p for k. Two concurrent misses compile twice; the cache keeps
// one (the programs are equivalent).
func (c *programCache) add(k scriptKey, p *compiled) { c.lru.Add(k, p) }

func (c *programCache) len() int { return c.lru.Len() }

// runtimePool keeps idle runtimes per script version, which also means per
// tenant: a runtime only ever runs the one script it was loaded with. The
// total idle count is bounded; the least recently returned runtime, whatever
// its script, is dropped first.
//
// The LRU orders every idle runtime across scripts; byKey holds each
// script's idle runtimes, most recently returned last. Every removal, by get
// or by eviction, goes through the LRU, whose eviction callback keeps byKey
// in step.
type runtimePool struct {
	mu    sync.Mutex
	lru   *simplelru.LRU[*idleRuntime, struct{}]
	byKey map[scriptKey][]*idleRuntime
}

type idleRuntime struct {
	key scriptKey
	rt  *jsRuntime
}

func newRuntimePool(max int) *runtimePool {
	p := &runtimePool{byKey: make(map[scriptKey][]*idleRuntime)}
	l, err := simplelru.NewLRU(max, func(it *idleRuntime, _ struct{}) { p.forget(it) })
	if err != nil { // only for max <= 0, which setDefaults rules out
		panic("transformer: runtime pool: " + err.Error())
	}
	p.lru = l
	return p
}

// get takes an idle runtime for k, the most recently returned, or returns
// nil.
func (p *runtimePool) get(k scriptKey) *jsRuntime {
	p.mu.Lock()
	defer p.mu.Unlock()
	stack := p.byKey[k]
	if len(stack) == 0 {
		return nil
	}
	it := stack[len(stack)-1]
	p.lru.Remove(it)
	return it.rt
}

// put returns rt, loaded with k's script, to the pool.
func (p *runtimePool) put(k scriptKey, rt *jsRuntime) {
	p.mu.Lock()
	defer p.mu.Unlock()
	it := &idleRuntime{key: k, rt: rt}
	p.byKey[k] = append(p.byKey[k], it)
	p.lru.Add(it, struct{}{})
}

// forget drops it from byKey; the LRU calls it, under p.mu, for every
// runtime it removes.
func (p *runtimePool) forget(it *idleRuntime) {
	stack := slices.DeleteFunc(p.byKey[it.key], func(x *idleRuntime) bool { return x == it })
	if len(stack) == 0 {
		delete(p.byKey, it.key)
		return
	}
	p.byKey[it.key] = stack
}

// idle reports the idle runtimes held for k and in total.
func (p *runtimePool) idle(k scriptKey) (forKey, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byKey[k]), p.lru.Len()
}
