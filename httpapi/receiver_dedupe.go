package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/hookshift/hookshift/store"
)

// markerBatch group-commits the receiver's dedupe-marker checks: checks
// queued together share one pipelined round trip (store.SeenMany), and each
// is answered when that round trip is back. A sender goroutine runs only
// while webhooks arrive: the first check queued with no sender starts one,
// which sends batch after batch and exits once nothing has been queued for
// markerLinger (so a steady stream reuses one goroutine and its grown stack,
// and an idle receiver, or a test's, keeps none).
//
// A request queues its check, enqueues its task meanwhile, then waits for
// the check (see accept): the marker costs no round trip of its own in a
// webhook's latency, and a fraction of one in CPU and system calls when
// requests arrive together.
type markerBatch struct {
	mu      sync.Mutex
	sending bool
	queued  []*markerCheck
	wake    chan struct{} // a check was queued while the sender waits; buffered 1
}

// markerLinger is how long an idle sender waits for the next check.
const markerLinger = 100 * time.Millisecond

// markerCheck is one event id's check; done is closed once seen/err are set.
type markerCheck struct {
	id   string
	seen bool
	err  error
	done chan struct{}
}

// maxMarkerBatch bounds one pipeline; the rest go in the next.
const maxMarkerBatch = 256

// start queues eventID's check and returns it; wait for the answer with
// check.wait. timeout bounds each batch on its own, so that no request's
// cancelled context fails the checks of others in its batch.
func (b *markerBatch) start(st *store.Store, eventID string, timeout time.Duration) *markerCheck {
	c := &markerCheck{id: eventID, done: make(chan struct{})}
	b.mu.Lock()
	if b.wake == nil {
		b.wake = make(chan struct{}, 1)
	}
	b.queued = append(b.queued, c)
	spawn := !b.sending
	b.sending = true
	b.mu.Unlock()
	if spawn {
		go b.send(st, timeout)
	} else {
		select {
		case b.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	return c
}

// wait returns the check's answer, or ctx's error if ctx ends first.
func (c *markerCheck) wait(ctx context.Context) (bool, error) {
	select {
	case <-c.done:
		return c.seen, c.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// send answers queued checks, up to maxMarkerBatch per round trip, until
// none has been queued for markerLinger.
func (b *markerBatch) send(st *store.Store, timeout time.Duration) {
	var ids []string
	idle := time.NewTimer(markerLinger)
	defer idle.Stop()
	for {
		b.mu.Lock()
		n := min(len(b.queued), maxMarkerBatch)
		if n == 0 {
			b.queued = b.queued[:0]
			b.mu.Unlock()
			idle.Reset(markerLinger)
			select {
			case <-b.wake:
				continue
			case <-idle.C:
			}
			b.mu.Lock()
			if len(b.queued) == 0 { // else a check came in as the timer fired
				b.sending, b.queued = false, nil
				b.mu.Unlock()
				return
			}
			b.mu.Unlock()
			continue
		}
		batch := b.queued[:n:n]
		b.queued = b.queued[n:]
		b.mu.Unlock()

		ids = ids[:0]
		for _, c := range batch {
			ids = append(ids, c.id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		seen, err := st.SeenMany(ctx, ids)
		cancel()
		for i, c := range batch {
			if err != nil {
				c.err = err
			} else {
				c.seen = seen[i]
			}
			close(c.done)
		}
	}
}
