package queue

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/egress"
	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

// countingSink is a delivery worker and fan-out on a private redis-server,
// sending to a real local server that counts the requests it answers.
type countingSink struct {
	store *store.Store
	del   *Deliverer
	fan   *FanOut
	dest  store.Destination
	hits  atomic.Int64
	code  atomic.Int64 // status the server answers; 200 when 0
	// onHit, if set, runs in the server before it answers.
	onHit func()
}

func newCountingSink(t *testing.T) *countingSink { return newCountingSinkOn(t, redistest.Start(t)) }

// newCountingSinkOn is newCountingSink on the given redis-server.
func newCountingSinkOn(t *testing.T, rs *redistest.Server) *countingSink {
	t.Helper()
	c := &countingSink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		if c.onHit != nil {
			c.onHit()
		}
		code := int(c.code.Load())
		if code == 0 {
			code = http.StatusOK
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	rdb := rs.Client()
	sealer, err := store.NewSealer("deliver-once-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	c.store = store.New(rdb, sealer, store.Options{})
	c.dest = store.Destination{ID: "dst_once", TenantID: "ten_once", SourceID: "src_once", Name: "sink",
		Integration: "http", URL: srv.URL + "/hook", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := c.store.SaveDestination(context.Background(), c.dest); err != nil {
		t.Fatal(err)
	}
	policy := egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)
	c.del = &Deliverer{Store: c.store, Engine: transformer.New(transformer.Options{Helpers: integrations.ScriptHelpers()}),
		HTTP: policy.Client(5 * time.Second), Log: log}
	c.fan = &FanOut{Store: c.store, Client: NewClient(rdb, DefaultSchedule()), Log: log}
	return c
}

// ingest is the ingest task of event id with receipt.
func (c *countingSink) ingest(t *testing.T, id, receipt string) *asynq.Task {
	t.Helper()
	p := IngestPayload{Receipt: receipt, EventID: id, TenantID: c.dest.TenantID, SourceID: c.dest.SourceID, ProviderID: "msg_" + id,
		Type: "payment.succeeded", ReceivedAt: time.Now().UTC(), Body: json.RawMessage(`{"type":"payment.succeeded","data":{"amount":100}}`)}
	b, err := appendIngest(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return asynq.NewTask(TypeIngest, b)
}

func (c *countingSink) deliveryTask(id string) *asynq.Task {
	b, _ := json.Marshal(DeliveryFor(id, "payment.succeeded", c.dest))
	return asynq.NewTask(TypeDelivery, b)
}

// A delivery task that asynq runs again after the attempt was recorded as
// delivered (the worker died before asynq marked the task done, or its
// lease ran out while it was slow, so asynq's recoverer handed it to
// another worker) does not send the event a second time: the recorded
// state says it is done.
func TestDeliveryRunAgainAfterDeliveredSendsOnce(t *testing.T) {
	c := newCountingSink(t)
	ctx := context.Background()
	if err := c.fan.ProcessTask(ctx, c.ingest(t, "evt_once", "r1")); err != nil {
		t.Fatal(err)
	}
	task := c.deliveryTask("evt_once")
	for range 2 {
		if err := c.del.ProcessTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.hits.Load(); n != 1 {
		t.Fatalf("the destination got %d requests for one delivered delivery, want 1", n)
	}
	ds, err := c.store.Deliveries(ctx, "evt_once")
	if err != nil || len(ds) != 1 || ds[0].Status != store.StatusDelivered || ds[0].AttemptCount != 1 {
		t.Fatalf("deliveries = %+v, %v; want one delivered in one attempt", ds, err)
	}
}

// A delivered send whose record Redis cannot take at that moment (it went
// away while the request was in flight, and is back three seconds later) is
// recorded once Redis is back, not left to the task's next run, which would
// send the payment again.
func TestDeliveredSendIsRecordedAfterRedisComesBack(t *testing.T) {
	rs := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	c := newCountingSinkOn(t, rs)
	ctx := context.Background()
	if err := c.fan.ProcessTask(ctx, c.ingest(t, "evt_rec", "r1")); err != nil {
		t.Fatal(err)
	}
	back := make(chan struct{})
	c.onHit = func() {
		rs.Stop() // the answer is on its way; the record will find no Redis
		go func() {
			time.Sleep(3 * time.Second) // longer than go-redis's own retries
			rs.Restart()
			close(back)
		}()
	}
	if err := c.del.ProcessTask(ctx, c.deliveryTask("evt_rec")); err != nil {
		t.Fatalf("the delivery task: %v, want it done once Redis was back", err)
	}
	<-back
	c.onHit = nil
	if err := c.del.ProcessTask(ctx, c.deliveryTask("evt_rec")); err != nil {
		t.Fatal(err)
	}
	if n := c.hits.Load(); n != 1 {
		t.Fatalf("the destination got %d requests, want 1", n)
	}
	ds, err := c.store.Deliveries(ctx, "evt_rec")
	if err != nil || len(ds) != 1 || ds[0].Status != store.StatusDelivered || ds[0].AttemptCount != 1 {
		t.Fatalf("deliveries = %+v, %v; want one delivered in one attempt", ds, err)
	}
}

// A run the worker cuts short mid-send (asynq cancels the task's context at
// its shutdown timeout, or when the task's lease is lost) spends no attempt
// and counts no failure toward the destination's circuit: asynq runs the
// task again, and that run delivers it as attempt 1.
func TestInterruptedRunSpendsNoAttempt(t *testing.T) {
	c := newCountingSink(t)
	ctx := context.Background()
	if err := c.fan.ProcessTask(ctx, c.ingest(t, "evt_int", "r1")); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	c.onHit = func() {
		cancel() // the worker gives up on the run while the request is in flight
		time.Sleep(50 * time.Millisecond)
	}
	if err := c.del.ProcessTask(runCtx, c.deliveryTask("evt_int")); err == nil || isFailure(err) {
		t.Fatalf("the interrupted run: %v, want a wait (no attempt spent)", err)
	}
	ds, err := c.store.Deliveries(ctx, "evt_int")
	if err != nil || len(ds) != 1 || ds[0].AttemptCount != 0 || len(ds[0].Attempts) != 0 || ds[0].Status != store.StatusPending {
		t.Fatalf("after the interrupted run: %+v, %v; want the delivery pending with no attempt", ds, err)
	}
	if h, err := c.store.GetHealth(ctx, c.dest.ID); err != nil || h.ConsecutiveFailures != 0 {
		t.Fatalf("health after the interrupted run: %+v, %v; want no failure counted", h, err)
	}
	c.onHit = nil
	if err := c.del.ProcessTask(ctx, c.deliveryTask("evt_int")); err != nil {
		t.Fatal(err)
	}
	ds, _ = c.store.Deliveries(ctx, "evt_int")
	if ds[0].Status != store.StatusDelivered || ds[0].AttemptCount != 1 {
		t.Fatalf("the next run: %+v; want delivered as attempt 1", ds[0])
	}
}
