package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// decide is the one mapping of an outcome to a delivery status and to what
// asynq does: done, retry (spending an attempt), or archive at once.
func TestDecide(t *testing.T) {
	cases := []struct {
		name      string
		o         outbound.Outcome
		final     bool
		status    Status
		done      bool // nil error
		skipRetry bool // archived at once
		failure   bool // spends an attempt
	}{
		{"delivered", outbound.Outcome{Kind: outbound.Delivered}, false, StatusDelivered, true, false, false},
		{"delivered at the final attempt", outbound.Outcome{Kind: outbound.Delivered}, true, StatusDelivered, true, false, false},
		{"cancelled", outbound.Outcome{Kind: outbound.Cancelled}, false, StatusCancelled, true, false, false},
		{"retry", outbound.Outcome{Kind: outbound.Retry, Reason: "HTTP 503"}, false, StatusRetrying, false, false, true},
		// At the final attempt asynq archives the retry itself, and its
		// "Retry exhausted" line is then the truth.
		{"retry at the final attempt", outbound.Outcome{Kind: outbound.Retry, Reason: "HTTP 503"}, true, StatusFailed, false, false, true},
		{"permanent", outbound.Outcome{Kind: outbound.Permanent, Reason: "HTTP 400"}, false, StatusFailed, false, true, true},
		{"permanent at the final attempt", outbound.Outcome{Kind: outbound.Permanent, Reason: "HTTP 400"}, true, StatusFailed, false, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, err := decide(c.o, c.final)
			if status != c.status || (err == nil) != c.done || errors.Is(err, asynq.SkipRetry) != c.skipRetry || isFailure(err) != c.failure {
				t.Fatalf("decide = %s, %v; want %s, done %v, skip retry %v, failure %v", status, err, c.status, c.done, c.skipRetry, c.failure)
			}
			if err != nil && !strings.Contains(err.Error(), c.o.Reason) {
				t.Errorf("error %q lacks the reason %q", err, c.o.Reason)
			}
		})
	}
	if isFailure(&waitError{reason: "circuit open", after: time.Minute}) {
		t.Error("a wait spends an attempt")
	}
}

// asynq stores when a task is due in whole seconds, truncated: the delay it
// is given must be rounded up so that the task never runs before the wait
// is over, whatever the fraction of the current second.
func TestAsynqDelayNeverUndercuts(t *testing.T) {
	for _, wait := range []time.Duration{time.Millisecond, 999 * time.Millisecond, time.Second, 1500 * time.Millisecond, 7 * time.Second, 90*time.Second + 1} {
		for frac := time.Duration(0); frac < time.Second; frac += 50 * time.Millisecond {
			start := time.Unix(1_760_000_000, 0).Add(frac)
			due := time.Unix(start.Add(asynqDelay(wait)).Unix(), 0) // as asynq stores it
			if due.Before(start.Add(wait)) {
				t.Fatalf("wait %v from %v: due at %v, before the wait is over", wait, start, due)
			}
		}
	}
	if asynqDelay(0) != 0 {
		t.Error("no wait must stay no wait")
	}
}

// The retry delay asynq gets: the schedule, a longer Retry-After (rounded
// up), or a wait's own delay (rounded up).
func TestRetryDelay(t *testing.T) {
	s := Schedule{Delays: []time.Duration{5 * time.Second, time.Minute}, Jitter: 0}
	f := retryDelay(s)
	task := asynq.NewTask(TypeDelivery, nil)
	cases := []struct {
		n    int
		err  error
		want time.Duration
	}{
		{0, &retryError{reason: "503"}, 5 * time.Second},
		{1, &retryError{reason: "503"}, time.Minute},
		{5, &retryError{reason: "503"}, time.Minute}, // past the table: its last entry
		{0, &retryError{reason: "429", retryAfter: 30 * time.Second}, 31 * time.Second},
		{1, &retryError{reason: "429", retryAfter: 2 * time.Second}, time.Minute}, // the schedule is longer
		{3, &waitError{reason: "circuit open", after: 10 * time.Second}, 11 * time.Second},
	}
	for _, c := range cases {
		if got := f(c.n, c.err, task); got != c.want {
			t.Errorf("retryDelay(%d, %v) = %v, want %v", c.n, c.err, got, c.want)
		}
	}
}

// The production schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h and 10 h, each within ±20%; asynq gets its 7 retries as MaxRetry.
func TestScheduleJitterBounds(t *testing.T) {
	base := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	s := DefaultSchedule()
	if s.MaxAttempts() != 8 || s.Retries() != 7 {
		t.Fatalf("attempts %d, retries %d; want 8 and 7", s.MaxAttempts(), s.Retries())
	}
	for _, r := range []float64{0, 0.25, 0.5, 0.75, 0.999999} {
		s.Rand = func() float64 { return r }
		for i, b := range base {
			d := s.Delay(i, 0)
			lo, hi := time.Duration(float64(b)*0.8), time.Duration(float64(b)*1.2)
			if d < lo || d > hi {
				t.Errorf("retry %d with rand %v: %v outside [%v, %v]", i+1, r, d, lo, hi)
			}
		}
	}
	// The extremes of the jitter are reached, so the spread is real.
	s.Rand = func() float64 { return 0 }
	if d := s.Delay(1, 0); d != 4*time.Minute {
		t.Errorf("lowest jitter of 5 min = %v, want 4m", d)
	}
	s.Rand = nil // math/rand: still within bounds
	for i := 0; i < 1000; i++ {
		if d := s.Delay(0, 0); d < 4*time.Second || d > 6*time.Second {
			t.Fatalf("5 s retry jittered to %v", d)
		}
	}
	// Retry-After longer than the schedule wins.
	if d := s.Delay(0, time.Hour); d != time.Hour {
		t.Errorf("Retry-After of 1h gave %v", d)
	}
}

// asynq logs "Retry exhausted" for every archive; the logger says what
// really happened for a task the handler archived as a permanent failure,
// and keeps asynq's line when the retries really ran out.
func TestTruthfulArchiveLog(t *testing.T) {
	var buf bytes.Buffer
	notes := &archiveNotes{}
	l := truthfulLogger{asynqLogger{zerolog.New(&buf)}, notes}
	notes.notePermanent("evt:dst", permanent("HTTP 400: bad field"))
	notes.notePermanent("evt2:dst", &retryError{reason: "gave up after the last attempt: HTTP 503"})
	l.Warn(exhaustedPrefix + "evt:dst")
	l.Warn(exhaustedPrefix + "evt2:dst")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %q", buf.String())
	}
	var first, second map[string]string
	_ = json.Unmarshal([]byte(lines[0]), &first)
	_ = json.Unmarshal([]byte(lines[1]), &second)
	if strings.Contains(first["message"], "exhausted") || first["reason"] != "HTTP 400: bad field" || first["task_id"] != "evt:dst" {
		t.Errorf("permanent failure logged as %v", first)
	}
	if second["message"] != exhaustedPrefix+"evt2:dst" {
		t.Errorf("true exhaustion logged as %v", second)
	}
	if _, ok := notes.take("evt:dst"); ok {
		t.Error("a note outlived its log line")
	}
}
