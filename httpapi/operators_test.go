package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookshift/hookshift/queue"
)

// The operator's root token opens and replays any tenant's event; another
// tenant still cannot see it.
func TestRootReadsAndReplaysAnyEvent(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "sink", "integration": "http", "url": sk.URL + "/hook"})
	ev := s.accept(src, secret, "root-1")
	s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)

	out := s.mustCall(200, "GET", "/v1/events/"+ev, rootToken, nil)
	if out["id"] != ev || len(out["deliveries"].([]any)) != 1 {
		t.Fatalf("root GET event: %v", out)
	}
	if code, _ := s.call("GET", "/v1/events/"+ev, s.tenant("globex"), nil); code != 404 {
		t.Fatalf("another tenant's GET: %d, want 404", code)
	}
	if code, _ := s.call("GET", "/v1/events/evt_nope", rootToken, nil); code != 404 {
		t.Fatalf("root GET of an unknown event: %d, want 404", code)
	}

	out = s.mustCall(202, "POST", "/v1/events/"+ev+"/replay", rootToken, nil)
	if ids := out["destination_ids"].([]any); len(ids) != 1 || ids[0] != dst {
		t.Fatalf("root replay: %v", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sk.got()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(sk.got()); n != 2 {
		t.Fatalf("sink got %d requests, want 2 (the delivery and the root's replay)", n)
	}
	s.mustCall(202, "POST", "/v1/events/"+ev+"/replay", rootToken, map[string]any{"destination_id": dst})
	if code, _ := s.call("POST", "/v1/events/"+ev+"/replay", rootToken, map[string]any{"destination_id": "dst_nope"}); code != 400 {
		t.Fatalf("root replay to an unknown destination: %d, want 400", code)
	}
}

// Dead letters are listed newest first across pages, with who and why (the
// reason redacted), and replayed by id or all at once from the admin API;
// bad input is refused and changes nothing.
func TestDeadLetterListAndReplay(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	var healthy atomic.Bool
	sk := newSink(t, func(n int, w http.ResponseWriter) {
		if healthy.Load() {
			w.WriteHeader(200)
			return
		}
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":"customer ann@example.com is not on this plan"}`))
	})
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "crm", "integration": "http", "url": sk.URL + "/hook"})
	var evs []string
	for i := range 3 {
		ev := s.accept(src, secret, fmt.Sprintf("dlq-%d", i))
		s.waitStatus(tok, ev, dst, "failed", 10*time.Second)
		evs = append(evs, ev)
	}
	s.waitArchived(3)

	if code, _ := s.call("GET", "/v1/dlq", tok, nil); code != 401 {
		t.Fatalf("GET /v1/dlq with a tenant token: %d, want 401", code)
	}
	var seen []map[string]any
	cursor := ""
	for page := 0; ; page++ {
		out := s.mustCall(200, "GET", "/v1/dlq?limit=2&cursor="+url.QueryEscape(cursor), rootToken, nil)
		data := out["data"].([]any)
		if page == 0 && len(data) != 2 {
			t.Fatalf("first page: %d entries, want 2: %v", len(data), out)
		}
		for _, d := range data {
			seen = append(seen, d.(map[string]any))
		}
		cursor, _ = out["next_cursor"].(string)
		if cursor == "" || page > 3 {
			break
		}
	}
	if len(seen) != 3 {
		t.Fatalf("pages listed %d dead letters, want 3: %v", len(seen), seen)
	}
	got := map[string]bool{}
	var prev time.Time
	for i, d := range seen {
		got[d["event_id"].(string)] = true
		if d["destination_id"] != dst || d["integration"] != "http" || d["tenant_id"] == "" || d["queue"] != "delivery" || d["id"] == "" {
			t.Fatalf("dead letter lacks who and where: %v", d)
		}
		reason := d["reason"].(string)
		if strings.Contains(reason, "ann@example.com") || !strings.Contains(reason, "a***@example.com") || !strings.Contains(reason, "400") {
			t.Fatalf("reason not redacted or not saying why: %q", reason)
		}
		at, err := time.Parse(time.RFC3339, d["failed_at"].(string))
		if err != nil || (i > 0 && at.After(prev)) {
			t.Fatalf("failed_at %v not newest first (previous %v): %v", d["failed_at"], prev, err)
		}
		prev = at
	}
	for _, ev := range evs {
		if !got[ev] {
			t.Fatalf("event %s missing from the dead letters %v", ev, seen)
		}
	}

	// Bad input: a clear 400/422, and nothing replayed.
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "cursor=garbage", "page=2"} {
		if code, out := s.call("GET", "/v1/dlq?"+q, rootToken, nil); code != 400 || out["error"] == nil {
			t.Errorf("GET /v1/dlq?%s: %d %v, want 400", q, code, out)
		}
	}
	firstID := seen[0]["id"].(string)
	for _, c := range []struct {
		body any
		want int
	}{
		{map[string]any{}, 400},
		{map[string]any{"all": false}, 400},
		{map[string]any{"ids": []string{}}, 400},
		{map[string]any{"all": true, "ids": []string{firstID}}, 400},
		{map[string]any{"ids": []string{firstID, "evt_nope:dst_nope"}}, 422},
		{`{"all": "yes"}`, 400},
	} {
		code, out := s.call("POST", "/v1/dlq/replay", rootToken, c.body)
		if code != c.want || out["error"] == nil {
			t.Errorf("replay %v: %d %v, want %d", c.body, code, out, c.want)
		}
		if c.want == 422 && !strings.Contains(fmt.Sprint(out), "evt_nope:dst_nope") {
			t.Errorf("422 does not name the unknown id: %v", out)
		}
	}
	if n := s.archived(); n != 3 {
		t.Fatalf("after refused replays %d dead letters, want 3 (nothing changed)", n)
	}

	healthy.Store(true)
	out := s.mustCall(202, "POST", "/v1/dlq/replay", rootToken, map[string]any{"ids": []string{firstID}})
	if out["replayed"] != float64(1) {
		t.Fatalf("replay by id: %v", out)
	}
	s.waitStatus(tok, seen[0]["event_id"].(string), dst, "delivered", 10*time.Second)
	s.waitArchived(2)
	out = s.mustCall(202, "POST", "/v1/dlq/replay", rootToken, map[string]any{"all": true})
	if out["replayed"] != float64(2) {
		t.Fatalf("replay all: %v", out)
	}
	for _, ev := range evs {
		s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)
	}
	if out := s.mustCall(200, "GET", "/v1/dlq", rootToken, nil); len(out["data"].([]any)) != 0 || out["next_cursor"] != "" {
		t.Fatalf("dead letters after replaying all: %v", out)
	}
}

// archived counts the dead letters of the delivery queue.
func (s *stack) archived() int {
	s.t.Helper()
	info, err := s.insp.GetQueueInfo(queue.QueueDelivery)
	if err != nil {
		return 0
	}
	return info.Archived
}

func (s *stack) waitArchived(n int) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.archived() != n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.archived(); got != n {
		s.t.Fatalf("%d dead letters, want %d", got, n)
	}
}
