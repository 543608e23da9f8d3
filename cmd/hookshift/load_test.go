package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/egress"
	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

const loadTestRoot = "load-test-root-token"

// loadStack wires a receiver and admin API as `hookshift serve` does, on a
// private redis-server, optionally with workers.
type loadStack struct {
	redis *redistest.Server
	rdb   *redis.Client
	api   *httptest.Server
	insp  *asynq.Inspector
}

func newLoadStack(t *testing.T, workers bool) *loadStack { return newLoadStackTB(t, workers) }

func newLoadStackTB(t testing.TB, workers bool) *loadStack {
	t.Helper()
	rs := redistest.Start(t)
	rdb := rs.Client()
	sealer, err := store.NewSealer("load-test-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.Nop()
	st := store.New(rdb, sealer, store.Options{})
	sched := queue.DefaultSchedule()
	qc := queue.NewClient(rdb, sched)
	eng := transformer.New(transformer.Options{Helpers: integrations.ScriptHelpers()})
	policy := egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	if workers {
		fan := &queue.FanOut{Store: st, Client: qc, Log: log}
		del := &queue.Deliverer{Store: st, Engine: eng, HTTP: policy.Client(5 * time.Second), Schedule: sched, Log: log}
		srv, mux := queue.NewServer(rdb, queue.WorkerOptions{Concurrency: 8, Schedule: sched, Log: log,
			PollInterval: 20 * time.Millisecond, ShutdownTimeout: 2 * time.Second}, fan, del, &queue.Replayer{Store: st, Client: qc, Log: log})
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
	}
	api := &httpapi.Server{Store: st, Queue: qc, Engine: eng, Egress: policy, RootToken: loadTestRoot, Log: log}
	hs := httptest.NewServer(api.Handler(httpapi.Roles{Receiver: true, API: true}))
	t.Cleanup(hs.Close)
	return &loadStack{redis: rs, rdb: rdb, api: hs, insp: asynq.NewInspectorFromRedisClient(rdb)}
}

func runLoadJSON(t *testing.T, args ...string) (loadReport, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append([]string{"load", "--json", "--event", "../../testdata/dodo/payment.succeeded.usd.json"}, args...)
	code := run(context.Background(), args, &stdout, &stderr)
	var rep loadReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("hookshift %s: exit %d, output is not a JSON report: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, err, stdout.String(), stderr.String())
	}
	if code != 0 {
		t.Fatalf("hookshift %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	return rep, stderr.String()
}

// The tool really sends: every request is accepted, and the queue holds
// exactly that many ingest tasks (no duplicates, nothing left out). The
// baseline it runs first on the same Redis is cleaned up after itself.
func TestLoadCompareAgainstReceiver(t *testing.T) {
	s := newLoadStack(t, false)
	const n = 120
	rep, _ := runLoadJSON(t, "--compare", "--api", s.api.URL, "--admin-token", loadTestRoot,
		"--redis-url", s.redis.URL(), "--requests", strconv.Itoa(n), "--concurrency", "6")

	r := rep.Receiver
	if r == nil || r.Requests != n || r.Accepted != n || r.Errors != 0 || r.Duplicates != 0 || r.StatusCodes["202"] != n {
		t.Fatalf("receiver run: %+v, want %d requests all answered 202", r, n)
	}
	if r.Latency.P50 <= 0 || r.Latency.P50 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
		t.Errorf("latency percentiles are not ordered: %+v", r.Latency)
	}
	b := rep.Baseline
	if b == nil || b.Accepted != n || b.Errors != 0 {
		t.Fatalf("baseline run: %+v, want %d enqueued", b, n)
	}
	if rep.Ratio <= 0 {
		t.Errorf("ratio = %v", rep.Ratio)
	}
	qi, err := s.insp.GetQueueInfo(queue.QueueIngest)
	if err != nil {
		t.Fatal(err)
	}
	if qi.Size != n {
		t.Fatalf("ingest queue holds %d tasks, want the %d accepted events (baseline tasks deleted)", qi.Size, n)
	}
	tasks, err := s.insp.ListPendingTasks(queue.QueueIngest, asynq.PageSize(n+10))
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range tasks {
		if ti.Type != queue.TypeIngest {
			t.Fatalf("task %s has type %q, want only the receiver's %q", ti.ID, ti.Type, queue.TypeIngest)
		}
	}
	if m := rep.Redis; m == nil || m.Accepted != n || m.After <= m.Before || m.BytesPerEvt <= 0 || m.Pending != n {
		t.Errorf("redis memory report: %+v, want growth over %d queued events", m, n)
	}
}

// With workers and --sink-addr, every accepted event is delivered to the
// tool's own sink, once, and end-to-end latency is reported.
func TestLoadDeliversToSink(t *testing.T) {
	s := newLoadStack(t, true)
	const n = 40
	rep, _ := runLoadJSON(t, "--api", s.api.URL, "--admin-token", loadTestRoot, "--sink-addr", "127.0.0.1:0",
		"--redis-url", s.redis.URL(), "--requests", strconv.Itoa(n), "--rate", "400", "--concurrency", "8", "--drain-timeout", "30s")
	if r := rep.Receiver; r == nil || r.Accepted != n || r.Loop != "open" || r.Service == nil {
		t.Fatalf("receiver run: %+v", r)
	}
	d := rep.Delivery
	if d == nil || d.Accepted != n || d.Delivered != n || d.Missing != 0 || d.Repeats != 0 {
		t.Fatalf("delivery: %+v, want all %d delivered once", d, n)
	}
	if d.EndToEnd.P99 <= 0 || d.DeliveredPS <= 0 {
		t.Errorf("delivery figures: %+v", d)
	}
	if m := rep.Redis; m == nil || !m.Settled || m.Pending != 0 {
		t.Errorf("redis memory report: %+v, want queues settled", m)
	}
}

func TestLoadRefusesNonLoopback(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://10.0.0.1:8080/v1/webhooks/src_x", "--secret", "whsec_x"},
		{"--url", "http://example.com/v1/webhooks/src_x", "--secret", "whsec_x"},
		{"--url", "http://127.0.0.1:8080/v1/webhooks/src_x", "--secret", "whsec_x", "--redis-url", "redis://192.168.1.2:6379"},
		{"--url", "http://127.0.0.1:8080/v1/webhooks/src_x", "--secret", "whsec_x", "--sink-addr", "0.0.0.0:9999"},
		{"--baseline", "--url", "http://127.0.0.1:8080/x", "--secret", "s"},           // no --redis-url
		{"--compare-http-redis", "--url", "http://127.0.0.1:8080/x", "--secret", "s"}, // no --redis-url
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"load"}, args...), &stdout, &stderr); code != 2 {
			t.Errorf("load %v: exit %d, want 2 (usage error); stderr %s", args, code, stderr.String())
		}
	}
}

