package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
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

// hotPath is a delivery worker on a private redis-server, delivering through
// the egress-guarded client to a real local server that counts the
// connections it accepts and the requests it answers.
type hotPath struct {
	store    *store.Store
	del      *Deliverer
	fan      *FanOut
	dest     store.Destination
	newConns atomic.Int64
	mu       sync.Mutex
	got      map[string]http.Header // event id -> request headers
}

func newHotPath(t testing.TB) *hotPath {
	t.Helper()
	h := &hotPath{got: map[string]http.Header{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _, _ := strings.Cut(r.Header.Get("Idempotency-Key"), ":")
		h.mu.Lock()
		h.got[id] = r.Header.Clone()
		h.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			h.newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	rdb := redistest.Start(t).Client()
	sealer, err := store.NewSealer("hot-path-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	h.store = store.New(rdb, sealer, store.Options{})
	h.dest = store.Destination{ID: "dst_hot", TenantID: "ten_hot", SourceID: "src_hot", Name: "sink",
		Integration: "http", URL: srv.URL + "/hook", Headers: map[string]string{"X-Version": "1"},
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := h.store.SaveDestination(context.Background(), h.dest); err != nil {
		t.Fatal(err)
	}
	policy := egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)
	h.del = &Deliverer{Store: h.store, Engine: transformer.New(transformer.Options{Helpers: integrations.ScriptHelpers()}),
		HTTP: policy.Client(5 * time.Second), Log: log}
	h.fan = &FanOut{Store: h.store, Client: NewClient(rdb, DefaultSchedule()), Log: log}
	return h
}

// event records one event of the hot path's source and returns its delivery task.
func (h *hotPath) event(t testing.TB, i int) *asynq.Task {
	t.Helper()
	id := fmt.Sprintf("evt_hot_%06d", i)
	body, err := os.ReadFile("../testdata/dodo/payment.succeeded.usd.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RecordEvent(context.Background(), store.Event{ID: id, TenantID: "ten_hot", SourceID: "src_hot",
		ProviderID: id, Type: "payment.succeeded", ReceivedAt: time.Now(), Payload: body}, "r-"+id, store.SearchKeys{}); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(DeliveryFor(id, "payment.succeeded", h.dest))
	return asynq.NewTask(TypeDelivery, b)
}

// Deliveries to one destination reuse their connections: with 16 deliveries
// in flight at a time, 320 deliveries open about 16 connections. (The
// egress client once kept 4 idle connections per host, so a worker busier
// than that dialled anew for most deliveries: 183 connections here.) The
// bound is twice the deliveries in flight, not equal to it: net/http puts a
// connection back in the pool just after its response is read, and a
// request that looks for one in between dials another.
func TestDeliveriesReuseConnections(t *testing.T) {
	h := newHotPath(t)
	const workers, each = 16, 20
	tasks := make([][]*asynq.Task, workers)
	for w := range workers {
		for i := range each {
			tasks[w] = append(tasks[w], h.event(t, w*each+i))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, task := range tasks[w] {
				errs <- h.del.ProcessTask(context.Background(), task)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(h.got) != workers*each {
		t.Fatalf("server saw %d events, want %d", len(h.got), workers*each)
	}
	if n := h.newConns.Load(); n > 2*workers {
		t.Fatalf("%d deliveries opened %d connections; with %d in flight about %d are needed", workers*each, n, workers, workers)
	}
}

// A destination changed between two deliveries is sent as changed by the
// very next one: the worker reuses a decoded destination only while its
// stored record is byte for byte the same.
func TestDestinationChangeSeenByNextDelivery(t *testing.T) {
	h := newHotPath(t)
	ctx := context.Background()
	if err := h.del.ProcessTask(ctx, h.event(t, 1)); err != nil {
		t.Fatal(err)
	}
	changed := h.dest
	changed.Headers = map[string]string{"X-Version": "2"}
	changed.UpdatedAt = time.Now()
	if err := h.store.SaveDestination(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if err := h.del.ProcessTask(ctx, h.event(t, 2)); err != nil {
		t.Fatal(err)
	}
	if v := h.got["evt_hot_000001"].Get("X-Version"); v != "1" {
		t.Fatalf("first delivery sent X-Version %q, want 1", v)
	}
	if v := h.got["evt_hot_000002"].Get("X-Version"); v != "2" {
		t.Fatalf("delivery after the change sent X-Version %q, want 2", v)
	}
	dels, err := h.store.Deliveries(ctx, "evt_hot_000002")
	if err != nil || len(dels) != 1 || dels[0].Status != store.StatusDelivered || dels[0].DestinationID != "dst_hot" || dels[0].AttemptCount != 1 {
		t.Fatalf("deliveries = %+v, %v", dels, err)
	}
}

// The fan-out of a new event makes its delivery records and enqueues its
// deliveries in one round trip; run again (the same task retried) it reads
// the records and enqueues nothing that is done, and a copy with another
// receipt is dropped: the delivered event is not sent twice.
func TestFanOutSendsADeliveryOnce(t *testing.T) {
	h := newHotPath(t)
	ctx := context.Background()
	second := h.dest
	second.ID, second.Name = "dst_hot2", "second"
	if err := h.store.SaveDestination(ctx, second); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../testdata/dodo/payment.succeeded.usd.json")
	if err != nil {
		t.Fatal(err)
	}
	p := IngestPayload{Receipt: "r1", EventID: "evt_fan", TenantID: "ten_hot", SourceID: "src_hot", ProviderID: "msg_fan",
		Type: "payment.succeeded", ReceivedAt: time.Now().UTC(), Body: body}
	task, err := appendIngest(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	rdb := h.fan.Client.rdb
	pending := func() []string {
		ids, err := rdb.LRange(ctx, asynqPendingKey(QueueDelivery), 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if err := h.fan.ProcessTask(ctx, asynq.NewTask(TypeIngest, task)); err != nil {
		t.Fatal(err)
	}
	if got := pending(); len(got) != 2 {
		t.Fatalf("pending deliveries after the fan-out: %v, want 2", got)
	}
	dels, err := h.store.Deliveries(ctx, "evt_fan")
	if err != nil || len(dels) != 2 || dels[0].Status != store.StatusPending || dels[1].Status != store.StatusPending {
		t.Fatalf("delivery records = %+v, %v; want two pending", dels, err)
	}

	// The first destination's delivery runs and asynq drops its task.
	msg, err := rdb.HGet(ctx, asynqTaskKey(QueueDelivery, DeliveryTaskID("evt_fan", h.dest.ID)), "msg").Result()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(DeliveryFor("evt_fan", "payment.succeeded", h.dest))
	if !strings.Contains(msg, string(b)) {
		t.Fatalf("delivery task message %q does not carry %s", msg, b)
	}
	if err := h.del.ProcessTask(ctx, asynq.NewTask(TypeDelivery, b)); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, asynqTaskKey(QueueDelivery, DeliveryTaskID("evt_fan", h.dest.ID))).Err(); err != nil {
		t.Fatal(err)
	}
	rdb.LRem(ctx, asynqPendingKey(QueueDelivery), 0, DeliveryTaskID("evt_fan", h.dest.ID))

	// The same ingest task again, then a copy.
	if err := h.fan.ProcessTask(ctx, asynq.NewTask(TypeIngest, task)); err != nil {
		t.Fatal(err)
	}
	// The event's record is its dedupe marker (the window is within the
	// retention): there is no marker of its own to expire.
	if n, err := rdb.Exists(ctx, "hookshift:{e:evt_fan}:dedupe").Result(); err != nil || n != 0 {
		t.Fatalf("a dedupe marker beside the event record: %d, %v", n, err)
	}
	p.Receipt = "r2"
	copyTask, _ := appendIngest(nil, p)
	if err := h.fan.ProcessTask(ctx, asynq.NewTask(TypeIngest, copyTask)); err != nil {
		t.Fatal(err)
	}
	if got := pending(); len(got) != 1 || got[0] != DeliveryTaskID("evt_fan", second.ID) {
		t.Fatalf("pending deliveries after the re-runs: %v, want only %s's", got, second.ID)
	}
	if n := len(h.got); n != 1 {
		t.Fatalf("the destination got %d requests, want 1", n)
	}
}
