package transformer

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

const spin = `function handler(w) { for (;;) {} }`

// startRuns starts n runs of s under ctx and returns the channel their
// errors arrive on.
func startRuns(ctx context.Context, e *Engine, s Script, n int) <-chan error {
	out := make(chan error, n)
	for range n {
		go func() {
			_, err := e.Run(ctx, s, simpleInput(`{}`))
			out <- err
		}()
	}
	return out
}

// stopRuns cancels the runs started under cancel and checks each ended as
// a cancellation (not a timeout, not a result).
func stopRuns(t *testing.T, cancel context.CancelFunc, errs <-chan error, n int) {
	t.Helper()
	cancel()
	for range n {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("a saturating run ended with %v, want a cancellation", err)
		}
	}
}

// noneFinished asserts no run of errs has ended yet.
func noneFinished(t *testing.T, errs <-chan error, what string) {
	t.Helper()
	select {
	case err := <-errs:
		t.Fatalf("%s: one of the saturating runs already ended (%v): the other tenant waited for it", what, err)
	default:
	}
}

// One tenant flooding its runs with infinite loops holds at most its share
// of the slots; another tenant's run goes ahead while all of the first
// tenant's runs are still blocked.
func TestTenantCannotTakeEverySlot(t *testing.T) {
	e := New(Options{Concurrency: 2, Timeout: 3 * time.Second})
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	const n = 12
	errsA := startRuns(ctxA, e, Script{TenantID: "tenant_a", Code: spin}, n)
	waitFor(t, func() bool { _, a := e.deliveries.inUse("tenant_a"); return a == 1 })

	ctxB, cancelB := context.WithTimeout(context.Background(), 20*time.Second) // a guard, not a measure
	defer cancelB()
	res, err := e.Run(ctxB, Script{TenantID: "tenant_b", Code: identity}, simpleInput(`{"b":1}`))
	if err != nil || string(res.Payload) != `{"b":1}` {
		t.Fatalf("tenant B: %v %s", err, res.Payload)
	}
	noneFinished(t, errsA, "tenant B's run")
	if total, a := e.deliveries.inUse("tenant_a"); a != 1 || total != 1 {
		t.Errorf("slots in use %d, tenant A's %d; want 1 and 1 (the default cap is half of 2 slots)", total, a)
	}
	stopRuns(t, cancelA, errsA, n)
}

