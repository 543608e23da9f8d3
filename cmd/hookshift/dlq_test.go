package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// dlqContract is a stand-in for the admin API's dead-letter endpoints, as
// API.md states them: GET /v1/dlq?limit=&cursor= (newest first, paged by
// next_cursor) and POST /v1/dlq/replay {"all": true} | {"ids": [...]} → 202
// {"replayed": N}. A replayed dead letter leaves the list. /monitoring/ is
// not routed at all: the CLI must not need it.
type dlqContract struct {
	mu   sync.Mutex
	dead []map[string]any
}

func newDLQContract(n int) *dlqContract {
	c := &dlqContract{}
	for i := range n {
		c.dead = append(c.dead, map[string]any{
			"id": "dlq_" + strconv.Itoa(i), "event_id": "evt_" + strconv.Itoa(i), "destination_id": "dst_1",
			"tenant_id": "ten_1", "integration": "datafast", "reason": "HTTP 410: gone",
			"failed_at": opsT1.Add(-time.Duration(i) * time.Minute).Format(time.RFC3339), "attempts": 8,
		})
	}
	return c
}

func (c *dlqContract) routes(t *testing.T) map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /v1/dlq": func(w http.ResponseWriter, r *http.Request) {
			c.mu.Lock()
			defer c.mu.Unlock()
			limit, start := 50, 0
			if v := r.URL.Query().Get("limit"); v != "" {
				limit, _ = strconv.Atoi(v)
			}
			if v := r.URL.Query().Get("cursor"); v != "" {
				start, _ = strconv.Atoi(v)
			}
			end := min(start+limit, len(c.dead))
			next := ""
			if end < len(c.dead) {
				next = strconv.Itoa(end)
			}
			b, _ := json.Marshal(map[string]any{"data": c.dead[start:end], "next_cursor": next})
			opsJSON(w, 200, string(b))
		},
		"POST /v1/dlq/replay": func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				All bool     `json:"all"`
				IDs []string `json:"ids"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.All == (len(in.IDs) > 0) {
				opsJSON(w, 400, `{"error":{"code":"invalid","message":"give all or ids"}}`)
				return
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			n := len(c.dead)
			c.dead = slices.DeleteFunc(c.dead, func(d map[string]any) bool { return in.All || slices.Contains(in.IDs, d["id"].(string)) })
			opsJSON(w, 202, `{"replayed":`+strconv.Itoa(n-len(c.dead))+`}`)
		},
	}
}

func TestDLQUsesAdminAPI(t *testing.T) {
	dc := newDLQContract(3)
	f := newOpsFake(t, dc.routes(t))
	// The root token may come from HOOKSHIFT_ADMIN_TOKEN for dlq.
	t.Setenv("HOOKSHIFT_TOKEN", "")
	t.Setenv("HOOKSHIFT_ADMIN_TOKEN", opsToken)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"dlq", "list", "--api", f.srv.URL, "--limit", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if !hasRow(out, "ID", "EVENT", "DESTINATION", "TENANT", "INTEGRATION", "FAILED", "REASON") ||
		!hasRow(out, "dlq_0", "evt_0", "dst_1", "ten_1", "datafast", opsTime(opsT1), "HTTP", "410:", "gone") ||
		!hasRow(out, "dlq_1", "evt_1", "dst_1", "ten_1", "datafast", opsTime(opsT1.Add(-time.Minute)), "HTTP", "410:", "gone") ||
		strings.Contains(out, "dlq_2") {
		t.Fatalf("table:\n%s", out)
	}
	if !strings.Contains(stderr.String(), "more: --cursor 2") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if got := f.requests()[0]; got.Path != "/v1/dlq" || got.Query != "limit=2" {
		t.Errorf("request %+v", got)
	}

	// --all follows the cursor; --json gives one document.
	code, out, errOut := runOps(t, f, "dlq", "list", "--limit", "1", "--all", "--json")
	var page struct {
		Data []opsDeadLetter `json:"data"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Data) != 3 || page.Data[2].ID != "dlq_2" {
		t.Fatalf("--all --json: %d %q %s", code, out, errOut)
	}

	// Replay by id sends the ids; the dead letter leaves the list.
	code, out, errOut = runOps(t, f, "dlq", "replay", "dlq_1")
	if code != 0 || out != "1 of 1 dead letters queued to run again\n" {
		t.Fatalf("replay one: %d %q %s", code, out, errOut)
	}
	if reqs := f.requests(); reqs[len(reqs)-1].Body != `{"ids":["dlq_1"]}` {
		t.Fatalf("body %s", reqs[len(reqs)-1].Body)
	}
	// An id that is no longer a dead letter: counted, exit 1.
	code, out, errOut = runOps(t, f, "dlq", "replay", "dlq_1", "dlq_2")
	if code != 1 || out != "1 of 2 dead letters queued to run again\n" || !strings.Contains(errOut, "no longer dead letters") {
		t.Fatalf("replay gone: %d %q %s", code, out, errOut)
	}
	code, out, errOut = runOps(t, f, "dlq", "replay", "--all")
	if code != 0 || out != "1 dead letters queued to run again\n" {
		t.Fatalf("replay --all: %d %q %s", code, out, errOut)
	}
	if reqs := f.requests(); reqs[len(reqs)-1].Body != `{"all":true}` {
		t.Fatalf("body %s", reqs[len(reqs)-1].Body)
	}
	code, out, _ = runOps(t, f, "dlq", "list")
	if code != 0 || out != "no dead letters\n" {
		t.Fatalf("empty list: %d %q", code, out)
	}
	code, out, _ = runOps(t, f, "dlq", "replay", "--all", "--json")
	if code != 0 || out != `{"replayed":0}`+"\n" {
		t.Fatalf("--all --json: %d %q", code, out)
	}
	for _, r := range f.requests() {
		if !strings.HasPrefix(r.Path, "/v1/dlq") {
			t.Errorf("the CLI called %s %s, outside the admin API's dead-letter routes", r.Method, r.Path)
		}
	}
}

// A tenant token gets 403 from /v1/dlq: the message says so, exit 1.
func TestDLQForbiddenForTenant(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{"GET /v1/dlq": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 403, `{"error":{"code":"forbidden","message":"the root token is required"}}`)
	}})
	code, _, errOut := runOps(t, f, "dlq", "list")
	if code != 1 || errOut != "hookshift: the root token is required (forbidden)\n" {
		t.Fatalf("%d %q", code, errOut)
	}
}
