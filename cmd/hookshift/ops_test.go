package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/hookshift/hookshift/internal/redistest"
)

const opsToken = "tok_ops_test"

// opsRequest is what the fake API saw.
type opsRequest struct {
	Method, Path, Query, Body string
}

// opsFake is a stand-in for the admin API: routes keyed "METHOD /path", the
// bearer token checked on every request as the real API does, every request
// recorded.
type opsFake struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	seen []opsRequest
}

func newOpsFake(t *testing.T, routes map[string]http.HandlerFunc) *opsFake {
	t.Helper()
	f := &opsFake{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.seen = append(f.seen, opsRequest{r.Method, r.URL.Path, r.URL.RawQuery, string(body)})
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+opsToken {
			opsJSON(w, 401, `{"error":{"code":"unauthorized","message":"unknown token"}}`)
			return
		}
		h, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			opsJSON(w, 404, `{"error":{"code":"not_found","message":"no route"}}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *opsFake) requests() []opsRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]opsRequest(nil), f.seen...)
}

func opsJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// runOps runs the CLI against the fake with its URL and token.
func runOps(t *testing.T, f *opsFake, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--api", f.srv.URL, "--token", opsToken)
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// hasRow reports whether some line of out has exactly these
// whitespace-separated cells.
func hasRow(out string, cells ...string) bool {
	want := strings.Join(cells, " ")
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == want {
			return true
		}
	}
	return false
}

var (
	opsT1 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	opsT2 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
)

func TestEventsSearchBuildsQueryAndFollowsCursors(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{
		"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Query().Get("cursor") {
			case "":
				opsJSON(w, 200, `{"data":[{"id":"evt_1","tenant_id":"ten_1","source_id":"src_1","type":"payment.succeeded","received_at":"2025-03-01T10:00:00Z"}],"next_cursor":"1740820000000"}`)
			case "1740820000000":
				opsJSON(w, 200, `{"data":[{"id":"evt_2","tenant_id":"ten_1","source_id":"src_1","type":"payment.failed","received_at":"2025-03-01T09:00:00Z"}],"next_cursor":""}`)
			default:
				opsJSON(w, 400, `{"error":{"code":"invalid","message":"cursor: invalid cursor"}}`)
			}
		},
	})
	code, out, errOut := runOps(t, f, "events", "search", "--type", "payment.succeeded", "--customer-id", "cus_1",
		"--email", "ann@example.com", "--payment-id", "pay_1", "--source-id", "src_1", "--all")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("want 2 pages fetched, got %d: %+v", len(reqs), reqs)
	}
	for i, want := range []string{
		"customer_id=cus_1&email=ann%40example.com&limit=500&payment_id=pay_1&source_id=src_1&type=payment.succeeded",
		"cursor=1740820000000&customer_id=cus_1&email=ann%40example.com&limit=500&payment_id=pay_1&source_id=src_1&type=payment.succeeded",
	} {
		if reqs[i].Query != want {
			t.Errorf("request %d query\n got %s\nwant %s", i, reqs[i].Query, want)
		}
	}
	if !hasRow(out, "ID", "TYPE", "SOURCE", "RECEIVED") ||
		!hasRow(out, "evt_1", "payment.succeeded", "src_1", opsTime(opsT1)) ||
		!hasRow(out, "evt_2", "payment.failed", "src_1", opsTime(opsT2)) {
		t.Fatalf("table:\n%s", out)
	}
	if strings.Contains(errOut, "more:") {
		t.Errorf("--all still hints at more: %s", errOut)
	}

	// Without --all: one page, the server's default limit, and a hint.
	f2 := newOpsFake(t, map[string]http.HandlerFunc{"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 200, `{"data":[{"id":"evt_1","source_id":"src_1","type":"t","received_at":"2025-03-01T10:00:00Z"}],"next_cursor":"99"}`)
	}})
	code, out, errOut = runOps(t, f2, "events", "search", "--limit", "1")
	if code != 0 || len(f2.requests()) != 1 || f2.requests()[0].Query != "limit=1" {
		t.Fatalf("exit %d, requests %+v", code, f2.requests())
	}
	if !hasRow(out, "evt_1", "t", "src_1", opsTime(opsT1)) || !strings.Contains(errOut, "more: --cursor 99") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestEventsSearchJSONPassesThrough(t *testing.T) {
	page1 := `{"data":[{"id":"evt_1","type":"a"}],"next_cursor":"5"}`
	page2 := `{"data":[{"id":"evt_2","type":"b"}],"next_cursor":""}`
	f := newOpsFake(t, map[string]http.HandlerFunc{"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "5" {
			opsJSON(w, 200, page2)
			return
		}
		opsJSON(w, 200, page1)
	}})
	code, out, errOut := runOps(t, f, "events", "search", "--json")
	if code != 0 || out != page1+"\n" || errOut != "" {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	// --all --json: every page's data in one document.
	code, out, _ = runOps(t, f, "events", "search", "--all", "--json")
	if code != 0 || out != `{"data":[{"id":"evt_1","type":"a"},{"id":"evt_2","type":"b"}],"next_cursor":""}`+"\n" {
		t.Fatalf("exit %d: %s", code, out)
	}
}

const opsEventJSON = `{"id":"evt_1","tenant_id":"ten_1","source_id":"src_1","provider_id":"msg_1","type":"payment.succeeded",
"received_at":"2025-03-01T10:00:00Z","payload":{"amount":100},
"deliveries":[
 {"destination_id":"dst_ok","status":"delivered","attempt_count":1,"updated_at":"2025-03-01T10:00:01Z",
  "attempts":[{"number":1,"at":"2025-03-01T10:00:01Z","outcome":"delivered","status_code":200,"duration_ms":42.4}]},
 {"destination_id":"dst_bad","status":"retrying","attempt_count":2,"last_error":"HTTP 503:\nupstream  down","updated_at":"2025-03-01T10:00:05Z",
  "attempts":[
   {"number":1,"at":"2025-03-01T10:00:01Z","outcome":"retry","status_code":503,"duration_ms":120,"error":"HTTP 503: upstream down"},
   {"number":2,"at":"2025-03-01T10:00:05Z","outcome":"retry","duration_ms":3.25,"error":"dial tcp: connection refused"}]},
 {"destination_id":"dst_new","status":"pending","attempt_count":0,"updated_at":"2025-03-01T10:00:00Z","attempts":[]}]}`

func TestEventsShowRendersDeliveriesAndAttempts(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{"GET /v1/events/evt_1": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 200, opsEventJSON)
	}})
	code, out, errOut := runOps(t, f, "events", "show", "evt_1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	at1 := opsTime(time.Date(2025, 3, 1, 10, 0, 1, 0, time.UTC))
	at2 := opsTime(time.Date(2025, 3, 1, 10, 0, 5, 0, time.UTC))
	for _, row := range [][]string{
		{"Event:", "evt_1"}, {"Type:", "payment.succeeded"}, {"Source:", "src_1"}, {"Provider", "ID:", "msg_1"},
		{"Received:", opsTime(opsT1)},
		{"DESTINATION", "STATUS", "ATTEMPTS", "LAST", "ERROR"},
		{"dst_ok", "delivered", "1", "-"},
		{"dst_bad", "retrying", "2", "HTTP", "503:", "upstream", "down"},
		{"dst_new", "pending", "0", "-"},
		{"Attempts", "to", "dst_ok:"},
		{"#", "AT", "OUTCOME", "HTTP", "MS", "ERROR"},
		{"1", at1, "delivered", "200", "42", "-"},
		{"Attempts", "to", "dst_bad:"},
		{"1", at1, "retry", "503", "120", "HTTP", "503:", "upstream", "down"},
		{"2", at2, "retry", "-", "3.2", "dial", "tcp:", "connection", "refused"},
	} {
		if !hasRow(out, row...) {
			t.Errorf("no row %q in:\n%s", row, out)
		}
	}
	if strings.Contains(out, "Attempts to dst_new") || strings.Contains(out, "amount") {
		t.Errorf("unexpected section:\n%s", out)
	}
	// --json: the API's JSON as is.
	code, out, _ = runOps(t, f, "events", "show", "--json", "evt_1")
	if code != 0 || out != opsEventJSON+"\n" {
		t.Fatalf("--json: exit %d, %q", code, out)
	}
	// --payload prints it, indented.
	if _, out, _ = runOps(t, f, "events", "show", "evt_1", "--payload"); !strings.Contains(out, `"amount": 100`) {
		t.Fatalf("--payload:\n%s", out)
	}
}

func TestReplayEventPostsBody(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{"POST /v1/events/evt_1/replay": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 202, `{"event_id":"evt_1","destination_ids":["dst_1"]}`)
	}})
	// Flags after the id work too.
	code, out, errOut := runOps(t, f, "replay", "evt_1", "--destination", "dst_1")
	if code != 0 || out != "replaying evt_1 to dst_1\n" {
		t.Fatalf("exit %d: %q %s", code, out, errOut)
	}
	code, _, _ = runOps(t, f, "replay", "evt_1")
	reqs := f.requests()
	if code != 0 || len(reqs) != 2 {
		t.Fatalf("exit %d, %+v", code, reqs)
	}
	if reqs[0].Body != `{"destination_id":"dst_1"}` || reqs[1].Body != "" {
		t.Fatalf("bodies: %q, %q", reqs[0].Body, reqs[1].Body)
	}
	if code, out, _ = runOps(t, f, "replay", "--json", "evt_1"); code != 0 || out != `{"event_id":"evt_1","destination_ids":["dst_1"]}`+"\n" {
		t.Fatalf("--json: %d %q", code, out)
	}
}

func TestReplayDestinationSince(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{"POST /v1/destinations/dst_1/replay": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 202, `{"replayed":3}`)
	}})
	code, out, errOut := runOps(t, f, "replay", "--destination", "dst_1", "--since", "2025-03-01T10:00:00+02:00")
	if code != 0 || !strings.HasPrefix(out, "replaying 3 events to dst_1") {
		t.Fatalf("exit %d: %q %s", code, out, errOut)
	}
	if b := f.requests()[0].Body; b != `{"since":"2025-03-01T08:00:00Z"}` {
		t.Fatalf("body %s", b)
	}
	before := time.Now()
	if code, _, errOut = runOps(t, f, "replay", "--destination", "dst_1", "--since", "2h"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var body struct{ Since time.Time }
	if err := json.Unmarshal([]byte(f.requests()[1].Body), &body); err != nil {
		t.Fatal(err)
	}
	if want := before.Add(-2 * time.Hour); body.Since.Before(want.Add(-2*time.Second)) || body.Since.After(want.Add(2*time.Second)) {
		t.Fatalf("since %v, want about %v", body.Since, want)
	}
	if got, err := opsParseSince("7d", before); err != nil || !got.Equal(before.Add(-7*24*time.Hour)) {
		t.Fatalf("7d: %v %v", got, err)
	}
}

func TestReplayFromFileBoundedWithProgress(t *testing.T) {
	var inFlight, peak atomic.Int32
	handler := func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		id := strings.Split(r.URL.Path, "/")[3]
		if id == "evt_gone" {
			opsJSON(w, 404, `{"error":{"code":"not_found","message":"event not found"}}`)
			return
		}
		opsJSON(w, 202, `{"event_id":"`+id+`","destination_ids":["dst_1","dst_2"]}`)
	}
	routes := map[string]http.HandlerFunc{}
	var lines []string
	for i := range 12 {
		id := "evt_" + string(rune('a'+i))
		routes["POST /v1/events/"+id+"/replay"] = handler
		lines = append(lines, id)
	}
	routes["POST /v1/events/evt_gone/replay"] = handler
	f := newOpsFake(t, routes)
	file := filepath.Join(t.TempDir(), "ids.txt")
	content := "# from a search\n\n" + strings.Join(lines[:6], "\n") + "\nevt_gone\n" + strings.Join(lines[6:], "\n") + "\nevt_a\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runOps(t, f, "replay", "--from-file", file, "--progress")
	if code != 1 {
		t.Fatalf("one event failed: want exit 1, got %d\n%s", code, errOut)
	}
	if n := len(f.requests()); n != 13 {
		t.Fatalf("want 13 requests (blank, comment and repeat skipped), got %d", n)
	}
	if p := peak.Load(); p > 4 || p < 2 {
		t.Fatalf("peak concurrency %d, want 2..4", p)
	}
	for _, want := range []string{
		"hookshift: evt_gone: event not found (not_found)",
		"[##############################] 100% 13/13",
		"replayed 12 of 13 events (24 deliveries queued); 1 failed",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%q", want, errOut)
		}
	}
	if out != "" {
		t.Errorf("stdout: %q", out)
	}
}

func TestReplayFromFileStopsOnAuthFailure(t *testing.T) {
	f := newOpsFake(t, nil)
	var ids []string
	for i := range 200 {
		ids = append(ids, "evt_"+strings.Repeat("x", i%5+1)+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	file := filepath.Join(t.TempDir(), "ids.txt")
	os.WriteFile(file, []byte(strings.Join(ids, "\n")), 0o600)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"replay", "--from-file", file, "--api", f.srv.URL, "--token", "wrong"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	if n := len(f.requests()); n > 8 {
		t.Fatalf("kept going after 401: %d requests", n)
	}
	if !strings.Contains(stderr.String(), "unknown token (unauthorized)") || !strings.Contains(stderr.String(), "not tried") {
		t.Fatalf("stderr: %s", stderr.String())
	}
}

func TestDLQHitsAsynqmonPaths(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{
		"GET /monitoring/api/queues/delivery/archived_tasks": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.RawQuery != "page=1&size=100" {
				t.Errorf("query %s", r.URL.RawQuery)
			}
			opsJSON(w, 200, `{"tasks":[{"id":"evt_1:dst_1","type":"delivery:send","payload":"{}","queue":"delivery","max_retry":25,"retried":25,
"error_message":"HTTP 410: gone","last_failed_at":"2025-03-01T10:00:00Z"}],"stats":{"queue":"delivery","archived":150}}`)
		},
		"POST /monitoring/api/queues/delivery/archived_tasks:run_all": func(w http.ResponseWriter, r *http.Request) {
			opsJSON(w, 200, `{"scheduled":150}`)
		},
		"POST /monitoring/api/queues/delivery/archived_tasks/evt_1:dst_1:run": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(204)
		},
		"POST /monitoring/api/queues/delivery/archived_tasks/evt_2:dst_1:run": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "asynq: task not found", 500)
		},
		"GET /monitoring/api/queues/fresh/archived_tasks": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "asynq: queue not found", 500)
		},
		// asynqmon serves its UI page, 200, for a path it does not route.
		"POST /monitoring/api/queues/other/archived_tasks/x:run": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html></html>")
		},
	})
	// The root token may come from HOOKSHIFT_ADMIN_TOKEN for dlq.
	t.Setenv("HOOKSHIFT_TOKEN", "")
	t.Setenv("HOOKSHIFT_ADMIN_TOKEN", opsToken)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"dlq", "list", "--api", f.srv.URL}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if !hasRow(out, "TASK", "ID", "TYPE", "LAST", "FAILED", "ERROR") ||
		!hasRow(out, "evt_1:dst_1", "delivery:send", opsTime(opsT1), "HTTP", "410:", "gone") {
		t.Fatalf("table:\n%s", out)
	}
	if !strings.Contains(stderr.String(), "1 of 150 archived tasks shown; more: --page 2") {
		t.Errorf("stderr: %s", stderr.String())
	}

	code, out, errOut := runOps(t, f, "dlq", "replay", "--all")
	if code != 0 || out != "150 archived tasks in delivery queued to run again\n" {
		t.Fatalf("--all: %d %q %s", code, out, errOut)
	}
	code, out, errOut = runOps(t, f, "dlq", "replay", "evt_1:dst_1")
	if code != 0 || out != "1 of 1 archived tasks in delivery queued to run again\n" {
		t.Fatalf("one: %d %q %s", code, out, errOut)
	}
	code, out, errOut = runOps(t, f, "dlq", "replay", "--json", "evt_1:dst_1", "evt_2:dst_1")
	if code != 1 || out != `{"queue":"delivery","run":["evt_1:dst_1"]}`+"\n" ||
		!strings.Contains(errOut, "hookshift: evt_2:dst_1: asynq: task not found (http 500)") {
		t.Fatalf("two: %d %q %s", code, out, errOut)
	}
	// asynq answers 500 for a queue it has never seen: an empty dead-letter list.
	code, out, _ = runOps(t, f, "dlq", "list", "--queue", "fresh")
	if code != 0 || !strings.HasPrefix(out, "no archived tasks in fresh") {
		t.Fatalf("unknown queue: %d %q", code, out)
	}
	code, _, errOut = runOps(t, f, "dlq", "replay", "--queue", "other", "x")
	if code != 1 || !strings.Contains(errOut, "task not run") {
		t.Fatalf("HTML answer taken for success: %d %s", code, errOut)
	}
	code, out, _ = runOps(t, f, "dlq", "replay", "--all", "--json")
	if code != 0 || out != `{"scheduled":150}`+"\n" {
		t.Fatalf("--all --json: %d %q", code, out)
	}
}

// The paths above are asynqmon's own: its real handler, on a real Redis,
// lists an archived delivery task (whose id holds colons) and runs it again.
func TestDLQAgainstAsynqmon(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	cl := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	const id = "evt_1:dst_1"
	if _, err := cl.Enqueue(asynq.NewTask("delivery:send", []byte(`{"event_id":"evt_1","destination_id":"dst_1"}`)),
		asynq.Queue("delivery"), asynq.TaskID(id)); err != nil {
		t.Fatal(err)
	}
	if err := insp.ArchiveTask("delivery", id); err != nil {
		t.Fatal(err)
	}
	mon := asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: sharedRedis{rdb}})
	mux := http.NewServeMux()
	mux.Handle("/monitoring/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+opsToken {
			opsJSON(w, 401, `{"error":{"code":"unauthorized","message":"root token"}}`)
			return
		}
		mon.ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := &opsFake{t: t, srv: srv}

	code, out, errOut := runOps(t, f, "dlq", "list")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "delivery:send") {
		t.Fatalf("list: %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut = runOps(t, f, "dlq", "replay", id); code != 0 {
		t.Fatalf("replay: %d %s %s", code, out, errOut)
	}
	info, err := insp.GetTaskInfo("delivery", id)
	if err != nil || info.State != asynq.TaskStatePending {
		t.Fatalf("after replay: %+v %v", info, err)
	}
	if code, out, _ = runOps(t, f, "dlq", "replay", "--all"); code != 0 || !strings.HasPrefix(out, "0 archived tasks") {
		t.Fatalf("run_all: %d %q", code, out)
	}
}

func TestOpsAPIErrorsExit1WithMessage(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{
		"GET /v1/events/evt_x": func(w http.ResponseWriter, r *http.Request) {
			opsJSON(w, 404, `{"error":{"code":"not_found","message":"event not found"}}`)
		},
		"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "storage is down", 503)
		},
	})
	code, out, errOut := runOps(t, f, "events", "show", "evt_x")
	if code != 1 || out != "" || errOut != "hookshift: event not found (not_found)\n" {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	code, _, errOut = runOps(t, f, "events", "search", "--json")
	if code != 1 || errOut != "hookshift: storage is down (http 503)\n" {
		t.Fatalf("exit %d %q", code, errOut)
	}
	var stdout, stderr bytes.Buffer
	code = run(context.Background(), []string{"events", "show", "evt_x", "--api", f.srv.URL, "--token", "nope"}, &stdout, &stderr)
	if code != 1 || stderr.String() != "hookshift: unknown token (unauthorized)\n" {
		t.Fatalf("exit %d %q", code, stderr.String())
	}
}

func TestOpsUsageErrorsExit2(t *testing.T) {
	t.Setenv("HOOKSHIFT_TOKEN", "")
	t.Setenv("HOOKSHIFT_ADMIN_TOKEN", "")
	for _, args := range [][]string{
		{"events"},
		{"events", "frob"},
		{"events", "show"},
		{"events", "show", "evt_1"}, // no token
		{"events", "search", "--limit", "900", "--token", "t"},
		{"events", "search", "--bogus"},
		{"replay", "--token", "t"},
		{"replay", "evt_1", "evt_2", "--token", "t"},
		{"replay", "--since", "1h", "--token", "t"},
		{"replay", "--destination", "d", "--since", "yesterday", "--token", "t"},
		{"replay", "evt_1", "--from-file", "x", "--token", "t"},
		{"replay", "evt_1", "--token", "t", "--api", "localhost:8080"},
		{"dlq", "replay", "--token", "t"},
		{"dlq", "replay", "--all", "task", "--token", "t"},
		{"dlq", "list"}, // no token
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage:") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

func TestProgressBarRenders(t *testing.T) {
	for _, c := range []struct {
		done int
		want string
	}{
		{0, "[          ] 0% 0/1000"},
		{500, "[#####     ] 50% 500/1000"},
		{1000, "[##########] 100% 1000/1000"},
	} {
		if got := renderProgress(c.done, 1000, 10); got != c.want {
			t.Errorf("%d: got %q, want %q", c.done, got, c.want)
		}
	}
	var buf bytes.Buffer
	p := newProgressBar(&buf, 2)
	p.add(1)
	p.clear()
	p.add(1)
	p.finish()
	want := "\r[" + strings.Repeat(" ", 30) + "] 0% 0/2" +
		"\r[" + strings.Repeat("#", 15) + strings.Repeat(" ", 15) + "] 50% 1/2" +
		"\r" + strings.Repeat(" ", 40) + "\r" +
		"\r[" + strings.Repeat("#", 30) + "] 100% 2/2\n"
	if buf.String() != want {
		t.Fatalf("got  %q\nwant %q", buf.String(), want)
	}
	var nilBar *progressBar // a disabled bar is a nil one
	nilBar.add(1)
	nilBar.clear()
	nilBar.finish()
}
