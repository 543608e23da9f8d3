package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// setup creates a tenant, a source and an http destination pointing at sink.
func (s *stack) setup(sinkURL string) (tok, src, secret, dst string) {
	tok = s.tenant("acme")
	src, secret = s.source(tok)
	dst = s.destination(tok, map[string]any{"source_id": src, "name": "sink", "integration": "http", "url": sinkURL})
	return
}

func (s *stack) accept(src, secret, id string) string {
	s.t.Helper()
	code, out := s.signed(src, secret, id, []byte(paymentBody), time.Now())
	if code != 202 {
		s.t.Fatalf("post: %d %v", code, out)
	}
	return out["event_id"].(string)
}

// A destination that answers 503 twice, then 200, gets the event on the
// third attempt, and every attempt is recorded.
func TestRetriedUntilDelivered(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, func(n int, w http.ResponseWriter) {
		if n <= 2 {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(200)
	})
	tok, src, secret, dst := s.setup(sk.URL)
	ev := s.accept(src, secret, "m-retry")
	d := s.waitStatus(tok, ev, dst, "delivered", 20*time.Second)
	atts := d["attempts"].([]any)
	if len(atts) != 3 {
		t.Fatalf("attempts = %d, want 3: %v", len(atts), atts)
	}
	for i, want := range []float64{503, 503, 200} {
		a := atts[i].(map[string]any)
		if a["status_code"] != want || a["number"] != float64(i+1) {
			t.Fatalf("attempt %d = %v, want status %v", i+1, a, want)
		}
	}
	if len(sk.got()) != 3 {
		t.Fatalf("sink saw %d requests, want 3", len(sk.got()))
	}
	keys := map[string]bool{}
	for _, r := range sk.got() {
		keys[r.header.Get("Idempotency-Key")] = true
	}
	if len(keys) != 1 {
		t.Fatalf("retries used different idempotency keys: %v", keys)
	}
}

// A 400 is not retried: the task is archived with its reason.
func TestClientErrorIsArchivedNotRetried(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, func(n int, w http.ResponseWriter) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":"amount missing"}`))
	})
	tok, src, secret, dst := s.setup(sk.URL)
	ev := s.accept(src, secret, "m-400")
	d := s.waitStatus(tok, ev, dst, "failed", 10*time.Second)
	if !strings.Contains(d["last_error"].(string), "HTTP 400") || !strings.Contains(d["last_error"].(string), "amount missing") {
		t.Fatalf("last_error = %q", d["last_error"])
	}
	time.Sleep(1500 * time.Millisecond) // a retry would come after 1s
	if n := len(sk.got()); n != 1 {
		t.Fatalf("a 400 was sent %d times, want once", n)
	}
	arch, err := s.insp.ListArchivedTasks("delivery")
	if err != nil || len(arch) != 1 {
		t.Fatalf("archived = %v, %v; want one dead letter", arch, err)
	}
	if !strings.Contains(arch[0].LastErr, "HTTP 400") {
		t.Fatalf("dead letter reason = %q", arch[0].LastErr)
	}
}

// Retries that never succeed end archived after the schedule's last attempt.
func TestExhaustedRetriesAreDeadLettered(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, func(n int, w http.ResponseWriter) { w.WriteHeader(500) })
	tok, src, secret, dst := s.setup(sk.URL)
	ev := s.accept(src, secret, "m-500")
	d := s.waitStatus(tok, ev, dst, "failed", 30*time.Second)
	if n := len(d["attempts"].([]any)); n != s.schedule.MaxAttempts() {
		t.Fatalf("attempts = %d, want %d", n, s.schedule.MaxAttempts())
	}
	arch, _ := s.insp.ListArchivedTasks("delivery")
	if len(arch) != 1 || !strings.Contains(arch[0].LastErr, "gave up after the last attempt") {
		t.Fatalf("archived = %+v", arch)
	}
}

// A 429 with Retry-After waits at least that long before the next attempt.
func TestRetryAfterIsHonoured(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(429)
			return
		}
		w.WriteHeader(200)
	})
	tok, src, secret, dst := s.setup(sk.URL)
	ev := s.accept(src, secret, "m-429")
	s.waitStatus(tok, ev, dst, "delivered", 20*time.Second)
	got := sk.got()
	if len(got) != 2 {
		t.Fatalf("sink saw %d requests, want 2", len(got))
	}
	if gap := got[1].at.Sub(got[0].at); gap < 3*time.Second {
		t.Fatalf("second attempt came %v after a Retry-After: 3", gap)
	}
}

// With Redis stopped the receiver answers 503 (not 2xx, not a hang) and
// recovers by itself when Redis is back.
func TestReceiverAnswers503WhileRedisIsDown(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	s.redis.Stop()
	client := &http.Client{Timeout: 10 * time.Second} // a hang fails the test
	for i := range 3 {
		k, body, _ := signHeaders(secret, "down-"+string(rune('a'+i)), paymentBody, time.Now())
		req, _ := http.NewRequest("POST", s.api.URL+"/v1/webhooks/"+src, strings.NewReader(string(body)))
		req.Header = k
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("receiver hung or failed with Redis down: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Fatalf("status with Redis down = %d, want 503", resp.StatusCode)
		}
	}
	if code, _ := s.call("GET", "/readyz", "", nil); code != 503 {
		t.Fatalf("/readyz with Redis down = %d", code)
	}
	// Redis keeps nothing on disk here, so the source must be created again
	// after the restart; what matters is that the same process recovers.
	s.redis.Restart()
	tok = s.tenant("acme")
	src, secret = s.source(tok)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := s.signed(src, secret, "after-restart", []byte(paymentBody), time.Now())
		if code == 202 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver did not recover after Redis came back: %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := s.call("GET", "/readyz", "", nil); code != 200 {
		t.Fatalf("/readyz after recovery = %d", code)
	}
}

// An http destination with a signing secret re-signs what it forwards, so the
// merchant's endpoint can verify hookshift as hookshift verifies Dodo.
func TestSignedHTTPDestination(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	const signing = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "mine", "integration": "http", "url": sk.URL,
		"config": map[string]string{"signing_secret": signing}})
	ev := s.accept(src, secret, "signed-out")
	s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)
	r := sk.got()[0]
	wh, err := standardwebhooks.NewWebhook(signing)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(r.body, r.header); err != nil {
		t.Fatalf("forwarded request does not verify: %v (headers %v)", err, r.header)
	}
	if r.header.Get("webhook-id") != r.header.Get("Idempotency-Key") {
		t.Fatalf("webhook-id %q differs from the idempotency key %q", r.header.Get("webhook-id"), r.header.Get("Idempotency-Key"))
	}
	if code, _ := s.call("POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "bad", "integration": "http",
		"url": sk.URL, "config": map[string]string{"signing_secret": "not-a-secret"}}); code != 422 {
		t.Fatalf("an unusable signing secret was accepted: %d", code)
	}
}

// With Redis out of memory the receiver answers 503 (never 2xx), and
// accepts again once memory is available.
func TestReceiverAnswers503WhenRedisIsFull(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	if err := s.rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	code, out := s.signed(src, secret, "full-1", []byte(paymentBody), time.Now())
	if code != 503 {
		t.Fatalf("status with Redis full = %d %v, want 503", code, out)
	}
	if n := s.queueSize("ingest"); n != 0 {
		t.Fatalf("%d tasks enqueued while Redis was full", n)
	}
	if err := s.rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if code, _ := s.signed(src, secret, "full-1", []byte(paymentBody), time.Now()); code != 202 {
		t.Fatalf("after memory was freed: %d, want 202 (the refused copy must not count as a duplicate)", code)
	}
}
