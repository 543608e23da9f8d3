package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/store"
)

// The receiver's enqueue, group-committed: requests that arrive together
// share one pipelined round trip that enqueues all their ingest tasks (one
// script call, enqueue.go) and checks all their dedupe markers, and each
// request is answered only once that round trip is back. asynq's client
// takes one script call and one round trip per task, which was a third of
// the receiver's CPU (system calls, mostly) and most of Redis's.

// IngestResult is one request's answer from the group commit.
type IngestResult struct {
	// Queued: a task with the event's id was already queued (a duplicate
	// that has not been fanned out yet); this request's task was not added.
	Queued bool
	// Seen: the event's dedupe marker exists (fanned out already). A task
	// this request added all the same is a late duplicate the fan-out drops.
	Seen bool
	// SeenErr is why the marker could not be read; the enqueue stands.
	SeenErr error
}

// IngestBatcher makes accepted events durable for the receiver, as ingest
// tasks whose TaskID is the event id (so a duplicate still queued is
// refused atomically by Redis), group-committed. A sender goroutine runs only while webhooks arrive: the first request with
// no sender starts one, which sends batch after batch and exits once
// nothing has come for ingestLinger (a steady stream reuses one goroutine;
// an idle receiver, or a test's, keeps none). The zero value is not usable:
// make one with NewIngestBatcher.
type IngestBatcher struct {
	c       *Client
	st      *store.Store
	timeout time.Duration

	mu      sync.Mutex
	sending bool
	queued  []*ingestCall
	wake    chan struct{} // a call was queued while the sender waits; buffered 1
	bufs    sync.Pool     // Enqueue's task buffers
	slots   chan struct{} // batches in flight (NewIngestBatcher)
}

// ingestLinger is how long an idle sender waits for the next request.
const ingestLinger = 100 * time.Millisecond

// maxIngestBatch and maxIngestBatchBytes bound one round trip (and one
// script call, which holds Redis while it runs): at most this many tasks,
// and no more task bytes than this unless one task alone is larger (a body
// may be up to the receiver's --max-body-bytes). The rest go in the next.
const (
	maxIngestBatch      = 256
	maxIngestBatchBytes = 4 << 20
)

// batchLen is how many of the queued calls the next round trip takes.
func batchLen(queued []*ingestCall) int {
	n, size := 0, 0
	for n < len(queued) && n < maxIngestBatch {
		size += len(queued[n].msg)
		if n > 0 && size > maxIngestBatchBytes {
			break
		}
		n++
	}
	return n
}

// ingestCall is one request's task; done is closed once res/err are set.
type ingestCall struct {
	id   string
	msg  []byte
	res  IngestResult
	err  error
	done chan struct{}
}

// NewIngestBatcher returns a batcher enqueueing through c and checking
// markers in st; timeout bounds each round trip on its own, so that no
// request's cancelled context fails the others of its batch.
//
// One batch is in flight at a time, so that requests gather into the next
// while it is; with a durable acknowledgement up to maxAckedInFlight, so
// that a replica slow to confirm (or one that is down, each batch then
// waiting out the ack timeout) does not hold back every request behind it.
func NewIngestBatcher(c *Client, st *store.Store, timeout time.Duration) *IngestBatcher {
	inFlight := 1
	if c.ack.Replicas > 0 {
		inFlight = maxAckedInFlight
	}
	return &IngestBatcher{c: c, st: st, timeout: timeout, wake: make(chan struct{}, 1), slots: make(chan struct{}, inFlight)}
}

// maxAckedInFlight is how many batches may wait for their replicas at once.
const maxAckedInFlight = 4

