package queue

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/store"
)

func TestDeliveryQueueNames(t *testing.T) {
	if got := DeliveryQueuesFor(1); !slices.Equal(got, []string{"delivery"}) {
		t.Fatalf("1 shard: %v", got)
	}
	if got := DeliveryQueuesFor(3); !slices.Equal(got, []string{"delivery-0", "delivery-1", "delivery-2"}) {
		t.Fatalf("3 shards: %v", got)
	}
	for q, want := range map[string]bool{"delivery": true, "delivery-0": true, "delivery-12": true,
		"delivery-": false, "delivery--1": false, "delivery-+1": false, "delivery-x": false, "ingest": false} {
		if isDeliveryQueue(q) != want {
			t.Errorf("isDeliveryQueue(%q) = %v", q, !want)
		}
	}
}

// A destination always maps to the same shard, and destinations spread
// over every shard.
func TestShardChoiceIsStableAndSpreads(t *testing.T) {
	per := map[string]int{}
	for range 400 {
		id := store.NewID("dst")
		q := DeliveryQueueOf(id, 4)
		if DeliveryQueueOf(id, 4) != q {
			t.Fatalf("%s maps to two shards", id)
		}
		per[q]++
	}
	for _, q := range DeliveryQueuesFor(4) {
		if per[q] < 50 {
			t.Errorf("shard %s got %d of 400 destinations: %v", q, per[q], per)
		}
	}
	if q := DeliveryQueueOf("dst_x", 1); q != QueueDelivery {
		t.Fatalf("one shard: %s", q)
	}
}

// With three shards: EnsureQueues makes every one, deliveries go to their
// destination's shard, a worker with serverQueues serves all of them, and
// the dead letters list and replay every shard's archive, including a shard
// left by an earlier shard count.
func TestShardedDeliveriesEveryShard(t *testing.T) {
	rdb := redistest.Start(t).Client()
	ctx := context.Background()
	qc := NewClient(rdb, DefaultSchedule()).WithDeliveryShards(3)
	if err := qc.EnsureQueues(ctx, rdb); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	have, _ := insp.Queues()
	for _, q := range QueuesFor(3) {
		if !slices.Contains(have, q) {
			t.Fatalf("EnsureQueues did not make %s: %v", q, have)
		}
	}
	// A shard of an earlier count (5) still holds a delivery.
	old := NewClient(rdb, DefaultSchedule()).WithDeliveryShards(5)
	var leftover string
	for i := 0; leftover == ""; i++ {
		id := fmt.Sprintf("dst_old%d", i)
		if q := DeliveryQueueOf(id, 5); q == "delivery-4" {
			leftover = id
		}
	}
	if err := old.EnqueueDelivery(ctx, DeliveryPayload{EventID: "evt_old", DestinationID: leftover}, ""); err != nil {
		t.Fatal(err)
	}

	dests := map[string]string{} // dest -> its queue
	for i := 0; len(dests) < 12; i++ {
		id := fmt.Sprintf("dst_%d", i)
		dests[id] = DeliveryQueueOf(id, 3)
		if err := qc.EnqueueDelivery(ctx, DeliveryPayload{EventID: "evt_1", DestinationID: id}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := insp.GetTaskInfo(dests[id], DeliveryTaskID("evt_1", id)); err != nil {
			t.Fatalf("delivery to %s not in its shard %s: %v", id, dests[id], err)
		}
	}
	queues := serverQueues(DeliveryQueuesIn(rdb, 3))
	for _, q := range []string{"delivery-0", "delivery-1", "delivery-2", "delivery-4"} {
		if queues[q] != 4 {
			t.Fatalf("worker weights %v: want every delivery shard at 4", queues)
		}
	}
	var mu sync.Mutex
	ran := map[string]int{}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 4, Queues: queues,
		TaskCheckInterval: 20 * time.Millisecond, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeDelivery, func(ctx context.Context, t *asynq.Task) error {
		q, _ := asynq.GetQueueName(ctx)
		mu.Lock()
		ran[q]++
		mu.Unlock()
		return fmt.Errorf("HTTP 400: %w", asynq.SkipRetry)
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	dl := NewDeadLetters(rdb, nil)
	waitFor(t, func() bool { all, _ := listAll(dl); return len(all) == 13 })
	mu.Lock()
	for _, q := range []string{"delivery-0", "delivery-1", "delivery-2", "delivery-4"} {
		if ran[q] == 0 {
			t.Errorf("no delivery ran from %s: %v", q, ran)
		}
	}
	mu.Unlock()
	all, err := listAll(dl)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		if want, ok := dests[d.DestinationID]; ok && d.Queue != want {
			t.Errorf("dead letter of %s in %s, want %s", d.DestinationID, d.Queue, want)
		}
	}
	srv.Shutdown()
	n, err := dl.ReplayAll(ctx)
	if err != nil || n != 13 {
		t.Fatalf("replayed %d (%v), want 13 across the shards", n, err)
	}
}

// listAll pages through every dead letter, two at a time.
func listAll(dl *DeadLetters) ([]DeadLetter, error) {
	var out []DeadLetter
	cursor := ""
	for {
		got, next, err := dl.List(context.Background(), 2, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}
