package httpapi_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookshift/hookshift/queue"
)

// The circuit opens after a run of failures, deliveries wait while it is open
// without spending attempts, and a probe after the cooldown closes it.
func TestCircuitOpensWaitsAndCloses(t *testing.T) {
	s := newStack(t)
	// 4 attempts allowed; the circuit opens at the 3rd failure for 4s, during
	// which the 1s retry schedule would have spent the last attempt twice over.
	s.schedule = queue.Schedule{Delays: []time.Duration{time.Second, time.Second, time.Second}}
	s.guard = queue.Guard{Threshold: 3, Cooldown: 4 * time.Second, MaxCooldown: 4 * time.Second}
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
	ev := s.accept(src, secret, "cb-1")

	deadline := time.Now().Add(15 * time.Second)
	for len(sk.got()) < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	d := s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil)
	h := d["health"].(map[string]any)
	if h["circuit"] != "open" || h["consecutive_failures"] != float64(3) {
		t.Fatalf("after 3 failures health = %v, want an open circuit", h)
	}
	healthy.Store(true)
	time.Sleep(2 * time.Second) // still open: nothing may be sent
	if n := len(sk.got()); n != 3 {
		t.Fatalf("%d requests reached the destination while the circuit was open", n)
	}
	del := s.waitStatus(tok, ev, dst, "delivered", 15*time.Second)
	if n := len(del["attempts"].([]any)); n != 4 {
		t.Fatalf("attempts = %d, want 3 failures and 1 success", n)
	}
	d = s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil)
	if h := d["health"].(map[string]any); h["circuit"] != "closed" || h["consecutive_failures"] != float64(0) {
		t.Fatalf("after recovery health = %v, want closed", h)
	}
}

// A destination's rate limit holds across two independent workers sharing
// one Redis.
func TestRateLimitHoldsAcrossWorkers(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "slow", "integration": "http", "url": sk.URL, "rate_limit_per_second": 2})
	const n = 8
	evs := make([]string, n)
	for i := range n {
		evs[i] = s.accept(src, secret, fmt.Sprintf("rl-%d", i))
	}
	for _, ev := range evs {
		d := s.waitStatus(tok, ev, dst, "delivered", 20*time.Second)
		if k := len(d["attempts"].([]any)); k != 1 {
			t.Fatalf("rate limiting spent attempts: %d", k)
		}
	}
	got := sk.got()
	if len(got) != n {
		t.Fatalf("sink saw %d requests, want %d", len(got), n)
	}
	// 2/s with a burst of 2: 8 sends need at least (8-2) × 500ms.
	if span := got[n-1].at.Sub(got[0].at); span < 2900*time.Millisecond {
		t.Fatalf("8 sends at 2/s took only %v", span)
	}
	for i := range got {
		inWindow := 0
		for j := i; j < len(got) && got[j].at.Sub(got[i].at) < time.Second; j++ {
			inWindow++
		}
		if inWindow > 4 {
			t.Fatalf("%d sends within one second at a 2/s limit", inWindow)
		}
	}
}

// A 410 Gone disables the destination, with the reason shown, and new
// events are no longer fanned out to it.
func TestGoneDisablesDestination(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, func(n int, w http.ResponseWriter) { w.WriteHeader(410) })
	tok, src, secret, dst := s.setup(sk.URL)
	ev := s.accept(src, secret, "gone-1")
	s.waitStatus(tok, ev, dst, "failed", 10*time.Second)
	d := s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil)
	if d["disabled"] != true || d["disabled_reason"] != "destination answered 410 Gone" {
		t.Fatalf("after 410: disabled=%v reason=%v", d["disabled"], d["disabled_reason"])
	}
	ev2 := s.accept(src, secret, "gone-2")
	time.Sleep(500 * time.Millisecond)
	out := s.mustCall(200, "GET", "/v1/events/"+ev2, tok, nil)
	if n := len(out["deliveries"].([]any)); n != 0 || len(sk.got()) != 1 {
		t.Fatalf("a disabled destination still gets events: %d deliveries, %d requests", n, len(sk.got()))
	}
	// The merchant re-enables it after fixing the endpoint.
	d = s.mustCall(200, "PATCH", "/v1/destinations/"+dst, tok, map[string]any{"disabled": false})
	if d["disabled"] != false || d["disabled_reason"] != nil {
		t.Fatalf("re-enable: %v", d)
	}
}

// A destination failing for 5 days is disabled with the reason shown.
func TestFailingFiveDaysDisables(t *testing.T) {
	s := newStack(t)
	s.schedule = queue.Schedule{Delays: []time.Duration{time.Second, time.Second, time.Second, time.Second}}
	s.guard = queue.Guard{Threshold: 100}
	s.startWorker()
	sk := newSink(t, func(n int, w http.ResponseWriter) { w.WriteHeader(502) })
	tok, src, secret, dst := s.setup(sk.URL)
	s.accept(src, secret, "five-days")
	deadline := time.Now().Add(10 * time.Second)
	for len(sk.got()) < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if d := s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil); d["disabled"] != false {
		t.Fatalf("disabled after one failure: %v", d["disabled_reason"])
	}
	s.clock.Advance(5*24*time.Hour + time.Hour)
	for time.Now().Before(deadline.Add(5 * time.Second)) {
		d := s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil)
		if d["disabled"] == true {
			if r, _ := d["disabled_reason"].(string); len(r) < 13 || r[:13] != "failing since" {
				t.Fatalf("reason = %q", r)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("a destination failing for 5 days was not disabled")
}
