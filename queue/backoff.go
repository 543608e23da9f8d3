package queue

import (
	"math/rand/v2"
	"time"
)

// DefaultDelays is the retry schedule of the delivery rules: the first
// attempt is immediate, then these waits before each retry.
var DefaultDelays = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Schedule is the delivery retry policy as data: the delay before each retry,
// spread by ±Jitter so retries from one outage do not land together.
type Schedule struct {
	Delays []time.Duration // wait before retry 1, 2, ...; nil means DefaultDelays
	Jitter float64         // fraction of the delay, e.g. 0.2 for ±20%
	Rand   func() float64  // uniform in [0,1); nil means math/rand/v2
}

// DefaultSchedule is the production schedule with ±20% jitter.
func DefaultSchedule() Schedule { return Schedule{Delays: DefaultDelays, Jitter: 0.2} }

// MaxAttempts is the number of attempts before a delivery is dead-lettered.
func (s Schedule) MaxAttempts() int { return len(s.delays()) + 1 }

// Retries is the number of retries after the first attempt: asynq's
// MaxRetry for a delivery, so that asynqmon's "Retry n/N" is the truth.
func (s Schedule) Retries() int { return len(s.delays()) }

func (s Schedule) delays() []time.Duration {
	if s.Delays == nil {
		return DefaultDelays
	}
	return s.Delays
}

// Span is the longest a delivery can take from its first attempt to its
// last under this schedule, every wait at its longest jitter (Retry-After,
// rate limits and an open circuit aside): the event must be kept that long.
func (s Schedule) Span() time.Duration {
	var sum time.Duration
	for _, d := range s.delays() {
		sum += d
	}
	return time.Duration(float64(sum) * (1 + s.Jitter))
}

// Delay is the wait before retry number retry (0 for the first retry). A
// destination's Retry-After is honoured: the wait is never shorter than it.
func (s Schedule) Delay(retry int, retryAfter time.Duration) time.Duration {
	ds := s.delays()
	if len(ds) == 0 {
		return retryAfter
	}
	base := ds[min(max(retry, 0), len(ds)-1)]
	r := s.Rand
	if r == nil {
		r = rand.Float64
	}
	d := time.Duration(float64(base) * (1 + s.Jitter*(2*r()-1)))
	return max(d, retryAfter)
}
