package queue

import (
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

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

// permanent archives the task (asynq's dead letters) with the reason.
func permanent(reason string) error { return fmt.Errorf("%s: %w", reason, asynq.SkipRetry) }

// isFailure tells asynq whether an error spends an attempt.
func isFailure(err error) bool {
	var w *waitError
	return err != nil && !errors.As(err, &w)
}

// retryDelay is asynq's RetryDelayFunc: deliveries follow the schedule,
// waits their own delay, and ingest tasks (which fail only while Redis is
// unhealthy) a short exponential backoff.
func retryDelay(s Schedule) asynq.RetryDelayFunc {
	return func(n int, err error, t *asynq.Task) time.Duration {
		var w *waitError
		if errors.As(err, &w) {
			return w.after
		}
		if t.Type() == TypeDelivery {
			var r *retryError
			var after time.Duration
			if errors.As(err, &r) && r.retryAfter > 0 {
				// asynq stores the retry time in whole seconds, truncated:
				// round up so a Retry-After is never undercut.
				after = r.retryAfter + time.Second
			}
			return s.Delay(n, after)
		}
		return min(time.Second<<min(n, 16), 5*time.Minute)
	}
}