func TestLoadSummarize(t *testing.T) {
	ds := make([]time.Duration, 0, 100)
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := loadSummarize(ds)
	want := loadLatency{P50: 50, P95: 95, P99: 99, Max: 100, Mean: 50.5}
	if got != want {
		t.Fatalf("loadSummarize = %+v, want %+v", got, want)
	}
}

// BenchmarkReceiverIngest loads an in-process receiver (no workers) through
// the load tool's own generator, for CPU profiles of the ingest path:
//
//	go test ./cmd/hookshift -run '^$' -bench ReceiverIngest -benchtime 20000x -cpuprofile /tmp/cpu.out
//	go tool pprof -top -cum -focus 'httpapi.\(\*Server\).receive' cmd/hookshift.test /tmp/cpu.out
func BenchmarkReceiverIngest(b *testing.B) {
	s := newLoadStackTB(b, false)
	o := loadOptions{api: s.api.URL, url: s.api.URL, adminToken: loadTestRoot, concurrency: 16, timeout: 10 * time.Second}
	client := s.api.Client()
	ingest, secret, _, err := loadSetupSource(context.Background(), client, o, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	body, err := os.ReadFile("../../testdata/dodo/payment.succeeded.usd.json")
	if err != nil {
		b.Fatal(err)
	}
	kind, _ := inbound.Lookup("standard-webhooks")
	rt := &loadReceiverTarget{url: ingest, secret: secret, kind: kind, body: body, runID: loadRandomHex(4), client: client}
	b.ResetTimer()
	st, _ := loadGenerate(context.Background(), o, rt, b.N, 0, 0)
	b.StopTimer()
	if st.Accepted != b.N {
		b.Fatalf("accepted %d of %d: %s", st.Accepted, b.N, st.FirstError)
	}
	b.ReportMetric(st.Latency.P99, "p99-ms")
}

// --compare-http runs the same signed load against the built-in null handler
// first and reports receiver ÷ null handler, in the JSON report and in the
// printed one.
func TestLoadCompareHTTP(t *testing.T) {
	s := newLoadStack(t, false)
	const n = 60
	rep, _ := runLoadJSON(t, "--compare-http", "--api", s.api.URL, "--admin-token", loadTestRoot,
		"--requests", strconv.Itoa(n), "--concurrency", "4")
	if h := rep.NullHTTP; h == nil || h.Target != "null-http" || h.Accepted != n || h.StatusCodes["202"] != n {
		t.Fatalf("null handler run: %+v, want %d requests answered 202", h, n)
	}
	if r := rep.Receiver; r == nil || r.Accepted != n {
		t.Fatalf("receiver run: %+v", r)
	}
	if rep.HTTPRatio <= 0 {
		t.Fatalf("receiver_to_null_http_throughput = %v, want a ratio", rep.HTTPRatio)
	}
	// The null run enqueued nothing: the queue holds the receiver's events only.
	if qi, err := s.insp.GetQueueInfo(queue.QueueIngest); err != nil || qi.Size != n {
		t.Fatalf("ingest queue: %+v %v, want %d tasks", qi, err, n)
	}

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"load", "--event", "../../testdata/dodo/payment.succeeded.usd.json", "--compare-http",
		"--api", s.api.URL, "--admin-token", loadTestRoot, "--requests", "20", "--concurrency", "2"}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "receiver/null-http throughput: ") || !strings.Contains(stdout.String(), "null-http (closed loop") {
		t.Fatalf("exit %d, printed report has no null-http run and ratio:\n%s\n%s", code, stdout.String(), stderr.String())
	}
}

