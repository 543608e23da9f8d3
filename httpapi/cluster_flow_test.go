package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/internal/redisconn"
	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/metrics"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

// clusterShards is the delivery shard count of the cluster tests: on the
// three masters redis-cli makes, delivery-0, -1 and -2 hash to one each.
const clusterShards = 3

// newClusterStack is newStack on a private 3-master Redis Cluster, through
// a go-redis ClusterClient, with a worker serving clusterShards delivery
// shards. The stack's single-Redis fields (redis, rdb) stay nil.
func newClusterStack(t *testing.T, ack queue.DurableAck) (*stack, *redistest.Cluster, redis.UniversalClient) {
	t.Helper()
	if os.Getenv("HOOKSHIFT_SKIP_CLUSTER") != "" {
		t.Skip("HOOKSHIFT_SKIP_CLUSTER is set")
	}
	c := redistest.StartCluster(t)
	// The client hookshift serve builds for HOOKSHIFT_REDIS_URL=redis-cluster://...
	target, err := redisconn.Parse(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	cc := target.Client(redisconn.ServeOptions)
	t.Cleanup(func() { _ = cc.Close() })
	sealer, err := store.NewSealer("test-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	logs := &syncBuffer{}
	log := zerolog.New(logs)
	st := store.New(cc, sealer, store.Options{Now: clk.Now})
	sched := queue.Schedule{Delays: []time.Duration{time.Second, time.Second, time.Second}, Jitter: 0}
	qc := queue.NewClient(cc, sched, queue.WithDurableAck(ack)).WithDeliveryShards(clusterShards)
	if err := qc.EnsureQueues(ctx, cc); err != nil {
		t.Fatal(err)
	}
	eng := transformer.New(transformer.Options{Helpers: integrations.ScriptHelpers()})
	srv := &httpapi.Server{Store: st, Queue: qc, Engine: eng, Egress: testEgress,
		RootToken: rootToken, Log: log, Now: clk.Now, MaxBodyBytes: 64 << 10}
	api := httptest.NewServer(srv.Handler(httpapi.Roles{Receiver: true, API: true}))
	t.Cleanup(api.Close)
	s := &stack{t: t, store: st, queue: qc, engine: eng, api: api, insp: asynq.NewInspectorFromRedisClient(cc),
		clock: clk, logs: logs, log: log, schedule: sched}
	fan := &queue.FanOut{Store: st, Client: qc, Log: log}
	del := &queue.Deliverer{Store: st, Engine: eng, Schedule: sched, Log: log,
		HTTP: testEgress.Client(5 * time.Second), Now: clk.Now}
	w, mux := queue.NewServer(cc, queue.WorkerOptions{Concurrency: 8, Schedule: sched, Log: log, DeliveryShards: clusterShards,
		PollInterval: 50 * time.Millisecond, ShutdownTimeout: 2 * time.Second}, fan, del,
		&queue.Replayer{Store: st, Client: qc, Log: log})
	if err := w.Start(mux); err != nil {
		t.Fatal(err)
	}
	s.worker = w
	t.Cleanup(w.Shutdown)
	return s, c, cc
}

// clusterRedis hands asynqmon the cluster client, as serve's sharedRedis does.
type clusterRedis struct{ c redis.UniversalClient }

func (r clusterRedis) MakeRedisClient() any { return r.c }

// keyed counts a sink's requests by Idempotency-Key.
func keyed(sk *sink) map[string]int {
	out := map[string]int{}
	for _, r := range sk.got() {
		out[r.header.Get("Idempotency-Key")]++
	}
	return out
}

func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The whole flow on a 3-master Redis Cluster: receive, dedupe, fan-out to
// two destinations whose delivery shards live on different masters,
// delivery, search by email across pages, the DLQ and its replay, and an
// event replay with the same Idempotency-Key.
func TestWholeFlowOnCluster(t *testing.T) {
	s, c, cc := newClusterStack(t, queue.DurableAck{})
	var bFails atomic.Bool
	bFails.Store(true)
	okSink := newSink(t, nil)
	badSink := newSink(t, func(n int, w http.ResponseWriter) {
		if bFails.Load() {
			w.WriteHeader(400) // permanent: dead-lettered at once
			return
		}
		w.WriteHeader(200)
	})
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dA := s.destination(tok, map[string]any{"source_id": src, "name": "a", "integration": "http", "url": okSink.URL})
	var dB string
	for dB == "" || queue.DeliveryQueueOf(dB, clusterShards) == queue.DeliveryQueueOf(dA, clusterShards) {
		if dB != "" {
			s.mustCall(204, "DELETE", "/v1/destinations/"+dB, tok, nil)
		}
		dB = s.destination(tok, map[string]any{"source_id": src, "name": "b", "integration": "http", "url": badSink.URL})
	}
	qA, qB := queue.DeliveryQueueOf(dA, clusterShards), queue.DeliveryQueueOf(dB, clusterShards)
	masters := map[string]bool{}
	for _, q := range queue.DeliveryQueuesFor(clusterShards) {
		masters[c.MasterOf("{"+q+"}")] = true
	}
	mA, mB := c.MasterOf("{"+qA+"}"), c.MasterOf("{"+qB+"}")
	t.Logf("delivery shards on %d masters; %s (destination a) on %s, %s (destination b) on %s", len(masters), qA, mA, qB, mB)
	if len(masters) < 2 || mA == mB {
		t.Fatalf("delivery shards share a master: %v", masters)
	}

	const n = 10
	var ids []string
	for i := range n {
		body := dodoPayment("payment.succeeded", fmt.Sprintf("cus_%d", i%2), fmt.Sprintf("User%d@Example.com", i%2), fmt.Sprintf("pay_%d", i))
		code, out := s.signed(src, secret, fmt.Sprintf("msg_%d", i), body, time.Now())
		if code != 202 {
			t.Fatalf("post %d: %d %v", i, code, out)
		}
		ids = append(ids, out["event_id"].(string))
		if i == 0 { // the platform's retry of the same webhook
			if code, again := s.signed(src, secret, "msg_0", body, time.Now()); code/100 != 2 || again["event_id"] != ids[0] {
				t.Fatalf("duplicate: %d %v", code, again)
			}
		}
		s.waitRecorded(tok, ids[i]) // received times ascend
	}
	waitUntil(t, 30*time.Second, "every event delivered to a", func() bool { return len(keyed(okSink)) == n })
	for _, id := range ids {
		s.waitStatus(tok, id, dA, "delivered", 10*time.Second)
		s.waitStatus(tok, id, dB, "failed", 10*time.Second)
	}
	for k, times := range keyed(okSink) {
		if times != 1 {
			t.Errorf("destination a got %s %d times (the duplicate was not dropped)", k, times)
		}
	}

	// Search by email, two per page: the five events of user0, newest first.
	got := s.search(tok, url.Values{"email": {"user0@example.com"}, "limit": {"2"}})
	want := []string{ids[8], ids[6], ids[4], ids[2], ids[0]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("search by email = %v, want %v", got, want)
	}

	// The DLQ holds destination b's deliveries, in b's shard; replayed after
	// the fix, they are delivered.
	var dead []any
	for cursor := ""; ; {
		out := s.mustCall(200, "GET", "/v1/dlq?limit=3&cursor="+url.QueryEscape(cursor), rootToken, nil)
		dead = append(dead, out["data"].([]any)...)
		if cursor, _ = out["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if len(dead) != n {
		t.Fatalf("%d dead letters, want %d", len(dead), n)
	}
	bFails.Store(false)
	out := s.mustCall(202, "POST", "/v1/dlq/replay", rootToken, map[string]any{"all": true})
	if out["replayed"] != float64(n) {
		t.Fatalf("dlq replay: %v", out)
	}
	for _, id := range ids {
		s.waitStatus(tok, id, dB, "delivered", 20*time.Second)
	}

	// asynqmon and the metrics see every shard, on the cluster.
	mon := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, RootToken: rootToken, Log: s.log,
		MonitoringHandler: asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: clusterRedis{cc}, ReadOnly: true})}
	monAPI := httptest.NewServer(mon.Handler(httpapi.Roles{API: true}))
	defer monAPI.Close()
	code, _, body := do(t, "GET", monAPI.URL+"/monitoring/api/queues", basicRoot)
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.QueueCollector{Inspector: s.insp, Queues: queue.QueuesIn(cc, clusterShards), Ping: s.store.Ping})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("metrics on the cluster: %v", err)
	}
	var series strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				series.WriteString(l.GetValue() + " ")
			}
			if mf.GetName() == "hookshift_redis_up" && m.GetGauge().GetValue() != 1 {
				t.Fatal("hookshift_redis_up is not 1 on the cluster")
			}
		}
	}
	for _, q := range queue.QueuesFor(clusterShards) {
		if code != 200 || !strings.Contains(body, `"`+q+`"`) {
			t.Fatalf("asynqmon on the cluster: %d, queue %s missing: %.300s", code, q, body)
		}
		if !strings.Contains(series.String(), q+" ") {
			t.Fatalf("metrics miss queue %s: %s", q, series.String())
		}
	}

	// An event replayed to a: the same Idempotency-Key again.
	s.mustCall(202, "POST", "/v1/events/"+ids[3]+"/replay", tok, map[string]any{"destination_id": dA})
	key := queue.DeliveryTaskID(ids[3], dA)
	waitUntil(t, 20*time.Second, "replay delivered", func() bool { return keyed(okSink)[key] == 2 })
}

