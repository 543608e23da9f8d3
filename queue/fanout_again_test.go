package queue

import (
	"context"
	"net/http"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/hookshift/hookshift/store"
)

// An event accepted again once its record has expired (past the dedupe
// window and the retention: a provider's manual resend of an event whose
// delivery had failed) is delivered: its delivery task is not refused by
// the dead letter of the earlier copy, which asynq keeps in its archive
// under the same TaskID long after the event has expired.
func TestEventAcceptedAgainIsNotBlockedByItsDeadLetter(t *testing.T) {
	c := newCountingSink(t)
	ctx := context.Background()
	rdb := c.fan.Client.rdb
	if err := c.fan.ProcessTask(ctx, c.ingest(t, "evt_again", "r1")); err != nil {
		t.Fatal(err)
	}
	// The first copy's delivery fails for good and is archived by asynq.
	c.code.Store(http.StatusBadRequest)
	if err := c.del.ProcessTask(ctx, c.deliveryTask("evt_again")); err == nil {
		t.Fatal("a 400 did not fail the delivery")
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	if err := insp.ArchiveTask(QueueDelivery, DeliveryTaskID("evt_again", c.dest.ID)); err != nil {
		t.Fatal(err)
	}
	// The retention (and the dedupe window) pass.
	if err := rdb.Del(ctx, "hookshift:{e:evt_again}:event").Err(); err != nil {
		t.Fatal(err)
	}
	if seen, err := c.store.Seen(ctx, "evt_again"); err != nil || seen {
		t.Fatalf("expired event still seen: %v, %v", seen, err)
	}
	// The merchant fixed their endpoint; the provider sends the event again
	// and the receiver accepts it as new.
	c.code.Store(http.StatusOK)
	if err := c.fan.ProcessTask(ctx, c.ingest(t, "evt_again", "r2")); err != nil {
		t.Fatal(err)
	}
	ds, err := c.store.Deliveries(ctx, "evt_again")
	if err != nil || len(ds) != 1 || ds[0].Status != store.StatusPending {
		t.Fatalf("deliveries of the new copy = %+v, %v; want one pending", ds, err)
	}
	pending, err := insp.ListPendingTasks(QueueDelivery)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 {
		t.Fatalf("the accepted event's pending delivery has %d runnable tasks, want 1 (archived: %v)", len(pending), func() int {
			a, _ := insp.ListArchivedTasks(QueueDelivery)
			return len(a)
		}())
	}
	// The fan-out run again (same receipt) enqueues it once; run, it is sent.
	if err := c.fan.ProcessTask(ctx, c.ingest(t, "evt_again", "r2")); err != nil {
		t.Fatal(err)
	}
	if pending, _ = insp.ListPendingTasks(QueueDelivery); len(pending) != 1 {
		t.Fatalf("after the fan-out ran again: %d pending delivery tasks, want 1", len(pending))
	}
	hits := c.hits.Load()
	if err := c.del.ProcessTask(ctx, asynq.NewTask(TypeDelivery, pending[0].Payload)); err != nil {
		t.Fatal(err)
	}
	ds, err = c.store.Deliveries(ctx, "evt_again")
	if err != nil || len(ds) != 1 || ds[0].Status != store.StatusDelivered || c.hits.Load() != hits+1 {
		t.Fatalf("deliveries after the task ran = %+v, %v", ds, err)
	}
}
