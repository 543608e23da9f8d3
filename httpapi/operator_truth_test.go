package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookshift/hookshift/queue"
)

// logLines returns the JSON log lines whose message contains msg.
func (s *stack) logLines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(s.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			if text, _ := m["message"].(string); strings.Contains(text, msg) {
				out = append(out, m)
			}
		}
	}
	return out
}

// What an operator sees is true: a permanent failure is logged as one, not
// as "Retry exhausted"; a delivery that ran out of attempts is; asynqmon's
// "Retried / Max Retry" counts the schedule's retries; and a dead letter run
// again logs the delivery's real attempt number.
func TestOperatorSeesTheTruth(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	permanentSink := newSink(t, func(n int, w http.ResponseWriter) { w.WriteHeader(400) })
	var healthy atomic.Bool
	flakySink := newSink(t, func(n int, w http.ResponseWriter) {
		if healthy.Load() {
			w.WriteHeader(200)
			return
		}
		w.WriteHeader(503)
	})
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	bad := s.destination(tok, map[string]any{"source_id": src, "name": "bad", "integration": "http", "url": permanentSink.URL,
		"event_types": []string{"payment.failed"}})
	flaky := s.destination(tok, map[string]any{"source_id": src, "name": "flaky", "integration": "http", "url": flakySink.URL,
		"event_types": []string{"payment.succeeded"}})

	// A 400 is archived at once and logged as a permanent failure.
	evBad := s.postType(src, secret, "m-400", "payment.failed")
	s.waitStatus(tok, evBad, bad, "failed", 10*time.Second)
	evFlaky := s.accept(src, secret, "m-503")
	s.waitStatus(tok, evFlaky, flaky, "failed", 30*time.Second)
	// asynq logs the archive just after the handler returns.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(s.logLines("permanent failure"))+len(s.logLines("Retry exhausted")) >= 2 {
			break
		}
	}

	perm := s.logLines("permanent failure")
	if len(perm) != 1 || perm[0]["task_id"] != queue.DeliveryTaskID(evBad, bad) || !strings.Contains(perm[0]["reason"].(string), "HTTP 400") {
		t.Errorf("permanent failure logs = %v", perm)
	}
	exhausted := s.logLines("Retry exhausted")
	if len(exhausted) != 1 || !strings.Contains(exhausted[0]["message"].(string), queue.DeliveryTaskID(evFlaky, flaky)) {
		t.Errorf("'Retry exhausted' lines = %v, want one, for the 503 delivery only", exhausted)
	}

	// asynqmon shows Retried / Max Retry: the schedule's retries, spent.
	ti, err := s.insp.GetTaskInfo(queue.QueueDelivery, queue.DeliveryTaskID(evFlaky, flaky))
	if err != nil {
		t.Fatal(err)
	}
	if ti.MaxRetry != s.schedule.Retries() || ti.Retried != s.schedule.Retries() {
		t.Errorf("asynq shows retried %d / max %d, want %d / %d", ti.Retried, ti.MaxRetry, s.schedule.Retries(), s.schedule.Retries())
	}

	// Run again from the dead letters: the log says attempt 5, as the
	// attempt log does, not asynq's retry count + 1.
	healthy.Store(true)
	if err := s.insp.RunTask(queue.QueueDelivery, ti.ID); err != nil {
		t.Fatal(err)
	}
	d := s.waitStatus(tok, evFlaky, flaky, "delivered", 10*time.Second)
	atts := d["attempts"].([]any)
	last := atts[len(atts)-1].(map[string]any)["number"].(float64)
	var logged float64
	for _, l := range s.logLines("delivery attempt") {
		if l["destination_id"] == flaky && l["outcome"] == "delivered" {
			logged = l["attempt"].(float64)
		}
	}
	if last != float64(s.schedule.MaxAttempts()+1) || logged != last {
		t.Errorf("rerun: attempt log says %v, log line says %v; want %d for both", last, logged, s.schedule.MaxAttempts()+1)
	}
}

// "Run now" on a dead letter whose destination's circuit is open sends it:
// the run is the circuit's probe, and a success closes the circuit.
func TestRunNowProbesAnOpenCircuit(t *testing.T) {
	s := newStack(t)
	// 4 attempts; the 4th failure opens the circuit for a minute, and is
	// also the last attempt: the delivery is a dead letter while it is open.
	s.schedule = queue.Schedule{Delays: []time.Duration{time.Second, time.Second, time.Second}}
	s.guard = queue.Guard{Threshold: 4, Cooldown: time.Minute, MaxCooldown: time.Minute}
	s.startWorker()
	var healthy atomic.Bool
	sk := newSink(t, func(n int, w http.ResponseWriter) {
		if healthy.Load() {
			w.WriteHeader(200)
			return
		}
		w.WriteHeader(503)
	})
	tok, src, secret, dst := s.setup(sk.URL)
	ev := s.accept(src, secret, "m-circuit")
	s.waitStatus(tok, ev, dst, "failed", 30*time.Second)
	h := s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil)["health"].(map[string]any)
	if h["circuit"] != "open" {
		t.Fatalf("health = %v, want an open circuit", h)
	}

	healthy.Store(true)
	if err := s.insp.RunTask(queue.QueueDelivery, queue.DeliveryTaskID(ev, dst)); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)
	if n := len(sk.got()); n != 5 {
		t.Fatalf("the destination got %d requests, want 4 failures and the run by hand", n)
	}
	h = s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil)["health"].(map[string]any)
	if h["circuit"] != "closed" {
		t.Fatalf("after the probe health = %v, want closed", h)
	}
}

// postType posts paymentBody with its type replaced.
func (s *stack) postType(src, secret, id, typ string) string {
	s.t.Helper()
	body := strings.Replace(paymentBody, `"type":"payment.succeeded"`, `"type":"`+typ+`"`, 1)
	code, out := s.signed(src, secret, id, []byte(body), time.Now())
	if code != 202 {
		s.t.Fatalf("post: %d %v", code, out)
	}
	return out["event_id"].(string)
}

// "Run now" on a delivery waiting for an open circuit sends it as the probe
// (it used to be put straight back to wait, with asynqmon reporting success).
func TestRunNowOnAWaitingDeliveryProbes(t *testing.T) {
	s := newStack(t)
	s.schedule = queue.Schedule{Delays: []time.Duration{time.Second, time.Second, time.Second}}
	s.guard = queue.Guard{Threshold: 2, Cooldown: time.Minute, MaxCooldown: time.Minute}
	s.startWorker()
	var healthy atomic.Bool
	sk := newSink(t, func(n int, w http.ResponseWriter) {
		if healthy.Load() {
			w.WriteHeader(200)
			return
		}
		w.WriteHeader(503)
	})
	tok, src, secret, dst := s.setup(sk.URL)
	ev := s.accept(src, secret, "m-wait")
	id := queue.DeliveryTaskID(ev, dst)
	var lastErr string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ti, err := s.insp.GetTaskInfo(queue.QueueDelivery, id); err == nil && ti.State.String() == "retry" {
			if lastErr = ti.LastErr; strings.HasPrefix(lastErr, "circuit open until ") {
				break
			}
		}
	}
	if !strings.HasPrefix(lastErr, "circuit open until ") {
		t.Fatalf("the delivery is not waiting for the circuit; last error %q", lastErr)
	}
	healthy.Store(true)
	if err := s.insp.RunTask(queue.QueueDelivery, id); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)
	if n := len(sk.got()); n != 3 {
		t.Fatalf("the destination got %d requests, want 2 failures and the run by hand", n)
	}
}