// post signs and posts a webhook as stack.signed does, but answers 0 on a
// transport error instead of failing the test: the load runs in goroutines.
func post(s *stack, src, secret, id string, body []byte) (int, map[string]any) {
	h, b, err := signHeaders(secret, id, string(body), time.Now())
	if err != nil {
		return 0, nil
	}
	req, _ := http.NewRequest("POST", s.api.URL+"/v1/webhooks/"+src, bytes.NewReader(b))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// SIGKILL a master under a steady stream of webhooks, with
// HOOKSHIFT_ACK_REPLICAS=1: after its replica takes over, every event that
// was answered 2xx is delivered. (Without durable acknowledgement a task
// still in the killed master's replication buffer can be lost.)
func TestClusterMasterKilledUnderLoad(t *testing.T) {
	s, c, _ := newClusterStack(t, queue.DurableAck{Replicas: 1, Timeout: time.Second})
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "a", "integration": "http", "url": sk.URL})

	var mu sync.Mutex
	acked := map[string]bool{}
	codes := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	defer halt()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := dodoPayment("payment.succeeded", "cus_1", "a@example.com", fmt.Sprintf("pay_%d_%d", w, i))
				code, out := post(s, src, secret, fmt.Sprintf("load_%d_%d", w, i), body)
				mu.Lock()
				codes[code]++
				if code/100 == 2 {
					acked[out["event_id"].(string)] = true
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitUntil(t, 20*time.Second, "load under way", func() bool { return count() >= 30 })
	victim := c.MasterOf("{ingest}") // the receiver's every write goes there
	took := c.Kill(victim)           // SIGKILL, then wait for the replica
	t.Logf("replica took over %s in %v", victim, took.Round(100*time.Millisecond))
	// The new master has no replica now, so with ACK_REPLICAS=1 the receiver
	// answers 503 until one is back: the killed node restarts and rejoins as
	// the new master's replica.
	c.Node(victim).Restart()
	c.WaitOK()
	before := count()
	waitUntil(t, 30*time.Second, "2xx again after the failover", func() bool { return count() >= before+30 })
	halt()

	mu.Lock()
	t.Logf("answers during the run: %v; %d events acknowledged", codes, len(acked))
	mu.Unlock()
	// A task that was active on the killed master waits for its lease to
	// run out (30 s) and asynq's recoverer (every minute) to run it again.
	deadline := time.Now().Add(150 * time.Second)
	for {
		got := keyed(sk)
		var missing []string
		for id := range acked {
			if got[queue.DeliveryTaskID(id, dst)] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, id := range missing {
				var where []string
				if ti, err := s.insp.GetTaskInfo(queue.QueueIngest, id); err == nil {
					where = append(where, fmt.Sprintf("ingest task %s (retried %d, %s)", ti.State, ti.Retried, ti.LastErr))
				}
				q := queue.DeliveryQueueOf(dst, clusterShards)
				if ti, err := s.insp.GetTaskInfo(q, queue.DeliveryTaskID(id, dst)); err == nil {
					where = append(where, fmt.Sprintf("delivery task in %s %s (retried %d, %s)", q, ti.State, ti.Retried, ti.LastErr))
				}
				if _, err := s.store.GetEvent(ctx, "", id); err == nil {
					where = append(where, "event recorded")
				}
				t.Logf("%s: %v", id, where)
			}
			t.Fatalf("%d of %d acknowledged events never delivered: %v", len(missing), len(acked), missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
