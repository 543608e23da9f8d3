package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/queue"
)

// monitoringAPI serves the stack's API with asynqmon mounted as serve does.
func (s *stack) monitoringAPI(readOnly bool) *httptest.Server {
	s.t.Helper()
	srv := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, RootToken: rootToken, Log: s.log,
		MonitoringHandler: asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: sharedRedis{s},
			PayloadFormatter: asynqmon.PayloadFormatterFunc(queue.RedactPayload), ReadOnly: readOnly})}
	api := httptest.NewServer(srv.Handler(httpapi.Roles{API: true}))
	s.t.Cleanup(api.Close)
	return api
}

func do(t *testing.T, method, url string, set func(*http.Request)) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if set != nil {
		set(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func basicRoot(r *http.Request) { r.SetBasicAuth("operator", rootToken) }

// The UI loads nothing from another origin (it works air-gapped), its
// manifest and icons answer without credentials while everything else needs
// them, and every queue exists before its first task.
func TestMonitoringAsServed(t *testing.T) {
	s := newStack(t)
	api := s.monitoringAPI(false)

	code, h, body := do(t, "GET", api.URL+"/monitoring/", basicRoot)
	if code != 200 || !strings.Contains(body, "<html") {
		t.Fatalf("UI: %d %.200s", code, body)
	}
	if ext := regexp.MustCompile(`(?i)(href|src)\s*=\s*"(https?:)?//`).FindString(body); ext != "" || strings.Contains(body, "fonts.googleapis") {
		t.Fatalf("the UI's HTML references another origin (%q):\n%s", ext, body)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q does not keep the UI to its origin", csp)
	}
	// A deep link is the same page, rewritten the same way.
	if _, _, deep := do(t, "GET", api.URL+"/monitoring/queues/delivery", basicRoot); strings.Contains(deep, "fonts.googleapis") {
		t.Fatal("a deep link's HTML references Google Fonts")
	}

	for _, p := range []string{"/monitoring/manifest.json", "/monitoring/favicon.ico", "/monitoring/android-chrome-192x192.png", "/monitoring/apple-touch-icon.png"} {
		if code, _, body := do(t, "GET", api.URL+p, nil); code != 200 || len(body) == 0 {
			t.Errorf("%s without credentials: %d, want 200", p, code)
		}
	}
	for _, p := range []string{"/monitoring/", "/monitoring/api/queues", "/monitoring/static/js/main.5adda2da.chunk.js", "/monitoring/robots.txt", "/monitoring/queues/manifest.json"} {
		if code, _, _ := do(t, "GET", api.URL+p, nil); code != 401 {
			t.Errorf("%s without credentials: %d, want 401", p, code)
		}
	}
	if code, _, _ := do(t, "DELETE", api.URL+"/monitoring/manifest.json", nil); code != 401 {
		t.Errorf("DELETE manifest.json without credentials: %d, want 401", code)
	}

	// No task was ever enqueued: each queue still exists once ensured.
	if err := s.queue.EnsureQueues(ctx, s.rdb); err != nil {
		t.Fatal(err)
	}
	for _, q := range queue.Queues() {
		code, _, body := do(t, "GET", api.URL+"/monitoring/api/queues/"+q+"/archived_tasks", basicRoot)
		if code != 200 {
			t.Errorf("queue %s before its first task: %d %.200s", q, code, body)
		}
		if info, err := s.insp.GetQueueInfo(q); err != nil || info.Size != 0 {
			t.Errorf("queue %s: %v, %+v; want it empty", q, err, info)
		}
	}
	if err := s.queue.EnsureQueues(ctx, s.rdb); err != nil {
		t.Fatalf("ensuring twice: %v", err)
	}
}

// A cross-site POST carrying the operator's basic-auth login cannot change
// anything in /monitoring/ (or replay dead letters); the same request from
// hookshift's own page, or from a non-browser client, can.
func TestMonitoringRefusesCrossSiteChanges(t *testing.T) {
	s := newStack(t)
	api := s.monitoringAPI(false)
	if err := s.queue.EnsureQueues(ctx, s.rdb); err != nil {
		t.Fatal(err)
	}
	paused := func() bool {
		info, err := s.insp.GetQueueInfo(queue.QueueIngest)
		if err != nil {
			t.Fatal(err)
		}
		return info.Paused
	}
	pause := api.URL + "/monitoring/api/queues/ingest:pause"
	for name, set := range map[string]func(*http.Request){
		"evil origin":          func(r *http.Request) { basicRoot(r); r.Header.Set("Origin", "https://evil.example") },
		"cross-site fetch":     func(r *http.Request) { basicRoot(r); r.Header.Set("Sec-Fetch-Site", "cross-site") },
		"same-site subdomain":  func(r *http.Request) { basicRoot(r); r.Header.Set("Sec-Fetch-Site", "same-site") },
		"null origin (iframe)": func(r *http.Request) { basicRoot(r); r.Header.Set("Origin", "null") },
		"fetch header wins": func(r *http.Request) {
			basicRoot(r)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			r.Header.Set("Origin", api.URL)
		},
	} {
		code, _, body := do(t, "POST", pause, set)
		if code != 403 || !strings.Contains(body, "cross_site_request") {
			t.Errorf("%s: %d %s, want 403", name, code, body)
		}
		if paused() {
			t.Fatalf("%s paused the queue", name)
		}
	}
	for _, m := range []string{"DELETE", "PUT", "PATCH"} {
		if code, _, _ := do(t, m, api.URL+"/monitoring/api/queues/ingest", func(r *http.Request) { basicRoot(r); r.Header.Set("Origin", "https://evil.example") }); code != 403 {
			t.Errorf("cross-site %s: %d, want 403", m, code)
		}
	}
	// Every state-changing root endpoint, not only the UI's.
	for _, ep := range []struct{ method, path string }{
		{"POST", "/v1/dlq/replay"}, {"POST", "/v1/tenants"}, {"POST", "/v1/tenants/ten_x/rotate-token"},
		{"DELETE", "/v1/tenants/ten_x/token"}, {"POST", "/v1/events/evt_x/replay"}, {"POST", "/v1/portal-links"},
	} {
		if code, _, body := do(t, ep.method, api.URL+ep.path, func(r *http.Request) {
			basicRoot(r)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}); code != 403 || !strings.Contains(body, "cross_site_request") {
			t.Errorf("cross-site %s %s: %d %s, want 403", ep.method, ep.path, code, body)
		}
	}

	// The UI's own request (same origin) works, and so does curl.
	code, _, body := do(t, "POST", pause, func(r *http.Request) {
		basicRoot(r)
		r.Header.Set("Origin", api.URL)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	})
	if code >= 300 || !paused() {
		t.Fatalf("same-origin pause: %d %s, paused %v", code, body, paused())
	}
	if code, _, body := do(t, "POST", api.URL+"/monitoring/api/queues/ingest:resume", basicRoot); code >= 300 || paused() {
		t.Fatalf("resume without browser headers: %d %s", code, body)
	}
}

// What an operator sees of a delivery task in /monitoring/ says whose it is,
// to which destination and integration, and for what event, with no secret.
func TestDeliveryTaskShowsWhoAndWhere(t *testing.T) {
	s := newStack(t)
	api := s.monitoringAPI(true)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "Revenue", "integration": "datafast",
		"url": "http://127.0.0.1:9/api/v1/payments?key=s3cr3tQuery", "config": map[string]any{"api_key": "s3cr3tApiKey"}})
	ev := s.accept(src, secret, "who-1")

	// Run the fan-out by hand (no worker), leaving the delivery task pending.
	ingest, err := s.insp.ListPendingTasks(queue.QueueIngest)
	if err != nil || len(ingest) != 1 {
		t.Fatalf("ingest tasks: %v %v", ingest, err)
	}
	fan := &queue.FanOut{Store: s.store, Client: s.queue, Log: s.log}
	if err := fan.ProcessTask(ctx, asynq.NewTask(queue.TypeIngest, ingest[0].Payload)); err != nil {
		t.Fatal(err)
	}
	code, _, body := do(t, "GET", api.URL+"/monitoring/api/queues/delivery/pending_tasks", basicRoot)
	if code != 200 {
		t.Fatalf("pending deliveries: %d %s", code, body)
	}
	var out struct {
		Tasks []struct {
			Payload string `json:"payload"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Tasks) != 1 {
		t.Fatalf("pending deliveries: %v %s", err, body)
	}
	var shown map[string]string
	if err := json.Unmarshal([]byte(out.Tasks[0].Payload), &shown); err != nil {
		t.Fatalf("payload shown: %v %q", err, out.Tasks[0].Payload)
	}
	tenantID := s.mustCall(200, "GET", "/v1/events/"+ev, tok, nil)["tenant_id"]
	want := map[string]any{"event_id": ev, "destination_id": dst, "tenant_id": tenantID, "destination_name": "Revenue",
		"integration": "datafast", "event_type": "payment.succeeded"}
	for k, v := range want {
		if shown[k] != v {
			t.Errorf("task shows %s = %q, want %q (all: %v)", k, shown[k], v, shown)
		}
	}
	if strings.Contains(body, "s3cr3t") || strings.Contains(body, secret) {
		t.Fatalf("task shows a secret: %s", body)
	}
}

// A destination's error answer quoting the customer's email and phone does
// not put them on asynqmon's dead-letter page.
func TestMonitoringRedactsErrorTexts(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	api := s.monitoringAPI(true)
	sk := newSink(t, func(n int, w http.ResponseWriter) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":"unknown customer","email":"ann.lee@example.com","phone":"+1 555 123 4567","api_key":"k_9f8e7d6c5b4a"}`))
	})
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "crm", "integration": "http", "url": sk.URL})
	ev := s.accept(src, secret, "redact-err-1")
	s.waitStatus(tok, ev, dst, "failed", 10*time.Second)
	s.waitArchived(1)

	code, _, body := do(t, "GET", api.URL+"/monitoring/api/queues/delivery/archived_tasks", basicRoot)
	if code != 200 || !strings.Contains(body, "unknown customer") {
		t.Fatalf("archived tasks: %d %s", code, body)
	}
	for _, leaked := range []string{"ann.lee@example.com", "555 123 45", "k_9f8e7d6c5b4a"} {
		if strings.Contains(body, leaked) {
			t.Errorf("dead-letter page shows %q: %s", leaked, body)
		}
	}
	if !strings.Contains(body, "a***@example.com") {
		t.Errorf("masked email missing: %s", body)
	}

	// The UI is read-only, so it cannot run the dead letter; the admin API can.
	var archived struct {
		Tasks []struct {
			ID string `json:"id"`
		} `json:"tasks"`
	}
	_ = json.Unmarshal([]byte(body), &archived)
	if len(archived.Tasks) != 1 {
		t.Fatalf("archived tasks: %s", body)
	}
	id := archived.Tasks[0].ID
	if code, _, _ := do(t, "POST", api.URL+"/monitoring/api/queues/delivery/archived_tasks/"+id+":run", basicRoot); code < 400 {
		t.Fatalf("read-only UI ran a task: %d", code)
	}
	out := s.mustCall(200, "GET", "/v1/dlq", rootToken, nil)
	if d := out["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != id {
		t.Fatalf("GET /v1/dlq while the UI is read-only: %v", out)
	}
	if out := s.mustCall(202, "POST", "/v1/dlq/replay", rootToken, map[string]any{"ids": []string{id}}); out["replayed"] != float64(1) {
		t.Fatalf("POST /v1/dlq/replay while the UI is read-only: %v", out)
	}
}
