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
}

type tenantSlots struct {
	slots chan struct{}
	users int // holders and waiters; the entry is dropped at zero
}

func newSlotPool(size, perTenant int) *slotPool {
	return &slotPool{slots: make(chan struct{}, size), perTenant: perTenant, tenants: make(map[string]*tenantSlots)}
}

// acquire waits for one of tenant's slots, then one of the pool's, honouring
// ctx, and returns the function that gives both back.
func (p *slotPool) acquire(ctx context.Context, tenant string) (release func(), err error) {
	p.mu.Lock()
	ts := p.tenants[tenant]
	if ts == nil {
		ts = &tenantSlots{slots: make(chan struct{}, p.perTenant)}
		p.tenants[tenant] = ts
	}
	ts.users++
	p.mu.Unlock()
	done := func() {
		p.mu.Lock()
		if ts.users--; ts.users == 0 {
			delete(p.tenants, tenant)
		}
		p.mu.Unlock()
	}
	select {
	case ts.slots <- struct{}{}:
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		<-ts.slots
		done()
		return nil, ctx.Err()
	}
	return func() {
		<-p.slots
		<-ts.slots
		done()
	}, nil
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
