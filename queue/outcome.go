package queue

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/store"
)

// Status is a delivery's state, as stored and as the API shows it.
type Status string

// The delivery statuses. Pending is set by the fan-out; an attempt ends in
// one of the others.
const (
	StatusPending   Status = store.StatusPending
	StatusDelivered Status = store.StatusDelivered
	StatusCancelled Status = store.StatusCancelled
	StatusRetrying  Status = store.StatusRetrying
	StatusFailed    Status = store.StatusFailed
)

// decide is the one mapping of an attempt's outcome: the delivery's status
// and what asynq should do. final means asynq will not run the task again
// on its own (the schedule's last attempt, or a re-run of a dead letter).
//   - delivered, cancelled: done (nil);
//   - retry: another attempt on the schedule, or, at the final attempt, the
//     same error, which asynq archives as truly exhausted;
//   - permanent: archived at once (SkipRetry), with the reason.
func decide(o outbound.Outcome, final bool) (Status, error) {
	switch o.Kind {
	case outbound.Delivered:
		return StatusDelivered, nil
	case outbound.Cancelled:
		return StatusCancelled, nil
	case outbound.Retry:
		if final {
			return StatusFailed, &retryError{reason: "gave up after the last attempt: " + o.Reason}
		}
		return StatusRetrying, &retryError{reason: o.Reason, retryAfter: o.RetryAfter}
	default:
		return StatusFailed, permanent(o.Reason)
	}
}

// retryError asks for another attempt after the schedule's delay, or the
// destination's Retry-After if longer. It counts as a spent attempt.
type retryError struct {
	reason     string
	retryAfter time.Duration
}

func (e *retryError) Error() string { return e.reason }

// waitError asks to run the task again after a delay without spending an
// attempt: a rate limit, an open circuit, or our own infrastructure failing.
type waitError struct {
	reason string
	after  time.Duration
}

func (e *waitError) Error() string { return e.reason }

// permanentError archives the task at once (asynq's dead letters) with the
// reason: it will fail the same way however often it is tried.
type permanentError struct{ reason string }

func (e *permanentError) Error() string { return e.reason }
func (e *permanentError) Unwrap() error { return asynq.SkipRetry }

// permanent archives the task with the reason.
func permanent(reason string) error { return &permanentError{reason: reason} }

// isFailure is asynq's IsFailure hook: a wait spends no attempt.
func isFailure(err error) bool {
	var w *waitError
	return err != nil && !errors.As(err, &w)
}

// asynqDelay is a wait as asynq must be told it. asynq stores the time a
// task is due in whole seconds, truncated, so a task may run up to a second
// early: one more second makes sure a Retry-After or a circuit's cooldown is
// never undercut.
func asynqDelay(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Second
}

// retryDelay is asynq's RetryDelayFunc: deliveries follow the schedule (or
// a longer Retry-After), waits their own delay, and ingest tasks (which fail
// only while Redis is unhealthy) a short exponential backoff.
func retryDelay(s Schedule) asynq.RetryDelayFunc {
	return func(n int, err error, t *asynq.Task) time.Duration {
		var w *waitError
		if errors.As(err, &w) {
			return asynqDelay(w.after)
		}
		if t.Type() == TypeDelivery {
			var r *retryError
			var after time.Duration
			if errors.As(err, &r) {
				after = asynqDelay(r.retryAfter)
			}
			return s.Delay(n, after)
		}
		return min(time.Second<<min(n, 16), 5*time.Minute)
	}
}

// archiveNotes remembers, for a short while, why a task was archived at once
// (a SkipRetry error: a permanent failure). asynq logs "Retry exhausted" for
// every archive, SkipRetry included, which would call a 400 "retries
// exhausted"; the asynq logger below uses the note to say what happened
// instead. The server's ErrorHandler, which asynq calls just before that
// line, writes the note (notePermanent), for every task type.
type archiveNotes struct {
	mu sync.Mutex
	m  map[string]archiveNote
}

type archiveNote struct {
	reason string
	at     time.Time
}

// noteTTL bounds how long a note waits for asynq's log line (which follows
// the handler's return at once, unless the lease was lost).
const noteTTL = time.Minute

func (a *archiveNotes) add(taskID, reason string) {
	if a == nil || taskID == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if a.m == nil {
		a.m = map[string]archiveNote{}
	}
	for id, n := range a.m {
		if now.Sub(n.at) > noteTTL {
			delete(a.m, id)
		}
	}
	a.m[taskID] = archiveNote{reason: reason, at: now}
}

// notePermanent notes a task's error if it archives the task at once.
func (a *archiveNotes) notePermanent(taskID string, err error) {
	if errors.Is(err, asynq.SkipRetry) {
		a.add(taskID, err.Error())
	}
}

func (a *archiveNotes) take(taskID string) (string, bool) {
	if a == nil {
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n, ok := a.m[taskID]
	delete(a.m, taskID)
	return n.reason, ok
}

// exhaustedPrefix is how asynq (v0.26, processor.go) starts the line it logs
// when it archives a task.
const exhaustedPrefix = "Retry exhausted for task id="

// truthfulLogger is asynq's logger with its archive line made true: a task
// archived as a permanent failure is logged as that, with the reason; a task
// that really ran out of attempts keeps asynq's line.
type truthfulLogger struct {
	asynqLogger
	notes *archiveNotes
}

func (t truthfulLogger) Warn(args ...any) {
	msg := sprint(args)
	if id, ok := strings.CutPrefix(msg, exhaustedPrefix); ok {
		if reason, ok := t.notes.take(id); ok {
			t.l.Warn().Str("task_id", id).Str("reason", reason).Msg("permanent failure: task archived without retrying")
			return
		}
	}
	t.asynqLogger.Warn(msg)
}
