package main

import (
	"strings"
	"testing"
	"time"
)

// --receive-timeout defaults to 3s, reads HOOKSHIFT_RECEIVE_TIMEOUT, and is
// refused outside its range or when it would cut the wait for replicas short.
func TestReceiveTimeoutSetting(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil || c.ReceiveTimeout != 3*time.Second {
		t.Fatalf("default: %s %v; want 3s", c.ReceiveTimeout, err)
	}
	t.Setenv("HOOKSHIFT_RECEIVE_TIMEOUT", "1500ms")
	if c, _, err = parseServeFlags(nil); err != nil || c.ReceiveTimeout != 1500*time.Millisecond {
		t.Fatalf("from env: %s %v; want 1.5s", c.ReceiveTimeout, err)
	}
	for _, args := range [][]string{
		{"--receive-timeout", "0s"},
		{"--receive-timeout", "50ms"},
		{"--receive-timeout", "1m"},
		{"--receive-timeout", "400ms", "--ack-replicas", "1", "--ack-timeout", "500ms"},
	} {
		if _, _, err := parseServeFlags(args); err == nil || !strings.Contains(err.Error(), "--receive-timeout") {
			t.Errorf("%v: err %v, want one naming --receive-timeout", args, err)
		}
	}
}
