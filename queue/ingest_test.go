package queue

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
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

// asynqWrites enqueues a task with asynq's own client, returns the task's
// hash as asynq wrote it, and empties Redis again.
func asynqWrites(t *testing.T, rdb *redis.Client, task *asynq.Task, id string, opts ...asynq.Option) map[string]string {
	t.Helper()
	ctx := context.Background()
	info, err := asynq.NewClientFromRedisClient(rdb).EnqueueContext(ctx, task, append(opts, asynq.TaskID(id))...)
	if err != nil {
		t.Fatal(err)
	}
	h, err := rdb.HGetAll(ctx, asynqTaskKey(info.Queue, id)).Result()
	if err != nil || len(h) == 0 {
		t.Fatalf("asynq's task hash: %v %v", h, err)
	}
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	return h
}

// checkSameTask checks that the task id in queue is what asynq wrote (want):
// the same message bytes and hash fields, the task in the pending list and
// the queue in asynq's set; and that asynq's inspector reads it back.
func checkSameTask(t *testing.T, rdb *redis.Client, queue, id string, want map[string]string, typ string, payload []byte, retry int) {
	t.Helper()
	ctx := context.Background()
	got, err := rdb.HGetAll(ctx, asynqTaskKey(queue, id)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if got["msg"] != want["msg"] {
		t.Fatalf("%s: message\n got %q\nwant %q", id, got["msg"], want["msg"])
	}
	if got["state"] != "pending" || got["pending_since"] == "" || len(got) != len(want) {
		t.Fatalf("%s: task hash %v, asynq's %v", id, got, want)
	}
	if ids, _ := rdb.LRange(ctx, asynqPendingKey(queue), 0, -1).Result(); !slices.Contains(ids, id) {
		t.Fatalf("pending list of %s %v does not hold %s", queue, ids, id)
	}
	if ok, _ := rdb.SIsMember(ctx, asynqAllQueues, queue).Result(); !ok {
		t.Fatalf("queue %s is not in asynq's set of queues", queue)
	}
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetTaskInfo(queue, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != typ || string(info.Payload) != string(payload) || info.MaxRetry != retry ||
		info.Timeout != asynqDefaultTimeout || info.State != asynq.TaskStatePending {
		t.Fatalf("asynq reads %+v", info)
	}
}

// The tasks hookshift writes without asynq's client are asynq's: an ingest
// task from the receiver's batcher, and delivery tasks from the fan-out's
// EnqueueDeliveries (one queue, and spread over shards), compared with what
// asynq's client writes for the options hookshift used with it. If an
// upgrade of asynq changes its layout, this fails.
func TestTasksMatchAsynq(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	ctx := context.Background()
	p := ingestPayload("evt_ref")
	task, err := appendIngest(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	want := asynqWrites(t, rdb, asynq.NewTask(TypeIngest, task), p.EventID, asynq.Queue(QueueIngest), asynq.MaxRetry(ingestMaxRetry))
	b := NewIngestBatcher(NewClient(rdb, DefaultSchedule()), ingestStore(t, rdb), 5*time.Second)
	res, err := b.Enqueue(ctx, p)
	if err != nil || res.Queued || res.Seen || res.SeenErr != nil {
		t.Fatalf("Enqueue = %+v, %v; want a new task", res, err)
	}
	checkSameTask(t, rdb, QueueIngest, p.EventID, want, TypeIngest, task, ingestMaxRetry)

	for _, shards := range []int{1, 3} {
		rdb.FlushAll(ctx)
		c := NewClient(rdb, DefaultSchedule()).WithDeliveryShards(shards)
		var ps []DeliveryPayload
		for i := range 4 {
			ps = append(ps, DeliveryPayload{EventID: "evt_ref", DestinationID: fmt.Sprintf("dst_%d", i), TenantID: "ten_1",
				DestinationName: "n", Integration: "http", EventType: "payment.succeeded"})
		}
		wants := make([]map[string]string, len(ps))
		for i, d := range ps {
			body, _ := json.Marshal(d)
			wants[i] = asynqWrites(t, rdb, asynq.NewTask(TypeDelivery, body), DeliveryTaskID(d.EventID, d.DestinationID),
				asynq.Queue(DeliveryQueueOf(d.DestinationID, shards)), asynq.MaxRetry(DefaultSchedule().Retries()), asynq.ProcessIn(0))
		}
		if err := c.EnqueueDeliveries(ctx, ps, ""); err != nil {
			t.Fatal(err)
		}
		for i, d := range ps {
			body, _ := json.Marshal(d)
			checkSameTask(t, rdb, DeliveryQueueOf(d.DestinationID, shards), DeliveryTaskID(d.EventID, d.DestinationID), wants[i],
				TypeDelivery, body, DefaultSchedule().Retries())
		}
		// Enqueued again (a fan-out run twice), nothing is added.
		if err := c.EnqueueDeliveries(ctx, ps, ""); err != nil {
			t.Fatal(err)
		}
		total := int64(0)
		for _, q := range DeliveryQueuesFor(shards) {
			n, _ := rdb.LLen(ctx, asynqPendingKey(q)).Result()
			total += n
		}
		if total != int64(len(ps)) {
			t.Fatalf("%d shards: %d delivery tasks pending after two enqueues of %d", shards, total, len(ps))
		}
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

// A round trip takes at most maxIngestBatch tasks and, past the first,
// no more than maxIngestBatchBytes: a burst of large bodies is not sent
// to Redis as one script call of hundreds of megabytes.
func TestIngestBatchBounds(t *testing.T) {
	calls := func(sizes ...int) []*ingestCall {
		out := make([]*ingestCall, len(sizes))
		for i, n := range sizes {
			out[i] = &ingestCall{msg: make([]byte, n)}
		}
		return out
	}
	many := make([]int, 300)
	for i := range many {
		many[i] = 100
	}
	mib := 1 << 20
	for _, c := range []struct {
		name  string
		sizes []int
		want  int
	}{
		{"none", nil, 0},
		{"small ones, up to the count", many, maxIngestBatch},
		{"1 MiB bodies, up to the bytes", []int{mib, mib, mib, mib, mib, mib}, 4},
		{"one body over the bytes goes alone", []int{5 * mib, 100, 100}, 1},
		{"a large one after small ones waits", []int{100, 100, 5 * mib}, 2},
	} {
		if got := batchLen(calls(c.sizes...)); got != c.want {
			t.Errorf("%s: batchLen = %d, want %d", c.name, got, c.want)
		}
	}
}

// With a durable acknowledgement, the replicas' confirmation (barrier and
// WAIT) follows the enqueue on the same connection, in the same pipeline:
// Redis's WAIT covers its own connection's writes, and a WAIT sent apart
// could reach another server than the write (the new primary after a
// failover, where the write never arrived) and confirm a lost task. Redis's
// MONITOR shows, for every WAIT, the barrier and the enqueue script just
// before it from the same client. Every call is confirmed and the replica
// holds every task.
func TestAckWaitFollowsTheWriteOnItsConnection(t *testing.T) {
	rs := redistest.Start(t)
	replica := redistest.StartReplica(rs)
	replica.WaitLinkUp()
	rdb := rs.Client()
	ctx := context.Background()
	// MONITOR on a plain connection: every command Redis runs, one line each.
	mc, err := net.Dial("tcp", rs.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	if _, err := mc.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	mr := bufio.NewReader(mc)
	if ok, err := mr.ReadString('\n'); err != nil || !strings.HasPrefix(ok, "+OK") {
		t.Fatalf("MONITOR: %q %v", ok, err)
	}
	lines := make(chan string, 100000)
	go func() {
		defer close(lines)
		for {
			l, err := mr.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimSpace(strings.TrimPrefix(l, "+"))
		}
	}()

	c := NewClient(rdb, DefaultSchedule(), WithDurableAck(DurableAck{Replicas: 1, Timeout: 2 * time.Second}))
	b := NewIngestBatcher(c, ingestStore(t, rdb), 5*time.Second)
	const n = 60
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.Enqueue(ctx, ingestPayload(fmt.Sprintf("evt_ack_%d", i)))
		}()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	mc.Close()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	byClient := map[string][]string{} // client address -> its commands, in order
	waits := 0
	for l := range lines {
		// 1701234567.123456 [0 127.0.0.1:54321] "EVALSHA" "…" …
		open, end := strings.Index(l, "["), strings.Index(l, "]")
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(l[open+1 : end])
		rest := strings.Fields(l[end+1:])
		if len(f) != 2 || len(rest) == 0 {
			continue
		}
		cmd := strings.ToUpper(strings.Trim(rest[0], `"`))
		if len(rest) > 1 && cmd == "EVALSHA" {
			cmd += " " + strings.Trim(rest[1], `"`)
		}
		if strings.ToUpper(strings.Trim(rest[0], `"`)) == "WAIT" {
			waits++
			prev := byClient[f[1]]
			if len(prev) < 2 || prev[len(prev)-1] != "PUBLISH" || prev[len(prev)-2] != "EVALSHA "+enqueueRunArchived.Hash() {
				t.Fatalf("a WAIT from %s follows %v on its connection, want the enqueue script then the barrier", f[1], prev[max(0, len(prev)-3):])
			}
		}
		byClient[f[1]] = append(byClient[f[1]], cmd)
	}
	if waits == 0 || waits > n {
		t.Fatalf("%d WAITs for %d calls", waits, n)
	}
	for i := range n {
		if _, err := asynq.NewInspectorFromRedisClient(replica.Client()).GetTaskInfo(QueueIngest, fmt.Sprintf("evt_ack_%d", i)); err != nil {
			t.Fatalf("confirmed, but the replica does not hold task %d: %v", i, err)
		}
	}
}

// With a durable acknowledgement and the replica gone, each batch waits out
// the ack timeout; batches wait side by side (up to maxAckedInFlight), so a
// request that comes while one waits is not held behind it: Redis shows
// several clients blocked in WAIT at once. Every call is then refused with
// ErrNotReplicated, never confirmed.
func TestAckedBatchesWaitSideBySide(t *testing.T) {
	rs := redistest.Start(t)
	replica := redistest.StartReplica(rs)
	replica.WaitLinkUp()
	replica.Stop()
	rdb := rs.Client()
	ctx := context.Background()
	c := NewClient(rdb, DefaultSchedule(), WithDurableAck(DurableAck{Replicas: 1, Timeout: 1500 * time.Millisecond}))
	b := NewIngestBatcher(c, ingestStore(t, rdb), 10*time.Second)
	const waves = maxAckedInFlight
	errs := make([]error, waves)
	var wg sync.WaitGroup
	for i := range waves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.Enqueue(ctx, ingestPayload(fmt.Sprintf("evt_wave_%d", i)))
		}()
		time.Sleep(100 * time.Millisecond) // each wave finds the one before it waiting
	}
	blocked := 0
	for _, l := range strings.Split(rdb.Info(ctx, "clients").Val(), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "blocked_clients:"); ok {
			fmt.Sscan(v, &blocked)
		}
	}
	wg.Wait()
	if blocked < 2 || blocked > maxAckedInFlight {
		t.Fatalf("%d clients blocked in WAIT while %d waves waited, want 2 to %d side by side", blocked, waves, maxAckedInFlight)
	}
	for i, err := range errs {
		if !errors.Is(err, ErrNotReplicated) {
			t.Fatalf("wave %d: %v, want ErrNotReplicated", i, err)
		}
	}
}
