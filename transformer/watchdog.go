package transformer

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// heapMetric is the heap occupied by objects, live or not yet swept. Reading
// it does not stop the world, unlike runtime.ReadMemStats.
const heapMetric = "/memory/classes/heap/objects:bytes"

// watchInterval is how often the watchdog samples the heap while runs are in
// flight. A run allocating at full speed gains a few tens of MiB per interval.
const watchInterval = 5 * time.Millisecond

// heapWatchdog interrupts a run whose process heap growth passes a cap. goja
// does not account memory per runtime, so growth is measured process-wide from
// when the watchdog first saw the run; when several runs are over the cap the
// oldest is interrupted first (ordinary transforms finish in microseconds, so
// a long-lived, growing run is the likely bomb), and the watchdog waits for it
// to unwind before judging anyone else. The growth is the run's own only if
// no other run was in flight at any time during it (shared is false); Run
// re-runs a shared run alone before it blames it (see Engine.Run).
type heapWatchdog struct {
	limit int64

	mu      sync.Mutex
	runs    map[*watchedRun]struct{}
	running bool
	sample  []metrics.Sample
}

type watchedRun struct {
	vm      *goja.Runtime
	started time.Time
	base    uint64 // heap when the watchdog first saw the run; 0 until then
	killed  bool
	shared  bool // another run was in flight at some time during this one
}

func newHeapWatchdog(limit int64) *heapWatchdog {
	return &heapWatchdog{
		limit:  limit,
		runs:   make(map[*watchedRun]struct{}),
		sample: []metrics.Sample{{Name: heapMetric}},
	}
}

// enter registers a run, starting the sampling goroutine if it is idle.
func (w *heapWatchdog) enter(vm *goja.Runtime) *watchedRun {
	if w.limit < 0 {
		return nil
	}
	r := &watchedRun{vm: vm, started: time.Now()}
	w.mu.Lock()
	for o := range w.runs {
		o.shared, r.shared = true, true
	}
	w.runs[r] = struct{}{}
	if !w.running {
		w.running = true
		go w.loop()
	}
	w.mu.Unlock()
	return r
}

// leave unregisters a run and reports whether the watchdog interrupted it,
// and whether another run was in flight at some time during it. After leave
// returns the watchdog no longer touches the run's vm.
func (w *heapWatchdog) leave(r *watchedRun) (killed, shared bool) {
	if r == nil {
		return false, false
	}
	w.mu.Lock()
	delete(w.runs, r)
	killed, shared = r.killed, r.shared
	w.mu.Unlock()
	return killed, shared
}

// collectAfterKill frees what a killed run allocated, so the next runs (and
// a re-run alone) start from a true heap. The caller has dropped the run's
// runtime.
func collectAfterKill() { runtime.GC() }

func (w *heapWatchdog) loop() {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for range t.C {
		if !w.tick() {
			return
		}
	}
}

// tick samples the heap once; it returns false, and marks the watchdog idle,
// when no run is in flight.
func (w *heapWatchdog) tick() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.runs) == 0 {
		w.running = false
		return false
	}
	metrics.Read(w.sample)
	if w.sample[0].Value.Kind() != metrics.KindUint64 {
		return true
	}
	heap := w.sample[0].Value.Uint64()
	var victim *watchedRun
	for r := range w.runs {
		if r.killed {
			return true // still unwinding; its memory is not freed yet
		}
		if r.base == 0 {
			r.base = heap
			continue
		}
		if heap > r.base && int64(heap-r.base) > w.limit && (victim == nil || r.started.Before(victim.started)) {
			victim = r
		}
	}
	if victim != nil {
		victim.killed = true
		victim.vm.Interrupt(interruptMemory)
	}
	return true
}
