package queue

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// A half-open circuit's probe whose outcome says nothing of the
// destination's health (here a 400: about the event, not the endpoint)
// gives its lease back: the next delivery probes at once. It used to wait
// "another delivery is probing" with no probe in flight, until the lease
// lapsed (the send timeout and 5 s), after every such probe.
func TestProbeThatRecordsNoHealthReleasesTheCircuit(t *testing.T) {
	c := newCountingSink(t)
	ctx := context.Background()
	c.del.Guard = Guard{Threshold: 1, Cooldown: time.Second}
	for _, id := range []string{"evt_p1", "evt_p2", "evt_p3"} {
		if err := c.fan.ProcessTask(ctx, c.ingest(t, id, "r-"+id)); err != nil {
			t.Fatal(err)
		}
	}
	c.code.Store(http.StatusInternalServerError)
	if err := c.del.ProcessTask(ctx, c.deliveryTask("evt_p1")); err == nil {
		t.Fatal("a 500 did not fail the delivery")
	}
	time.Sleep(2100 * time.Millisecond) // the circuit's cooldown passes: half-open
	c.code.Store(http.StatusBadRequest)
	if err := c.del.ProcessTask(ctx, c.deliveryTask("evt_p2")); err == nil {
		t.Fatal("a 400 did not fail the probe")
	}
	c.code.Store(http.StatusOK)
	hits := c.hits.Load()
	if err := c.del.ProcessTask(ctx, c.deliveryTask("evt_p3")); err != nil {
		t.Fatal(err)
	}
	if sent := c.hits.Load() - hits; sent != 1 {
		t.Fatalf("the delivery after the probe sent %d requests, want 1 (it waited for a probe no one was making)", sent)
	}
	if h, err := c.store.GetHealth(ctx, c.dest.ID); err != nil || h.Circuit(time.Now()) != "closed" {
		t.Fatalf("health after a successful probe = %+v, %v; want the circuit closed", h, err)
	}
}