// --compare-http-redis runs the same load against a null handler that stores
// every body in the receiver's Redis before answering: Redis saw one RPUSH
// per request (warm-up included), the list is gone afterwards, and the
// report has the run and its ratio.
func TestLoadCompareHTTPRedis(t *testing.T) {
	s := newLoadStack(t, false)
	const n, warm = 40, 5
	rpushes := func() int {
		t.Helper()
		info, err := s.rdb.Info(context.Background(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(info, "cmdstat_rpush:calls=")
		if !ok {
			return 0
		}
		num, _, _ := strings.Cut(rest, ",")
		c, err := strconv.Atoi(num)
		if err != nil {
			t.Fatalf("commandstats: %v", err)
		}
		return c
	}
	before := rpushes()
	rep, _ := runLoadJSON(t, "--compare-http-redis", "--api", s.api.URL, "--admin-token", loadTestRoot, "--redis-url", s.redis.URL(),
		"--requests", strconv.Itoa(n), "--warmup", strconv.Itoa(warm), "--concurrency", "4")
	if h := rep.NullHTTPRedis; h == nil || h.Target != "null-http-redis" || h.Accepted != n || h.StatusCodes["202"] != n {
		t.Fatalf("null-http-redis run: %+v, want %d requests answered 202", h, n)
	}
	if rep.HTTPRedisRatio <= 0 || rep.NullHTTP != nil {
		t.Fatalf("receiver_to_null_http_redis_throughput = %v (null_http %+v), want a ratio and no --compare-http run", rep.HTTPRedisRatio, rep.NullHTTP)
	}
	if got := rpushes() - before; got != n+warm {
		t.Fatalf("Redis ran %d RPUSH, want one per request to the null handler (%d)", got, n+warm)
	}
	if keys, err := s.rdb.Keys(context.Background(), "hookshift-load:null-http-redis:*").Result(); err != nil || len(keys) != 0 {
		t.Fatalf("the null handler's list is still there: %v %v", keys, err)
	}
}

// --compare-pipeline feeds the same requests through the least the path can
// do on bare asynq: a null receiver enqueues each body, the task hands it
// to a second, which posts it. Each body is posted once, the report has the
// run and delivered/s ÷ its rate, and the private queue is gone afterwards.
func TestLoadComparePipeline(t *testing.T) {
	s := newLoadStack(t, true)
	ctx := context.Background()
	var posted sync.Map
	var posts atomic.Int64
	ac := asynq.NewClientFromRedisClient(s.rdb)
	st, err := loadBareAsynq(ctx, s.rdb, "load-pipeline-unit", 50, 8, 30*time.Second, func(_ context.Context, b []byte) error {
		posts.Add(1)
		posted.Store(string(b), true)
		return nil
	}, func() error {
		for i := range 50 {
			if _, err := ac.EnqueueContext(ctx, asynq.NewTask(loadNoopTaskType, []byte(strconv.Itoa(i))), asynq.Queue("load-pipeline-unit")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || st.Processed != 50 || st.PerEvent != st.PerSecond || st.PerEvent <= 0 {
		t.Fatalf("pipeline: %+v %v, want 50 events, counted once each", st, err)
	}
	for i := range 50 {
		if _, ok := posted.Load(strconv.Itoa(i)); !ok {
			t.Fatalf("body %d was never posted", i)
		}
	}
	if posts.Load() != 50 {
		t.Fatalf("posted %d times, want once per event", posts.Load())
	}

	const n = 30
	rep, _ := runLoadJSON(t, "--compare-pipeline", "--api", s.api.URL, "--admin-token", loadTestRoot,
		"--sink-addr", "127.0.0.1:0", "--redis-url", s.redis.URL(), "--requests", strconv.Itoa(n), "--concurrency", "4", "--drain-timeout", "30s")
	if p := rep.Pipeline; p == nil || p.Processed != n || p.PerEvent <= 0 || rep.PipelineRatio <= 0 {
		t.Fatalf("pipeline baseline: %+v, ratio %v: want the run's %d requests posted on and a ratio", p, rep.PipelineRatio, n)
	}
	if d := rep.Delivery; d == nil || d.Delivered != n || d.Untracked != 0 {
		t.Fatalf("delivery: %+v; want the receiver's %d events only at the sink", d, n)
	}
	qs, err := s.insp.Queues()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if strings.HasPrefix(q, "load-pipeline-") {
			t.Fatalf("the pipeline queue %s is left behind", q)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"load", "--compare-pipeline", "--url", "http://127.0.0.1:1/x", "--secret", "whsec_x", "--redis-url", "redis://127.0.0.1:1", "--sink-addr", "127.0.0.1:0"}, &stdout, &stderr); code != 2 {
		t.Fatalf("--compare-pipeline without --requests: exit %d, want 2 (usage)", code)
	}
}

// --compare-processing times bare asynq no-op processing on the same Redis,
// then the end-to-end run, and reports delivered/s ÷ (no-op rate ÷ 2); its
// private queue is gone afterwards.
func TestLoadCompareProcessing(t *testing.T) {
	s := newLoadStack(t, true)
	const n = 30
	rep, _ := runLoadJSON(t, "--compare-processing", "--processing-tasks", "200", "--api", s.api.URL, "--admin-token", loadTestRoot,
		"--sink-addr", "127.0.0.1:0", "--redis-url", s.redis.URL(), "--requests", strconv.Itoa(n), "--concurrency", "4", "--drain-timeout", "30s")
	p := rep.Processing
	if p == nil || p.Tasks != 200 || p.Processed != 200 || p.Concurrency != 64 || p.PerSecond <= 0 || p.PerEvent <= 0 {
		t.Fatalf("processing baseline: %+v, want 200 no-op tasks run at concurrency 64", p)
	}
	if d := rep.Delivery; d == nil || d.Delivered != n {
		t.Fatalf("delivery: %+v", d)
	}
	if rep.ProcessingRatio <= 0 {
		t.Fatalf("delivered_to_processing_per_event = %v, want a ratio", rep.ProcessingRatio)
	}
	qs, err := s.insp.Queues()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if strings.HasPrefix(q, "load-noop-") {
			t.Fatalf("the no-op queue %s is left behind", q)
		}
	}

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"load", "--compare-processing", "--url", "http://127.0.0.1:1/x", "--secret", "whsec_x"}, &stdout, &stderr); code != 2 {
		t.Fatalf("--compare-processing without --redis-url and --sink-addr: exit %d, want 2 (usage)", code)
	}
}
