package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
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
	slowest503          time.Duration // the longest a 503 took
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
	// A 1 s bound on the receiver's Redis work, shorter than any failover
	// (the sentinels wait down-after-milliseconds, 1 s, before they act),
	// so the window without a primary is seen as 503s.
	p := startServe(t, g.URL(), "--ack-replicas", ackReplicas, "--receive-timeout", "1s")
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
	if n := g.Failovers(); n != 0 {
		t.Logf("the sentinels failed over %d times on their own before the kill", n)
	}
	g.Server(old).Stop() // SIGKILL, and wait until the process is gone
	killed := time.Now()
	promoted := g.WaitFailover(old, 30*time.Second)
	var r failoverResult
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		as := st.snapshot()
		if slices.ContainsFunc(as, func(a answer) bool { return a.sent.After(killed) && a.status/100 == 2 }) {
			break
		}
		if time.Now().After(deadline) {
			last := as[max(0, len(as)-3):]
			t.Fatalf("no 2xx within 30s of the failover from %s to %s; last answers %+v\n%s\n%s",
				old, promoted, last, g.Describe(), tail(p.out.String(), 1500))
		}
	}
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
		case a.status/100 == 2:
			if a.sent.After(killed) && (first.IsZero() || a.sent.Before(first)) {
				first = a.sent
			}
		case a.status == http.StatusServiceUnavailable:
			if a.sent.Add(a.took).After(killed) {
				r.unavailable++
				r.slowest503 = max(r.slowest503, a.took)
			}
		default:
			r.other++
			t.Errorf("%s: got %d %s, want 2xx or 503", a.msgID, a.status, a.code)
		}
	}
	r.toFirst2xx = first.Sub(killed)
	select {
	case <-p.done:
		t.Fatalf("hookshift exited during the failover: %v\n%s", p.exitErr, p.out)
	default:
	}
	// The operators' views follow too: asynqmon reads the new primary, and
	// the metrics say Redis is up.
	info, _ := p.call(t, "GET", "/monitoring/api/redis_info", testRoot, nil)["info"].(map[string]any)
	now, err := g.PrimaryAddr(context.Background()) // promoted, unless the sentinels have moved on again since
	if _, port, _ := strings.Cut(now, ":"); err != nil || info["tcp_port"] != port || info["role"] != "master" {
		t.Errorf("asynqmon's Redis info after the failover: port %v role %v, want the primary %s (%v; promoted first: %s)", info["tcp_port"], info["role"], now, err, promoted)
	}
	if m := getText(t, p.base+"/metrics"); !strings.Contains(m, "hookshift_redis_up 1") {
		t.Errorf("metrics after the failover do not say hookshift_redis_up 1")
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
	t.Logf("ACK_REPLICAS=%s: primary killed → first 2xx of a request sent after it: %.2fs; after the kill %d × 503 (the slowest in %v), %d other, %d hangs; acknowledged %d, lost %d, repeated deliveries %d; failovers seen by the sentinels %d",
		ackReplicas, r.toFirst2xx.Seconds(), r.unavailable, r.slowest503.Round(time.Millisecond), r.other, r.hangs, r.acked, r.lost, r.repeat, g.Failovers())
	return r
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// getText GETs a page with the root token and returns its body.
func getText(t *testing.T, url string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+testRoot)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
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
	t.Parallel() // most of it is waiting for asynq's lease on the tasks in flight at the kill
	runSentinelFailover(t, "0")
}

// The same with HOOKSHIFT_ACK_REPLICAS=1: every event that got a 2xx is
// delivered after the failover.
func TestSentinelFailoverWithDurableAckLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a Redis primary and waits for the failover")
	}
	t.Parallel() // most of it is waiting for asynq's lease on the tasks in flight at the kill
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
	p := startServe(t, g.URL(), "--ack-replicas", "1", "--ack-timeout", "500ms")
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

// While Redis does not answer (here: CLIENT PAUSE, as a primary that hangs
// rather than dies), a webhook is answered 503 within
// --receive-timeout: the client here gives up long before the Redis
// client's own read timeout and retries would end, and still gets its 503.
func TestReceiverAnswers503WithinItsTimeoutWhileRedisHangs(t *testing.T) {
	rs := redistest.Start(t)
	sink := newCountingSink(t)
	p := startServe(t, rs.URL(), "--receive-timeout", "300ms")
	src := setupSource(t, p, sink.URL)
	ps := newPoster(t, src)
	if a := ps.post(p.base, "hang-1"); a.status != http.StatusAccepted { // caches the source
		t.Fatalf("before: %d %s %v", a.status, a.code, a.err)
	}
	if err := rs.Client().Do(context.Background(), "CLIENT", "PAUSE", "3000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	ps.client.Timeout = 1500 * time.Millisecond
	a := ps.post(p.base, "hang-2")
	if a.status != http.StatusServiceUnavailable {
		t.Fatalf("while Redis hangs: %d %s %v; want a 503 within --receive-timeout", a.status, a.code, a.err)
	}
	ps.client.Timeout = postTimeout
	waitFor(t, 15*time.Second, "the platform's retry answered 2xx once the pause ends", func() bool {
		return ps.post(p.base, "hang-2").status/100 == 2
	})
}
