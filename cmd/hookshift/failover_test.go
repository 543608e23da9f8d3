package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hookshift/hookshift/internal/redistest"
)

// failoverResult is what one SIGKILL of the primary did to a steady stream.
type failoverResult struct {
	toFirst2xx          time.Duration // from the primary's death to the first 2xx of a request sent after it
	unavailable, other  int           // answers after the kill: 503, and anything but 2xx or 503
	hangs               int           // requests with no HTTP answer within postTimeout
	acked, lost, repeat int           // 2xx answers, of them never delivered, repeated deliveries
	archived            int           // dead letters
}

// runSentinelFailover runs hookshift (the binary, all roles) on a Sentinel
// group with two replicas (after the failover one is left, so ACK_REPLICAS=1
// can still be met: with one replica, the promoted primary has none, and
// every webhook is answered 503 until a replica is added), posts a steady stream of signed events, SIGKILLs
// the primary, and keeps posting until hookshift answers 2xx again by itself.
// Then it waits for every acknowledged event to reach the sink.
func runSentinelFailover(t *testing.T, ackReplicas string) failoverResult {
	g := redistest.StartSentinelGroup(t, 2)
	sink := newCountingSink(t)
	t.Setenv("HOOKSHIFT_ACK_REPLICAS", ackReplicas)
	p := startServe(t, g.URL())
	src := setupSource(t, p, sink.URL)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	st := startStream(ctx, newPoster(t, src), "fo", 4, 10*time.Millisecond, func(int) string { return p.base })

	waitFor(t, 20*time.Second, "100 events acknowledged before the kill", func() bool { return st.acked.Load() >= 100 })
	// The primary the sentinels name now (on a loaded machine they may
	// already have failed over once on their own).
	old, err := g.PrimaryAddr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g.Server(old).Stop() // SIGKILL, and wait until the process is gone
	killed := time.Now()
	g.WaitFailover(old, 30*time.Second)
	var r failoverResult
	waitFor(t, 30*time.Second, "a 2xx after the failover", func() bool {
		for _, a := range st.snapshot() {
			if a.sent.After(killed) && a.status/100 == 2 {
				return true
			}
		}
		return false
	})
	time.Sleep(2 * time.Second) // a little steady traffic on the new primary
	stop()
	<-st.done

	answers := st.snapshot()
	first := time.Time{}
	for _, a := range answers {
		switch {
		case a.status == 0:
			r.hangs++
			t.Errorf("%s: no answer: %v", a.msgID, a.err)
		case !a.sent.After(killed):
		case a.status/100 == 2:
			if first.IsZero() || a.sent.Before(first) {
				first = a.sent
			}
		case a.status == http.StatusServiceUnavailable:
			r.unavailable++
		default:
			r.other++
			t.Errorf("%s: after the kill got %d %s, want 2xx or 503", a.msgID, a.status, a.code)
		}
	}
	r.toFirst2xx = first.Sub(killed)
	select {
	case <-p.done:
		t.Fatalf("hookshift exited during the failover: %v\n%s", p.exitErr, p.out)
	default:
	}
	acked := ackedIDs(answers)
	r.acked = len(acked)
	// A task a worker held when the primary died waits for asynq's lease
	// (30 s) and recoverer (every minute): allow for both.
	missing := waitDrained(t, sink, g.URL(), acked, time.Now().Add(150*time.Second))
	r.lost = len(missing)
	if r.lost > 0 {
		t.Logf("never delivered: %v", missing)
	}
	_, r.repeat = sink.tally()
	_, r.archived = queueState(t, g.URL())
	if r.unavailable == 0 {
		t.Errorf("no 503 while there was no primary: the window was not observed")
	}
	if r.archived != 0 {
		t.Errorf("%d tasks were archived as dead letters during the failover; none should be", r.archived)
	}
	if dlq := p.call(t, "GET", "/v1/dlq", testRoot, nil)["data"].([]any); len(dlq) != 0 {
		t.Errorf("the DLQ holds %d entries after the failover: %v", len(dlq), dlq)
	}
	t.Logf("ACK_REPLICAS=%s: primary killed → first 2xx of a request sent after it: %.2fs; after the kill %d × 503, %d other, %d hangs; acknowledged %d, lost %d, repeated deliveries %d",
		ackReplicas, r.toFirst2xx.Seconds(), r.unavailable, r.other, r.hangs, r.acked, r.lost, r.repeat)
	return r
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SIGKILL of the Sentinel primary under load: hookshift answers 503 (never
// hangs, never crashes) until a replica is promoted, then 2xx again without
// a restart, and nothing is dead-lettered. With no durable acknowledgement,
// events acknowledged just before the kill may be lost: the test reports
// how many, it does not assert it.
func TestSentinelFailoverWithoutDurableAck(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a Redis primary and waits for the failover")
	}
	runSentinelFailover(t, "0")
}

// The same with HOOKSHIFT_ACK_REPLICAS=1: every event that got a 2xx is
// delivered after the failover.
func TestSentinelFailoverWithDurableAckLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a Redis primary and waits for the failover")
	}
	r := runSentinelFailover(t, "1")
	if r.lost != 0 {
		t.Fatalf("%d of %d acknowledged events were never delivered with ACK_REPLICAS=1", r.lost, r.acked)
	}
}

// Durable acknowledgement end to end, on a Sentinel group: with
// HOOKSHIFT_ACK_REPLICAS=1 and the only replica stopped, a webhook is answered
// 503 not_replicated (an answer, bounded by HOOKSHIFT_ACK_TIMEOUT, not a
// hang); once the replica is back, the same webhook is answered 2xx, and the
// event is delivered once.
func TestDurableAckThroughSentinel(t *testing.T) {
	g := redistest.StartSentinelGroup(t, 1)
	sink := newCountingSink(t)
	t.Setenv("HOOKSHIFT_ACK_REPLICAS", "1")
	t.Setenv("HOOKSHIFT_ACK_TIMEOUT", "500ms")
	p := startServe(t, g.URL())
	src := setupSource(t, p, sink.URL)
	ps := newPoster(t, src)
	if a := ps.post(p.base, "ack-1"); a.status != http.StatusAccepted {
		t.Fatalf("with the replica up: %d %s %v", a.status, a.code, a.err)
	}

	g.Replicas[0].Stop()
	a := ps.post(p.base, "ack-2")
	if a.status != http.StatusServiceUnavailable || a.code != "not_replicated" {
		t.Fatalf("with the replica stopped: %d %s %v, want 503 not_replicated", a.status, a.code, a.err)
	}
	t.Logf("replica stopped: 503 %s after %v (HOOKSHIFT_ACK_TIMEOUT=500ms)", a.code, a.took.Round(time.Millisecond))

	g.Replicas[0].Restart()
	g.Replicas[0].WaitLinkUp()
	b := ps.post(p.base, "ack-2")
	if b.status/100 != 2 {
		t.Fatalf("the same webhook with the replica back: %d %s %v, want 2xx", b.status, b.code, b.err)
	}
	waitFor(t, 30*time.Second, "both events delivered", func() bool { return len(sink.missing([]string{b.eventID})) == 0 })
	time.Sleep(time.Second) // a second delivery, if there were one, would arrive now
	if d, rep := sink.tally(); d != 2 || rep != 0 {
		t.Fatalf("sink saw %d events and %d repeats, want 2 and 0", d, rep)
	}
}
