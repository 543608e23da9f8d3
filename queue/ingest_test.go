package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/store"
)

func ingestStore(t *testing.T, rdb redis.UniversalClient) *store.Store {
	t.Helper()
	sealer, err := store.NewSealer("test-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return store.New(rdb, sealer, store.Options{})
}

func ingestPayload(id string) IngestPayload {
	return IngestPayload{Receipt: "r_" + id, EventID: id, TenantID: "ten_1", SourceID: "src_1", ProviderID: "msg_" + id,
		Type: "payment.succeeded", ReceivedAt: time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC),
		Body: json.RawMessage(`{"type":"payment.succeeded","data":{"amount":2999}}`)}
}

// The batcher writes the task asynq's client writes for the options the
// receiver used with it (TaskID, queue ingest, MaxRetry): the same message
// bytes, the same hash fields, the task in the pending list and the queue
// in asynq's set; and asynq's inspector reads it back. If an upgrade of
// asynq changes its layout, this fails.
func TestIngestTaskMatchesAsynq(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	ctx := context.Background()
	p := ingestPayload("evt_ref")
	task, err := appendIngest(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	ac := asynq.NewClientFromRedisClient(rdb)
	if _, err := ac.EnqueueContext(ctx, asynq.NewTask(TypeIngest, task), asynq.TaskID(p.EventID),
		asynq.Queue(QueueIngest), asynq.MaxRetry(ingestMaxRetry)); err != nil {
		t.Fatal(err)
	}
	want, err := rdb.HGetAll(ctx, asynqTaskKey(QueueIngest, p.EventID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}

	b := NewIngestBatcher(NewClient(rdb, DefaultSchedule()), ingestStore(t, rdb), 5*time.Second)
	res, err := b.Enqueue(ctx, p)
	if err != nil || res.Queued || res.Seen || res.SeenErr != nil {
		t.Fatalf("Enqueue = %+v, %v; want a new task", res, err)
	}
	got, err := rdb.HGetAll(ctx, asynqTaskKey(QueueIngest, p.EventID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if got["msg"] != want["msg"] {
		t.Fatalf("message\n got %q\nwant %q", got["msg"], want["msg"])
	}
	if got["state"] != "pending" || got["pending_since"] == "" || len(got) != len(want) {
		t.Fatalf("task hash %v, asynq's %v", got, want)
	}
	if ids, _ := rdb.LRange(ctx, asynqPendingKey(QueueIngest), 0, -1).Result(); len(ids) != 1 || ids[0] != p.EventID {
		t.Fatalf("pending list %v, want [%s]", ids, p.EventID)
	}
	if ok, _ := rdb.SIsMember(ctx, asynqAllQueues, QueueIngest).Result(); !ok {
		t.Fatal("the ingest queue is not in asynq's set of queues")
	}
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetTaskInfo(QueueIngest, p.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != TypeIngest || string(info.Payload) != string(task) || info.MaxRetry != ingestMaxRetry ||
		info.Timeout != asynqDefaultTimeout || info.State != asynq.TaskStatePending {
		t.Fatalf("asynq reads %+v", info)
	}
}

// Calls arriving together, more than one batch holds, are each answered
// for their own event: copies of one event are enqueued once (the others
// told it is queued), markers are read for the right event, and the sender
// goroutine exits once idle; the next call starts a new one.
func TestIngestBatcherAnswersEachCall(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	st := ingestStore(t, rdb)
	ctx := context.Background()
	n := 2*maxIngestBatch + 37
	for i := 0; i < n; i += 3 { // every third event has been fanned out: its marker exists
		ev := store.Event{ID: fmt.Sprintf("evt_%d", i), TenantID: "ten_1", SourceID: "src_1", Type: "t", ReceivedAt: time.Now(), Payload: []byte(`{}`)}
		if _, err := st.RecordEvent(ctx, ev, "r", store.SearchKeys{}); err != nil {
			t.Fatal(err)
		}
	}
	b := NewIngestBatcher(NewClient(rdb, DefaultSchedule()), st, 5*time.Second)
	const copies = 8
	results := make([]IngestResult, n+copies)
	errs := make([]error, n+copies)
	var wg sync.WaitGroup
	for i := range results {
		id := fmt.Sprintf("evt_%d", i)
		if i >= n {
			id = "evt_same"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = b.Enqueue(ctx, ingestPayload(id))
		}()
	}
	wg.Wait()
	sameNew := 0
	for i, r := range results {
		if errs[i] != nil || r.SeenErr != nil {
			t.Fatalf("call %d: %v %v", i, errs[i], r.SeenErr)
		}
		if i >= n {
			if !r.Queued {
				sameNew++
			}
			continue
		}
		if r.Queued || r.Seen != (i%3 == 0) {
			t.Fatalf("call %d: %+v, want seen %v and a new task", i, r, i%3 == 0)
		}
	}
	if sameNew != 1 {
		t.Fatalf("%d of %d copies of one event were enqueued, want 1", sameNew, copies)
	}
	if l, _ := rdb.LLen(ctx, asynqPendingKey(QueueIngest)).Result(); l != int64(n+1) {
		t.Fatalf("%d tasks pending, want %d", l, n+1)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		sending := b.sending
		b.mu.Unlock()
		if !sending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sender goroutine did not exit once idle")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r, err := b.Enqueue(ctx, ingestPayload("evt_1")); err != nil || !r.Queued {
		t.Fatalf("a repeat after the sender exited: %+v %v, want queued", r, err)
	}
}

// The script is loaded when Redis lost it (a restart, SCRIPT FLUSH), and a
// Redis that cannot be reached is an error for every call of the batch,
// never an answer that the task is held.
func TestIngestBatcherScriptFlushAndOutage(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	ctx := context.Background()
	b := NewIngestBatcher(NewClient(rdb, DefaultSchedule()), ingestStore(t, rdb), 2*time.Second)
	if _, err := b.Enqueue(ctx, ingestPayload("evt_a")); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if r, err := b.Enqueue(ctx, ingestPayload("evt_b")); err != nil || r.Queued {
		t.Fatalf("after SCRIPT FLUSH: %+v %v, want a new task", r, err)
	}
	if l, _ := rdb.LLen(ctx, asynqPendingKey(QueueIngest)).Result(); l != 2 {
		t.Fatalf("%d tasks pending, want 2", l)
	}
	rs.Stop()
	if _, err := b.Enqueue(ctx, ingestPayload("evt_c")); err == nil {
		t.Fatal("Enqueue with Redis down answered without an error")
	}
}
