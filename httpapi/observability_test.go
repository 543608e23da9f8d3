package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/metrics"
	"github.com/hookshift/hookshift/queue"
)

type sharedRedis struct{ s *stack }

func (r sharedRedis) MakeRedisClient() any { return r.s.rdb }

// /monitoring/ refuses requests without the root token and serves the UI and
// its API with it; a task shown there has no secret and no unmasked email.
func TestMonitoringIsOperatorOnlyAndRedacted(t *testing.T) {
	s := newStack(t)
	srv := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, RootToken: rootToken, Log: s.log,
		MonitoringHandler: asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: sharedRedis{s},
			PayloadFormatter: asynqmon.PayloadFormatterFunc(queue.RedactPayload)})}
	api := httptest.NewServer(srv.Handler(httpapi.Roles{API: true}))
	defer api.Close()
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	s.accept(src, secret, "mon-1") // no worker: the task stays pending

	get := func(path string, auth func(*http.Request)) (int, string) {
		req, _ := http.NewRequest("GET", api.URL+path, nil)
		auth(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	none := func(*http.Request) {}
	tenantTok := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	bearerRoot := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+rootToken) }
	basicRoot := func(r *http.Request) { r.SetBasicAuth("operator", rootToken) }
	for _, p := range []string{"/monitoring/", "/monitoring/api/queues"} {
		if code, _ := get(p, none); code != 401 {
			t.Errorf("%s without token: %d", p, code)
		}
		if code, _ := get(p, tenantTok); code != 401 {
			t.Errorf("%s with a tenant token: %d", p, code)
		}
	}
	if code, body := get("/monitoring/", basicRoot); code != 200 || !strings.Contains(body, "<html") {
		t.Fatalf("UI with basic auth: %d %.100s", code, body)
	}
	code, body := get("/monitoring/api/queues/ingest/pending_tasks", bearerRoot)
	if code != 200 || !strings.Contains(body, "payment.succeeded") {
		t.Fatalf("pending tasks: %d %.300s", code, body)
	}
	for _, leaked := range []string{"ann@example.com", secret} {
		if strings.Contains(body, leaked) {
			t.Fatalf("monitoring API shows %q: %.500s", leaked, body)
		}
	}
	if !strings.Contains(body, `a***@example.com`) {
		t.Fatalf("masked email missing: %.500s", body)
	}
}

// The metrics counters move as expected across one accepted, one duplicate
// and one rejected webhook, and one delivered and one failed delivery.
func TestMetricsCountOutcomes(t *testing.T) {
	s := newStack(t)
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	srv := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, RootToken: rootToken, Log: s.log,
		Egress: s.egressPolicy(), Metrics: m, MetricsHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	s.api.Config.Handler = srv.Handler(httpapi.Roles{Receiver: true, API: true})
	s.metrics = m
	s.startWorker()
	ok := newSink(t, nil)
	bad := newSink(t, func(n int, w http.ResponseWriter) { w.WriteHeader(400) })
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dOK := s.destination(tok, map[string]any{"source_id": src, "name": "ok", "integration": "http", "url": ok.URL})
	dBad := s.destination(tok, map[string]any{"source_id": src, "name": "bad", "integration": "http", "url": bad.URL})

	ev := s.accept(src, secret, "met-1")
	if code, _ := s.signed(src, secret, "met-1", []byte(paymentBody), time.Now()); code != 200 {
		t.Fatalf("duplicate: %d", code)
	}
	if code, _ := s.signed(src, "whsec_"+strings.Repeat("B", 43)+"=", "met-2", []byte(paymentBody), time.Now()); code != 401 {
		t.Fatalf("bad signature: %d", code)
	}
	s.waitStatus(tok, ev, dOK, "delivered", 10*time.Second)
	s.waitStatus(tok, ev, dBad, "failed", 10*time.Second)

	_, text := s.scrape()
	for _, want := range []string{
		`hookshift_webhooks_received_total{kind="standard-webhooks",outcome="accepted"} 1`,
		`hookshift_webhooks_received_total{kind="standard-webhooks",outcome="duplicate"} 1`,
		`hookshift_webhooks_received_total{kind="standard-webhooks",outcome="invalid_signature"} 1`,
		`hookshift_delivery_attempts_total{integration="http",outcome="delivered"} 1`,
		`hookshift_delivery_attempts_total{integration="http",outcome="permanent"} 1`,
		`hookshift_event_age_at_delivery_seconds_count{integration="http"} 1`,
		`hookshift_destination_response_seconds_count{integration="http"} 2`,
		`hookshift_receive_duration_seconds_count{kind="standard-webhooks"} 3`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, ev) || strings.Contains(text, ok.URL) {
		t.Errorf("metrics carry an event id or URL as a label")
	}
}

func (s *stack) scrape() (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.api.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+rootToken) // /metrics on the main address needs it
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
