package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/queue"
)

// An event retention shorter than the retry schedule would let a delivery's
// last retries find their event gone; a dedupe window of zero (once taken
// as 72 h without a word) or under a minute would not answer the platform's
// retries. serve refuses both, naming the flag, its variable and the bound.
func TestRetentionAndDedupeWindowBounds(t *testing.T) {
	sched := queue.DefaultSchedule()
	if span := sched.Span(); span < 33*time.Hour || span > 34*time.Hour {
		t.Fatalf("default schedule span %v, want the delays' 27h35m plus 20%% jitter", span)
	}
	if c, _, err := parseServeFlags(nil); err != nil || c.EventRetention != 72*time.Hour || c.DedupeWindow != 72*time.Hour {
		t.Fatalf("defaults: retention %v, window %v, %v; want 72h each, accepted", c.EventRetention, c.DedupeWindow, err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--event-retention", "12h"}, []string{"--event-retention (HOOKSHIFT_EVENT_RETENTION) is 12h0m0s", "at least 34h0m0s", "33h6m"}},
		{[]string{"--event-retention", "0s"}, []string{"--event-retention", "at least 34h"}},
		{[]string{"--dedupe-window", "0s"}, []string{"--dedupe-window (HOOKSHIFT_DEDUPE_WINDOW) is 0s", "at least 1m0s"}},
		{[]string{"--dedupe-window", "500us"}, []string{"--dedupe-window", "at least 1m0s"}},
	} {
		_, _, err := parseServeFlags(tc.args)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %v, want an error containing %q", tc.args, err, w)
			}
		}
	}
	if _, _, err := parseServeFlags([]string{"--event-retention", "34h", "--dedupe-window", "1m"}); err != nil {
		t.Fatalf("the bounds themselves are refused: %v", err)
	}
}
