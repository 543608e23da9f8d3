package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/hookshift/hookshift/internal/redistest"
)

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
