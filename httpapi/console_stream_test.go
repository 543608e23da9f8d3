package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/store"
)

// consoleAPI serves the stack's store with console options, e.g. a fast
// stream poll for tests.
func (s *stack) consoleAPI(opts httpapi.ConsoleOptions) *httptest.Server {
	srv := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, Egress: testEgress,
		RootToken: rootToken, Log: s.log, Now: s.clock.Now, Console: opts}
	ts := httptest.NewServer(srv.Handler(httpapi.Roles{Receiver: true, API: true}))
	s.t.Cleanup(ts.Close)
	return ts
}

// sse is one open event stream; frames arrive on a channel.
type sse struct {
	resp   *http.Response
	frames chan sseFrame
}

type sseFrame struct{ event, data string }

func openStream(t *testing.T, client *http.Client, url string, header ...string) (*sse, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	st := &sse{resp: resp, frames: make(chan sseFrame, 100)}
	go func() {
		defer close(st.frames)
		sc := bufio.NewScanner(resp.Body)
		var f sseFrame
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if f != (sseFrame{}) {
					st.frames <- f
				}
				f = sseFrame{}
			case strings.HasPrefix(line, ":"):
				f.event = "comment"
			case strings.HasPrefix(line, "event: "):
				f.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				f.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return st, 200
}

// next waits for the next frame of a kind, skipping others.
func (st *sse) next(t *testing.T, event string) map[string]any {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-st.frames:
			if !ok {
				t.Fatalf("stream ended while waiting for %q", event)
			}
			if f.event == event {
				out := map[string]any{}
				_ = json.Unmarshal([]byte(f.data), &out)
				return out
			}
		case <-deadline:
			t.Fatalf("no %q frame within 10s", event)
		}
	}
}

// The stream sends the tenant's new events and its deliveries' changes,
// never another tenant's.
func TestEventStream(t *testing.T) {
	s := newStack(t)
	ts := s.consoleAPI(httpapi.ConsoleOptions{StreamPoll: 20 * time.Millisecond})
	tok := s.tenant("acme")
	ta, _ := s.store.TenantByToken(ctx, tok)
	tb, _ := s.store.TenantByToken(ctx, s.tenant("other"))
	record := func(tenant, id string) {
		ev := store.Event{ID: id, TenantID: tenant, SourceID: "src_x", ProviderID: id, Type: "payment.succeeded",
			ReceivedAt: s.clock.Now(), Payload: []byte(`{"type":"payment.succeeded"}`)}
		if _, err := s.store.RecordEvent(ctx, ev, "r-"+id, store.SearchKeys{}); err != nil {
			t.Fatal(err)
		}
	}
	record(ta.ID, "evt_before") // before the stream: not sent as new

	st, code := openStream(t, http.DefaultClient, ts.URL+"/v1/events/stream", "Authorization", "Bearer "+tok)
	if code != 200 || st.resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d", code)
	}
	record(tb.ID, "evt_other")
	record(ta.ID, "evt_new")
	ev := st.next(t, "event")
	if ev["id"] != "evt_new" || ev["type"] != "payment.succeeded" || ev["payload"] != nil {
		t.Fatalf("first event sent: %v (want evt_new, no payload; never evt_before or another tenant's)", ev)
	}

	if _, err := s.store.InitDelivery(ctx, "evt_new", "dst_a"); err != nil {
		t.Fatal(err)
	}
	if d := st.next(t, "delivery"); d["event_id"] != "evt_new" || d["status"] != "pending" {
		t.Fatalf("delivery frame: %v", d)
	}
	if err := s.store.RecordAttempt(ctx, "evt_new", "dst_a", store.Attempt{Number: 1, At: s.clock.Now(), Error: "HTTP 500"}, store.StatusRetrying); err != nil {
		t.Fatal(err)
	}
	d := st.next(t, "delivery")
	if d["status"] != "retrying" || d["attempt_count"] != 1.0 || d["last_error"] != "HTTP 500" {
		t.Fatalf("delivery change: %v", d)
	}
	// An older event's delivery, watched by id, is followed too.
	st2, _ := openStream(t, http.DefaultClient, ts.URL+"/v1/events/stream?event_id=evt_before", "Authorization", "Bearer "+tok)
	if err := s.store.RecordAttempt(ctx, "evt_before", "dst_a", store.Attempt{Number: 1, At: s.clock.Now()}, store.StatusDelivered); err != nil {
		t.Fatal(err)
	}
	if d := st2.next(t, "delivery"); d["event_id"] != "evt_before" || d["status"] != "delivered" {
		t.Fatalf("watched delivery: %v", d)
	}
	// Another tenant's event cannot be watched.
	if _, code := openStream(t, http.DefaultClient, ts.URL+"/v1/events/stream?event_id=evt_other", "Authorization", "Bearer "+tok); code != 404 {
		t.Fatalf("watching another tenant's event: %d", code)
	}
}

// A session holds at most StreamsPerSession streams; a closed one frees its
// place. Streams send heartbeats and end after their maximum age.
func TestEventStreamBounds(t *testing.T) {
	s := newStack(t)
	ts := s.consoleAPI(httpapi.ConsoleOptions{StreamPoll: 20 * time.Millisecond, StreamsPerSession: 2,
		StreamHeartbeat: 20 * time.Millisecond, StreamMaxAge: time.Hour})
	b := s.browser()
	b.base = ts.URL
	b.signIn(s.tenant("acme"))

	first, code := openStream(t, b.c, ts.URL+"/v1/events/stream")
	if code != 200 {
		t.Fatalf("stream with the session: %d", code)
	}
	first.next(t, "comment") // a heartbeat
	if _, code := openStream(t, b.c, ts.URL+"/v1/events/stream"); code != 200 {
		t.Fatalf("second stream: %d", code)
	}
	if _, code := openStream(t, b.c, ts.URL+"/v1/events/stream"); code != 429 {
		t.Fatalf("third stream of a 2-stream session: %d, want 429", code)
	}
	// Another session of the same tenant has its own allowance.
	b2 := s.browser()
	b2.base = ts.URL
	b2.signIn(s.tenant("acme2"))
	if _, code := openStream(t, b2.c, ts.URL+"/v1/events/stream"); code != 200 {
		t.Fatalf("another session's stream: %d", code)
	}
	first.resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, code := openStream(t, b.c, ts.URL+"/v1/events/stream"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's place was never freed")
		}
		time.Sleep(20 * time.Millisecond)
	}

	short := s.consoleAPI(httpapi.ConsoleOptions{StreamPoll: 20 * time.Millisecond, StreamMaxAge: 50 * time.Millisecond})
	b.base = short.URL
	st, _ := openStream(t, b.c, short.URL+"/v1/events/stream")
	for range st.frames { // drains until the server ends the stream
	}
	if _, code := openStream(t, http.DefaultClient, short.URL+"/v1/events/stream"); code != 401 {
		t.Fatalf("stream without credentials: %d", code)
	}
}

// Shutting the server down ends open streams, so a graceful shutdown does
// not wait for them.
func TestEventStreamEndsOnClosing(t *testing.T) {
	s := newStack(t)
	closing := make(chan struct{})
	ts := s.consoleAPI(httpapi.ConsoleOptions{StreamPoll: time.Hour, StreamHeartbeat: time.Hour, Closing: closing})
	st, code := openStream(t, http.DefaultClient, ts.URL+"/v1/events/stream", "Authorization", "Bearer "+s.tenant("acme"))
	if code != 200 {
		t.Fatalf("stream: %d", code)
	}
	close(closing)
	for range st.frames { // returns once the server ends the stream
	}
}
