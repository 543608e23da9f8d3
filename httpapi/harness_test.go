package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
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
	"github.com/hookshift/hookshift/metrics"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

// clock is a test clock: real time plus an offset the test can move, so a
// secret can be 25 hours old without sleeping while asynq keeps real time.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const rootToken = "root-token-for-tests"

// testEgress lets destinations reach loopback, as HOOKSHIFT_EGRESS_ALLOW=127.0.0.0/8 does.
var testEgress = egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

func (s *stack) egressPolicy() egress.Policy { return testEgress }

// stack is the whole service wired as `hookshift serve` wires it, on a
// private redis-server, with the API on an httptest server.
type stack struct {
	t        *testing.T
	redis    *redistest.Server
	rdb      *redis.Client
	store    *store.Store
	queue    *queue.Client
	engine   *transformer.Engine
	api      *httptest.Server
	insp     *asynq.Inspector
	clock    *clock
	logs     *syncBuffer
	log      zerolog.Logger
	schedule queue.Schedule
	worker   *asynq.Server
	metrics  *metrics.Metrics
	guard    queue.Guard
	alerts   queue.Alerter // Window and PublicURL as the test sets them; the rest is filled in by startWorker
}

func newStack(t *testing.T) *stack {
	t.Helper()
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, DialTimeout: 500 * time.Millisecond,
		ReadTimeout: time.Second, WriteTimeout: time.Second, PoolTimeout: time.Second, MaxRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	sealer, err := store.NewSealer("test-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{}
	logs := &syncBuffer{}
	log := zerolog.New(logs)
	st := store.New(rdb, sealer, store.Options{Now: c.Now})
	sched := queue.Schedule{Delays: []time.Duration{time.Second, time.Second, time.Second}, Jitter: 0}
	qc := queue.NewClient(rdb, sched)
	eng := transformer.New(transformer.Options{Helpers: integrations.ScriptHelpers()})
	srv := &httpapi.Server{Store: st, Queue: qc, Engine: eng,
		Egress:    testEgress,
		RootToken: rootToken, Log: log, Now: c.Now, MaxBodyBytes: 64 << 10}
	api := httptest.NewServer(srv.Handler(httpapi.Roles{Receiver: true, API: true}))
	t.Cleanup(api.Close)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	return &stack{t: t, redis: rs, rdb: rdb, store: st, queue: qc, engine: eng, api: api, insp: insp,
		clock: c, logs: logs, log: log, schedule: sched}
}

// startWorker runs the fan-out and delivery handlers, stopped at cleanup.
// Called twice, it starts a second, independent worker on the same Redis.
func (s *stack) startWorker() {
	s.t.Helper()
	fan := &queue.FanOut{Store: s.store, Client: s.queue, Log: s.log}
	del := &queue.Deliverer{Store: s.store, Engine: s.engine, Schedule: s.schedule, Log: s.log,
		HTTP: testEgress.Client(5 * time.Second), Metrics: s.metrics, Guard: s.guard, Now: s.clock.Now,
		Alerts: &queue.Alerter{Store: s.store, Client: s.queue, Window: s.alerts.Window, PublicURL: s.alerts.PublicURL, Log: s.log, Now: s.clock.Now}}
	srv, mux := queue.NewServer(s.rdb, queue.WorkerOptions{Concurrency: 4, Schedule: s.schedule, Log: s.log,
		PollInterval: 50 * time.Millisecond, ShutdownTimeout: 2 * time.Second}, fan, del,
		&queue.Replayer{Store: s.store, Client: s.queue, Log: s.log})
	if err := srv.Start(mux); err != nil {
		s.t.Fatal(err)
	}
	s.worker = srv
	s.t.Cleanup(srv.Shutdown)
}

// call makes an API request and decodes the JSON answer.
func (s *stack) call(method, path, token string, body any) (int, map[string]any) {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewReader([]byte(b))
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.api.URL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (s *stack) mustCall(want int, method, path, token string, body any) map[string]any {
	s.t.Helper()
	code, out := s.call(method, path, token, body)
	if code != want {
		s.t.Fatalf("%s %s: status %d, want %d: %v", method, path, code, want, out)
	}
	return out
}

func (s *stack) tenant(name string) string {
	s.t.Helper()
	return s.mustCall(201, "POST", "/v1/tenants", rootToken, map[string]any{"name": name})["token"].(string)
}

// source creates a standard-webhooks source and returns its id and secret.
func (s *stack) source(token string) (string, string) {
	s.t.Helper()
	out := s.mustCall(201, "POST", "/v1/sources", token, map[string]any{"name": "dodo", "kind": "standard-webhooks"})
	return out["id"].(string), out["secret"].(string)
}

func (s *stack) destination(token string, body map[string]any) string {
	s.t.Helper()
	return s.mustCall(201, "POST", "/v1/destinations", token, body)["id"].(string)
}

// signed posts body to a source, signed with secret as Dodo would at ts.
func (s *stack) signed(srcID, secret, id string, body []byte, ts time.Time) (int, map[string]any) {
	s.t.Helper()
	k, _ := inbound.Lookup("standard-webhooks")
	h, b, err := k.Sign(nil, secret, id, body, ts)
	if err != nil {
		s.t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.api.URL+"/v1/webhooks/"+srcID, bytes.NewReader(b))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("post webhook: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// waitStatus polls the event until the delivery to destID reaches status.
func (s *stack) waitStatus(token, eventID, destID, status string, within time.Duration) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(within)
	var last map[string]any
	for time.Now().Before(deadline) {
		code, ev := s.call("GET", "/v1/events/"+eventID, token, nil)
		if code == 200 {
			for _, d := range ev["deliveries"].([]any) {
				dm := d.(map[string]any)
				last = dm
				if dm["destination_id"] == destID && dm["status"] == status {
					return dm
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("delivery %s/%s did not reach %q within %v; last: %v", eventID, destID, status, within, last)
	return nil
}

// queueSize counts the tasks in a queue, in every state.
func (s *stack) queueSize(q string) int {
	s.t.Helper()
	info, err := s.insp.GetQueueInfo(q)
	if err != nil {
		return 0 // the queue was never created
	}
	return info.Size
}

// sink is a local HTTP destination that records what it receives and answers
// with the status codes the test scripts.
type sink struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	answer   func(n int, w http.ResponseWriter) // n counts from 1
}

type received struct {
	at     time.Time
	header http.Header
	body   []byte
	method string
	path   string
}

func newSink(t *testing.T, answer func(n int, w http.ResponseWriter)) *sink {
	s := &sink{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, received{at: time.Now(), header: r.Header.Clone(), body: b, method: r.Method, path: r.URL.Path})
		n := len(s.requests)
		s.mu.Unlock()
		if s.answer != nil {
			s.answer(n, w)
			return
		}
		w.WriteHeader(200)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) got() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.requests...)
}

var ctx = context.Background()

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signHeaders signs body as a Standard Webhooks sender would.
func signHeaders(secret, id, body string, ts time.Time) (http.Header, []byte, error) {
	k, _ := inbound.Lookup("standard-webhooks")
	return k.Sign(nil, secret, id, []byte(body), ts)
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
