package transformer

import (
	"context"
	"sync"
)

// previewKey marks a context as a preview run's (see AsPreview).
type previewKey struct{}

// AsPreview marks ctx as a preview: a merchant testing a script, not a
// delivery. Run gives previews their own pool of run slots
// (Options.PreviewConcurrency), so a tenant testing scripts in a loop never
// delays anyone's deliveries, and the other way round.
func AsPreview(ctx context.Context) context.Context {
	return context.WithValue(ctx, previewKey{}, true)
}

func isPreview(ctx context.Context) bool {
	v, _ := ctx.Value(previewKey{}).(bool)
	return v
}

// slotPool is a set of run slots, shared fairly between tenants: a tenant
// first takes one of its own perTenant slots, and only then one of the
// pool's. A tenant's excess runs therefore queue on the tenant's own
// semaphore, never in front of another tenant's runs, and while perTenant is
// below the pool's size a slot is always left for someone else.
type slotPool struct {
	slots     chan struct{}
	perTenant int

	mu      sync.Mutex
	tenants map[string]*tenantSlots
	spare   []*tenantSlots // dropped entries, kept for reuse (their slots are empty)
}

// maxSpareTenants bounds slotPool.spare.
const maxSpareTenants = 16

type tenantSlots struct {
	tenant string
	slots  chan struct{}
	users  int // holders and waiters; the entry is dropped at zero
}

func newSlotPool(size, perTenant int) *slotPool {
	return &slotPool{slots: make(chan struct{}, size), perTenant: perTenant, tenants: make(map[string]*tenantSlots)}
}

// acquire waits for one of tenant's slots, then one of the pool's, honouring
// ctx. The caller gives both back with release(held).
func (p *slotPool) acquire(ctx context.Context, tenant string) (held *tenantSlots, err error) {
	p.mu.Lock()
	ts := p.tenants[tenant]
	if ts == nil {
		if n := len(p.spare); n > 0 {
			ts, p.spare = p.spare[n-1], p.spare[:n-1]
		} else {
			ts = &tenantSlots{slots: make(chan struct{}, p.perTenant)}
		}
		ts.tenant = tenant
		p.tenants[tenant] = ts
	}
	ts.users++
	p.mu.Unlock()
	select {
	case ts.slots <- struct{}{}:
	case <-ctx.Done():
		p.leave(ts)
		return nil, ctx.Err()
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		<-ts.slots
		p.leave(ts)
		return nil, ctx.Err()
	}
	return ts, nil
}

// release gives back the slots acquire took.
func (p *slotPool) release(ts *tenantSlots) {
	<-p.slots
	<-ts.slots
	p.leave(ts)
}

// leave drops a holder or waiter of ts, and ts itself with the last one.
func (p *slotPool) leave(ts *tenantSlots) {
	p.mu.Lock()
	if ts.users--; ts.users == 0 {
		delete(p.tenants, ts.tenant)
		if len(p.spare) < maxSpareTenants {
			p.spare = append(p.spare, ts) // no users: its slots are empty
		}
	}
	p.mu.Unlock()
}

// inUse reports the pool's slots in use, and those of tenant.
func (p *slotPool) inUse(tenant string) (total, forTenant int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ts := p.tenants[tenant]; ts != nil {
		forTenant = len(ts.slots)
	}
	return len(p.slots), forTenant
}
