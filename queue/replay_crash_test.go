package queue

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookshift/hookshift/store"
)

// A destination replay whose worker died after it claimed a failed
// delivery (failed -> pending) and before it enqueued it is carried out by
// the replay task's re-run: the claimed delivery is enqueued, not skipped
// and left pending with no task (it was, before claims said whose they
// were). Run once more, the replay enqueues nothing twice; and once its
// delivery has failed for good again, a re-run leaves it failed.
func TestReplayRunAgainAfterClaimEnqueuesTheDelivery(t *testing.T) {
	c := newCountingSink(t)
	ctx := context.Background()
	rdb := c.fan.Client.rdb
	if err := c.fan.ProcessTask(ctx, c.ingest(t, "evt_rp", "r1")); err != nil {
		t.Fatal(err)
	}
	c.code.Store(http.StatusBadRequest)
	if err := c.del.ProcessTask(ctx, c.deliveryTask("evt_rp")); err == nil {
		t.Fatal("a 400 did not fail the delivery")
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	if err := insp.ArchiveTask(QueueDelivery, DeliveryTaskID("evt_rp", c.dest.ID)); err != nil {
		t.Fatal(err)
	}
	ds, _ := c.store.Deliveries(ctx, "evt_rp")
	if len(ds) != 1 || ds[0].Status != store.StatusFailed {
		t.Fatalf("deliveries = %+v; want one failed", ds)
	}
	// The replay's first run claims the delivery and dies before its enqueue.
	if ok, err := c.store.ReplayFailed(ctx, "evt_rp", c.dest.ID, "s1"); err != nil || !ok {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	// asynq runs the replay task again.
	rp := &Replayer{Store: c.store, Client: c.fan.Client, Log: c.fan.Log}
	b, _ := json.Marshal(ReplayPayload{DestinationID: c.dest.ID, Since: time.Now().Add(-time.Hour), PerSecond: 50, Stamp: "s1"})
	if err := rp.ProcessTask(ctx, asynq.NewTask(TypeReplay, b)); err != nil {
		t.Fatal(err)
	}
	pending, _ := insp.ListPendingTasks(QueueDelivery)
	ds, _ = c.store.Deliveries(ctx, "evt_rp")
	if len(pending) != 1 {
		t.Fatalf("after the replay ran again: %d delivery tasks, delivery %+v; want the claimed delivery enqueued", len(pending), ds)
	}
	if err := rp.ProcessTask(ctx, asynq.NewTask(TypeReplay, b)); err != nil {
		t.Fatal(err)
	}
	if again, _ := insp.ListPendingTasks(QueueDelivery); len(again) != 1 {
		t.Fatalf("a third run of the replay: %d delivery tasks, want still the one", len(again))
	}

	// The replayed delivery fails for good (400): asynq archives its task.
	if err := c.del.ProcessTask(ctx, asynq.NewTask(TypeDelivery, pending[0].Payload)); err == nil {
		t.Fatal("a 400 did not fail the replayed delivery")
	}
	if err := insp.ArchiveTask(QueueDelivery, pending[0].ID); err != nil {
		t.Fatal(err)
	}
	// The replay task run once more leaves it failed (a new replay can take
	// it), not claimed with its task a dead letter.
	if err := rp.ProcessTask(ctx, asynq.NewTask(TypeReplay, b)); err != nil {
		t.Fatal(err)
	}
	ds, _ = c.store.Deliveries(ctx, "evt_rp")
	if left, _ := insp.ListPendingTasks(QueueDelivery); len(left) != 0 || len(ds) != 1 || ds[0].Status != store.StatusFailed || ds[0].AttemptCount != 2 {
		t.Fatalf("after the replayed delivery failed again and the replay ran again: %d tasks, delivery %+v; want it failed after 2 attempts, no task", len(left), ds)
	}
	if fs, _, err := c.store.FailedDeliveries(ctx, c.dest.ID, time.Time{}, 10, "", ""); err != nil || len(fs) != 1 {
		t.Fatalf("failed deliveries = %+v, %v; want the delivery, for a new replay", fs, err)
	}
}
