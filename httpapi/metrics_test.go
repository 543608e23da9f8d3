package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/metrics"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
)

// withOperatorMetrics serves /metrics with the queue and destination
// collectors, as serve wires them.
func (s *stack) withOperatorMetrics() {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.QueueCollector{Inspector: s.insp, Queues: queue.Queues(), Ping: s.store.Ping},
		&metrics.DestinationCollector{Integrations: []string{"http", "datafast"}, MaxAge: time.Nanosecond,
			Census: func(ctx context.Context) (map[string]int, map[string]int, error) {
				c, err := s.store.DestinationCensus(ctx)
				return c.Disabled, c.CircuitOpen, err
			}})
	srv := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, RootToken: rootToken, Log: s.log,
		Egress: s.egressPolicy(), MetricsHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	s.api.Config.Handler = srv.Handler(httpapi.Roles{Receiver: true, API: true})
}

// While Redis is down, /metrics says so and reports no queue size (a zero
// would clear a dead-letter alert exactly when Redis dies); once it is back,
// the sizes return.
func TestQueueMetricsWhileRedisIsDown(t *testing.T) {
	s := newStack(t)
	s.withOperatorMetrics()
	if err := s.queue.EnsureQueues(ctx, s.rdb); err != nil {
		t.Fatal(err)
	}
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	s.accept(src, secret, "m-1") // no worker: one pending ingest task

	_, text := s.scrape()
	for _, want := range []string{"hookshift_redis_up 1", `hookshift_queue_tasks{queue="ingest",state="pending"} 1`,
		`hookshift_queue_tasks{queue="replay",state="archived"} 0`, `hookshift_queue_tasks{queue="delivery",state="archived"} 0`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	s.redis.Stop()
	code, text := s.scrape()
	if code != 200 || !strings.Contains(text, "hookshift_redis_up 0") {
		t.Fatalf("scrape with Redis down: %d, want 200 with hookshift_redis_up 0:\n%.500s", code, text)
	}
	if strings.Contains(text, "hookshift_queue_tasks{") || strings.Contains(text, "hookshift_destinations_disabled{") {
		t.Fatalf("queue or destination gauges reported while Redis is down:\n%s", text)
	}

	s.redis.Restart() // empty again: nothing persisted
	_, text = s.scrape()
	if !strings.Contains(text, "hookshift_redis_up 1") || !strings.Contains(text, `hookshift_queue_tasks{queue="ingest",state="pending"} 0`) {
		t.Fatalf("metrics after Redis came back:\n%s", text)
	}
}

// Disabled destinations and open circuits are counted by integration.
func TestDestinationHealthMetrics(t *testing.T) {
	s := newStack(t)
	s.withOperatorMetrics()
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	ids := make([]string, 3)
	for i := range ids {
		ids[i] = s.destination(tok, map[string]any{"source_id": src, "name": "d", "integration": "http", "url": "http://127.0.0.1:9/x"})
	}
	_, text := s.scrape()
	for _, want := range []string{`hookshift_destinations_disabled{integration="http"} 0`, `hookshift_destinations_circuit_open{integration="http"} 0`,
		`hookshift_destinations_disabled{integration="datafast"} 0`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	d, err := s.store.GetDestination(ctx, "", ids[0])
	if err != nil {
		t.Fatal(err)
	}
	d.Disabled, d.DisabledReason = true, "destination answered 410 Gone"
	if err := s.store.SaveDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.RecordHealth(ctx, ids[1], false, store.CircuitPolicy{Threshold: 1, Cooldown: time.Hour, MaxCooldown: time.Hour}); err != nil {
		t.Fatal(err)
	}
	_, text = s.scrape()
	for _, want := range []string{`hookshift_destinations_disabled{integration="http"} 1`, `hookshift_destinations_circuit_open{integration="http"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, ids[0]) || strings.Contains(text, ids[1]) {
		t.Fatal("a destination id is a label")
	}
}

// /metrics on the main address needs the root token.
func TestMetricsNeedRootOnMainAddress(t *testing.T) {
	s := newStack(t)
	s.withOperatorMetrics()
	tok := s.tenant("acme")
	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {tok, 401}, {rootToken, 200}} {
		req, _ := http.NewRequest("GET", s.api.URL+"/metrics", nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("/metrics with token %q: %d, want %d", c.token, resp.StatusCode, c.want)
		}
	}
}

// /readyz shows whether Redis keeps acknowledged events: AOF, and a
// maxmemory-policy that never evicts them.
func TestReadyzShowsRedisDurability(t *testing.T) {
	s := newStack(t) // the test Redis runs with appendonly no
	_, out := s.call("GET", "/readyz", "", nil)
	r, _ := out["redis"].(map[string]any)
	if out["status"] != "ready" || r == nil || r["aof"] != false || r["maxmemory_policy"] != "noeviction" {
		t.Fatalf("/readyz = %v", out)
	}
	if w := fmt.Sprint(r["warnings"]); !strings.Contains(w, "appendonly yes") || strings.Contains(w, "maxmemory") {
		t.Fatalf("warnings = %s, want only the AOF one", w)
	}

	for k, v := range map[string]string{"appendonly": "yes", "maxmemory-policy": "allkeys-lru"} {
		if err := s.rdb.ConfigSet(ctx, k, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	_, out = s.call("GET", "/readyz", "", nil)
	r, _ = out["redis"].(map[string]any)
	if r["aof"] != true || r["maxmemory_policy"] != "allkeys-lru" {
		t.Fatalf("/readyz = %v", out)
	}
	if w := fmt.Sprint(r["warnings"]); strings.Contains(w, "appendonly") || !strings.Contains(w, "maxmemory-policy noeviction") {
		t.Fatalf("warnings = %s, want only the eviction one", w)
	}
}