// Enqueue makes p durable as an ingest task and reads the event's dedupe
// marker, in the round trip it shares with the requests that arrived with
// it. An error means the task may or may not be queued: the caller answers
// so that the platform retries, and the retry is a duplicate if it was.
func (b *IngestBatcher) Enqueue(ctx context.Context, p IngestPayload) (IngestResult, error) {
	// The task's JSON goes into a pooled buffer, then into the message that
	// the batch sends (which may outlive this call if ctx ends first).
	buf, _ := b.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer b.bufs.Put(buf)
	payload, err := appendIngest((*buf)[:0], p)
	*buf = payload[:0]
	if err != nil {
		return IngestResult{}, fmt.Errorf("encode ingest task: %w", err)
	}
	call := &ingestCall{id: p.EventID, done: make(chan struct{}),
		msg: appendTaskMessage(make([]byte, 0, len(payload)+len(p.EventID)+48), TypeIngest, p.EventID, QueueIngest, ingestMaxRetry, payload)}
	b.mu.Lock()
	b.queued = append(b.queued, call)
	spawn := !b.sending
	b.sending = true
	b.mu.Unlock()
	if spawn {
		go b.send()
	} else {
		select {
		case b.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	select {
	case <-call.done:
		return call.res, call.err
	case <-ctx.Done():
		return IngestResult{}, fmt.Errorf("enqueue event %s: %w", p.EventID, ctx.Err())
	}
}

// send commits queued calls, up to batchLen per round trip, until
// none has been queued for ingestLinger.
func (b *IngestBatcher) send() {
	idle := time.NewTimer(ingestLinger)
	defer idle.Stop()
	for {
		// A free slot first: while every one is taken, requests gather
		// into the next batch.
		b.slots <- struct{}{}
		b.mu.Lock()
		n := batchLen(b.queued)
		if n == 0 {
			<-b.slots
			b.queued = b.queued[:0]
			b.mu.Unlock()
			idle.Reset(ingestLinger)
			select {
			case <-b.wake:
				continue
			case <-idle.C:
			}
			b.mu.Lock()
			if len(b.queued) == 0 { // else a call came in as the timer fired
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
		go b.run(batch)
	}
}

// run commits one batch, answers its calls and frees its slot.
func (b *IngestBatcher) run(batch []*ingestCall) {
	defer func() { <-b.slots }()
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	err := b.commit(ctx, batch)
	cancel()
	for _, c := range batch {
		if err != nil {
			c.err = err
		}
		close(c.done)
	}
}

// commit runs one batch: the enqueue script and the marker checks in one
// pipeline and, with a durable acknowledgement, the replicas' confirmation
// after the enqueue on the same connection (queueAck). On a cluster the
// tasks and the confirmation go to the ingest queue's master in one
// pipeline, and the markers, which are in other slots, in a second. A
// call's err is the enqueue's or the confirmation's; a marker that cannot
// be read is only its SeenErr.
func (b *IngestBatcher) commit(ctx context.Context, batch []*ingestCall) error {
	tasks := taskBatch{queue: QueueIngest, ids: make([]string, 0, len(batch)), msgs: make([][]byte, 0, len(batch)), runArchived: true}
	for _, c := range batch {
		tasks.add(c.id, c.msg)
	}
	seen := make([]*redis.IntCmd, len(batch))
	markers := func(p redis.Pipeliner) {
		for i, c := range batch {
			seen[i] = b.st.QueueSeen(ctx, p, c.id)
		}
	}
	var acked func() error
	on, clusterNode := b.c.rdb, false
	if cc, ok := b.c.rdb.(*redis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, asynqPendingKey(QueueIngest))
		if err != nil {
			return fmt.Errorf("enqueue %d events: find the ingest queue's master: %w", len(batch), err)
		}
		on, clusterNode = node, true
		_, _ = cc.Pipelined(ctx, func(p redis.Pipeliner) error { markers(p); return nil })
		markers = nil
	}
	added, err := b.c.enqueueBatches(ctx, on, []taskBatch{tasks}, markers, func(p redis.Pipeliner) {
		acked = b.c.queueAck(ctx, p, clusterNode)
	})
	if err != nil {
		return fmt.Errorf("enqueue %d events: %w", len(batch), err)
	}
	if err := acked(); err != nil {
		return fmt.Errorf("enqueue %d events: %w", len(batch), err)
	}
	for i, c := range batch {
		c.res.Queued = !added[0][i]
		n, serr := seen[i].Result()
		if serr != nil && !errors.Is(serr, redis.Nil) {
			c.res.SeenErr = fmt.Errorf("check dedupe marker: %w", serr)
			continue
		}
		c.res.Seen = n > 0
	}
	return nil
}
