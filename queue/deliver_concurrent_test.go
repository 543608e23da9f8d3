package queue

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookshift/hookshift/store"
)

// A dead letter re-run by an operator while a destination replay of the
// same delivery is queued leaves two tasks for one delivery, and both run
// at once on a worker with room for both (they also fall due together when
// both wait for the same open circuit). The event is sent once: the second
// task waits while the first sends, then finds the delivery delivered. (It
// was sent twice: each task read the delivery as pending before the other
// had recorded its attempt.)
func TestTwoTasksOfOneDeliveryRunningTogetherSendOnce(t *testing.T) {
	c := newCountingSink(t)
	ctx := context.Background()
	rdb := c.fan.Client.rdb
	if err := c.fan.ProcessTask(ctx, c.ingest(t, "evt_two", "r1")); err != nil {
		t.Fatal(err)
	}
	// The first attempt fails for good: a dead letter.
	c.code.Store(http.StatusBadRequest)
	if err := c.del.ProcessTask(ctx, c.deliveryTask("evt_two")); err == nil {
		t.Fatal("a 400 did not fail the delivery")
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	if err := insp.ArchiveTask(QueueDelivery, DeliveryTaskID("evt_two", c.dest.ID)); err != nil {
		t.Fatal(err)
	}
	// The merchant fixes the endpoint, which is slow now, and replays the
	// destination's failures; the operator re-runs the dead letters.
	var slowHits atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowHits.Add(1)
		time.Sleep(500 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(slow.Close)
	c.dest.URL, c.dest.UpdatedAt = slow.URL+"/hook", time.Now()
	if err := c.store.SaveDestination(ctx, c.dest); err != nil {
		t.Fatal(err)
	}
	rp := &Replayer{Store: c.store, Client: c.fan.Client, Log: c.fan.Log}
	b, _ := json.Marshal(ReplayPayload{DestinationID: c.dest.ID, Since: time.Now().Add(-time.Hour), PerSecond: 50, Stamp: "s1"})
	if err := rp.ProcessTask(ctx, asynq.NewTask(TypeReplay, b)); err != nil {
		t.Fatal(err)
	}
	if n, err := NewDeadLetters(rdb, c.store).Replay(ctx, []string{DeliveryTaskID("evt_two", c.dest.ID)}); err != nil || n != 1 {
		t.Fatalf("dead letter re-run: %d, %v", n, err)
	}
	if pending, _ := insp.ListPendingTasks(QueueDelivery); len(pending) != 2 {
		t.Fatalf("%d pending delivery tasks, want the replay's and the dead letter's", len(pending))
	}

	srv, mux := NewServer(rdb, WorkerOptions{Concurrency: 4, ShutdownTimeout: time.Second, PollInterval: 50 * time.Millisecond,
		Schedule: DefaultSchedule(), Log: c.fan.Log}, c.fan, c.del, rp)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := insp.GetQueueInfo(QueueDelivery)
		if err == nil && info.Pending+info.Active+info.Scheduled+info.Retry == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery tasks not done: %+v, %v", info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ds, err := c.store.Deliveries(ctx, "evt_two")
	if err != nil || len(ds) != 1 || ds[0].Status != store.StatusDelivered {
		t.Fatalf("deliveries = %+v, %v; want one delivered", ds, err)
	}
	if n := slowHits.Load(); n != 1 {
		t.Fatalf("the destination got the event %d times, want once (attempts recorded: %d)", n, ds[0].AttemptCount)
	}
}
