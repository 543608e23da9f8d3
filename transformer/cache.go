package transformer

import (
	"container/list"
	"sync"

	"github.com/dop251/goja"
)

// programCache is a bounded LRU of compiled script versions.
type programCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *programEntry, most recently used first
	byKey map[scriptKey]*list.Element
}

type programEntry struct {
	key  scriptKey
	prog *goja.Program
}

func newProgramCache(max int) *programCache {
	return &programCache{max: max, order: list.New(), byKey: make(map[scriptKey]*list.Element)}
}

func (c *programCache) get(k scriptKey) *goja.Program {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*programEntry).prog
}

func (c *programCache) add(k scriptKey, p *goja.Program) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.byKey[k] = c.order.PushFront(&programEntry{key: k, prog: p})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*programEntry).key)
	}
}

func (c *programCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// runtimePool keeps idle runtimes per script version, which also means per
// tenant: a runtime only ever runs the one script it was loaded with. The
// total idle count is bounded; the least recently returned runtime, whatever
// its script, is dropped first.
type runtimePool struct {
	mu    sync.Mutex
	max   int
	lru   *list.List // of *idleRuntime, most recently returned first
	byKey map[scriptKey]*list.List
}

type idleRuntime struct {
	key     scriptKey
	rt      *jsRuntime
	lruEl   *list.Element
	stackEl *list.Element
}

func newRuntimePool(max int) *runtimePool {
	return &runtimePool{max: max, lru: list.New(), byKey: make(map[scriptKey]*list.List)}
}

// get takes an idle runtime for k, or returns nil.
func (p *runtimePool) get(k scriptKey) *jsRuntime {
	p.mu.Lock()
	defer p.mu.Unlock()
	stack := p.byKey[k]
	if stack == nil {
		return nil
	}
	it := p.remove(stack.Front().Value.(*idleRuntime))
	return it.rt
}

// put returns rt, loaded with k's script, to the pool.
func (p *runtimePool) put(k scriptKey, rt *jsRuntime) {
	p.mu.Lock()
	defer p.mu.Unlock()
	stack := p.byKey[k]
	if stack == nil {
		stack = list.New()
		p.byKey[k] = stack
	}
	it := &idleRuntime{key: k, rt: rt}
	it.stackEl = stack.PushFront(it)
	it.lruEl = p.lru.PushFront(it)
	for p.lru.Len() > p.max {
		p.remove(p.lru.Back().Value.(*idleRuntime))
	}
}

func (p *runtimePool) remove(it *idleRuntime) *idleRuntime {
	p.lru.Remove(it.lruEl)
	stack := p.byKey[it.key]
	stack.Remove(it.stackEl)
	if stack.Len() == 0 {
		delete(p.byKey, it.key)
	}
	return it
}

// idle reports the idle runtimes held for k and in total.
func (p *runtimePool) idle(k scriptKey) (forKey, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.byKey[k]; s != nil {
		forKey = s.Len()
	}
	return forKey, p.lru.Len()
}