// MaxTenantRuns sets the per-tenant cap.
func TestMaxTenantRuns(t *testing.T) {
	e := New(Options{Concurrency: 6, MaxTenantRuns: 2, Timeout: 3 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := startRuns(ctx, e, Script{TenantID: "tenant_a", Code: spin}, 5)
	waitFor(t, func() bool { _, a := e.deliveries.inUse("tenant_a"); return a == 2 })
	if _, err := e.Run(ctx, Script{TenantID: "tenant_b", Code: identity}, simpleInput(`{}`)); err != nil {
		t.Fatalf("tenant B: %v", err)
	}
	// The other three wait on the tenant's own slots, not on the pool's.
	if total, a := e.deliveries.inUse("tenant_a"); total != 2 || a != 2 {
		t.Fatalf("slots in use %d, tenant A's %d; want 2 and 2", total, a)
	}
	noneFinished(t, errs, "tenant B's run")
	stopRuns(t, cancel, errs, 5)
}

// Previews (AsPreview) have their own slots: a flood of hanging previews,
// from several tenants, delays no delivery, not even the flooding tenant's
// own, and a flood of deliveries delays no preview.
func TestPreviewsHaveTheirOwnSlots(t *testing.T) {
	e := New(Options{Concurrency: 2, PreviewConcurrency: 2, Timeout: 3 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	previewCtx := AsPreview(ctx)
	errs := startRuns(previewCtx, e, Script{TenantID: "tenant_a", Code: spin}, 4)
	errsC := startRuns(previewCtx, e, Script{TenantID: "tenant_c", Code: spin}, 4)
	waitFor(t, func() bool { total, _ := e.previews.inUse(""); return total == 2 })

	guard, cancelGuard := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancelGuard()
	if _, err := e.Run(guard, Script{TenantID: "tenant_a", Code: identity}, simpleInput(`{}`)); err != nil {
		t.Fatalf("tenant A's delivery: %v", err)
	}
	noneFinished(t, errs, "tenant A's delivery")
	noneFinished(t, errsC, "tenant A's delivery")
	if total, _ := e.deliveries.inUse(""); total != 0 {
		t.Errorf("previews took %d delivery slots", total)
	}
	stopRuns(t, cancel, errs, 4)
	stopRuns(t, cancel, errsC, 4)

	// And the other way round.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	errs = startRuns(ctx2, e, Script{TenantID: "tenant_a", Code: spin}, 4)
	errsC = startRuns(ctx2, e, Script{TenantID: "tenant_c", Code: spin}, 4)
	waitFor(t, func() bool { total, _ := e.deliveries.inUse(""); return total == 2 })
	if _, err := e.Run(AsPreview(guard), Script{TenantID: "tenant_b", Code: identity}, simpleInput(`{}`)); err != nil {
		t.Fatalf("tenant B's preview: %v", err)
	}
	noneFinished(t, errs, "tenant B's preview")
	noneFinished(t, errsC, "tenant B's preview")
	stopRuns(t, cancel2, errs, 4)
	stopRuns(t, cancel2, errsC, 4)
}

// A run that does not allocate keeps its result while another tenant's
// allocation bomb runs beside it; the bomb, and only the bomb, gets the
// permanent memory fault.
func TestMemoryIsChargedToTheRunThatAllocates(t *testing.T) {
	var attempts atomic.Int32
	var killed atomic.Bool // the watchdog has interrupted some run
	e := New(Options{Concurrency: 4, Timeout: 3 * time.Second, MaxHeapGrowth: 8 << 20,
		Helpers: map[string]any{
			"attempt":    func() int32 { return attempts.Add(1) },
			"someKilled": killed.Load,
		}})
	// The quiet run allocates nothing. Its first attempt spins until the
	// watchdog has interrupted a run, so it is surely in flight, and the
	// oldest run, when the bomb passes the cap: the run a process-wide
	// watchdog blames.
	quiet := Script{TenantID: "tenant_b", Code: `function handler(w) {
  const n = attempt();
  while (n === 1 && !someKilled()) {}
  w.payload = 'done';
  return w;
}`}
	bomb := Script{TenantID: "tenant_a", Code: `function handler(w) {
  const a = [];
  while (w.payload.bomb) a.push('x'.repeat(1 << 20) + a.length);
  return w;
}`}
	mustRun(t, e, bomb.Code, simpleInput(`{"bomb":false}`)) // compiled and pooled: starting it allocates little
	runs := func() (n int, quietBase uint64) {
		e.watch.mu.Lock()
		defer e.watch.mu.Unlock()
		for r := range e.watch.runs {
			n, quietBase = n+1, r.base
			killed.CompareAndSwap(false, r.killed)
		}
		return n, quietBase
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				runs()
			}
		}
	}()

	rss := peakRSS()
	runtime.GC()
	type outcome struct {
		res Result
		err error
	}
	quietDone := make(chan outcome, 1)
	go func() {
		res, err := e.Run(context.Background(), quiet, simpleInput(`{}`))
		quietDone <- outcome{res, err}
	}()
	// The quiet run's heap base is taken before the bomb starts.
	waitFor(t, func() bool { n, base := runs(); return n == 1 && base != 0 })
	_, bombErr := e.Run(context.Background(), Script{TenantID: "tenant_a", Code: bomb.Code}, simpleInput(`{"bomb":true}`))
	q := <-quietDone

	var se *Error
	if !errors.As(bombErr, &se) || (se.Kind != KindLimit && se.Kind != KindTimeout) {
		// Under -race the bomb may reach its time limit before the cap.
		t.Errorf("the bomb got %v, want the memory limit", bombErr)
	}
	var qe *Error
	switch {
	case errors.As(q.err, &qe):
		t.Errorf("the quiet run got a script fault: %v", qe)
	case q.err != nil && !IsTransient(q.err):
		t.Errorf("the quiet run got %v, want its result or a transient error", q.err)
	case q.err == nil && string(q.res.Payload) != `"done"`:
		t.Errorf("the quiet run returned %s", q.res.Payload)
	}
	// attempts 2: the watchdog interrupted the quiet run and it was re-run
	// alone; 1: the watchdog interrupted the bomb first.
	t.Logf("bomb: %v; quiet run: %v %s after %d attempts; peak RSS %d MiB (was %d MiB)", se, q.err, q.res.Payload, attempts.Load(), peakRSS()>>20, rss>>20)
	stillWorks(t, e)
}

// A suspect that cannot get the engine to itself before its context ends
// gets a transient error, never a script fault: the delivery retries.
func TestSuspectNotReRunIsTransient(t *testing.T) {
	e := New(Options{})
	if err := e.alone.Acquire(context.Background(), 1); err != nil { // a run in flight
		t.Fatal(err)
	}
	defer e.alone.Release(1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := e.runScript(ctx, Script{TenantID: "tenant_b", Code: identity}, simpleInput(`{}`), soloWeight)
	var se *Error
	if !IsTransient(err) || errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a *TransientError wrapping the deadline, got %v", err)
	}
}

// The pools' defaults: previews get max(2, Concurrency/2) slots, and a
// tenant half of each pool, at least one.
func TestFairnessDefaults(t *testing.T) {
	for _, c := range []struct{ conc, previews, tenantDeliveries, tenantPreviews int }{
		{1, 2, 1, 1}, {2, 2, 1, 1}, {8, 4, 4, 2},
	} {
		e := New(Options{Concurrency: c.conc})
		if got := []int{cap(e.previews.slots), e.deliveries.perTenant, e.previews.perTenant}; got[0] != c.previews ||
			got[1] != c.tenantDeliveries || got[2] != c.tenantPreviews {
			t.Errorf("Concurrency %d: previews, tenant caps %v; want %d %d %d", c.conc, got, c.previews, c.tenantDeliveries, c.tenantPreviews)
		}
	}
}
