package main

import (
	"fmt"
	"time"

	"github.com/hookshift/hookshift/queue"
)

// minDedupeWindow is the shortest --dedupe-window: below it the platform's
// own retries (seconds to minutes apart) would be taken for new events.
const minDedupeWindow = time.Minute

// checkRetention refuses an event retention shorter than the delivery retry
// schedule's span, whose last retries would find their event gone and could
// not be sent, and a dedupe window too short to answer the platform's
// retries; either, zero or negative, used to be taken silently.
func checkRetention(c config, s queue.Schedule) error {
	if span := s.Span().Truncate(time.Hour) + time.Hour; c.EventRetention < span {
		return fmt.Errorf("--event-retention (HOOKSHIFT_EVENT_RETENTION) is %v; expected at least %v: a delivery's last retry can come %v after its first attempt, and it needs its event",
			c.EventRetention, span, s.Span().Round(time.Minute))
	}
	if c.DedupeWindow < minDedupeWindow {
		return fmt.Errorf("--dedupe-window (HOOKSHIFT_DEDUPE_WINDOW) is %v; expected at least %v, e.g. 72h", c.DedupeWindow, minDedupeWindow)
	}
	return nil
}
