package main

import (
	"strings"
	"testing"
	"time"
)

// Durable acknowledgement defaults to off with a 500ms wait, reads
// HOOKSHIFT_ACK_REPLICAS / HOOKSHIFT_ACK_TIMEOUT and the flags, and refuses
// values outside its bounds, naming the setting.
func TestAckSettings(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil || c.AckReplicas != 0 || c.AckTimeout != 500*time.Millisecond {
		t.Fatalf("defaults: replicas %d timeout %s err %v; want 0 and 500ms", c.AckReplicas, c.AckTimeout, err)
	}
	t.Setenv("HOOKSHIFT_ACK_REPLICAS", "1")
	t.Setenv("HOOKSHIFT_ACK_TIMEOUT", "250ms")
	c, _, err = parseServeFlags(nil)
	if err != nil || c.AckReplicas != 1 || c.AckTimeout != 250*time.Millisecond {
		t.Fatalf("from env: replicas %d timeout %s err %v", c.AckReplicas, c.AckTimeout, err)
	}
	c, _, err = parseServeFlags([]string{"--ack-replicas", "2", "--ack-timeout", "1s"})
	if err != nil || c.AckReplicas != 2 || c.AckTimeout != time.Second {
		t.Fatalf("flags over env: replicas %d timeout %s err %v", c.AckReplicas, c.AckTimeout, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ack-replicas", "-1"}, "--ack-replicas"},
		{[]string{"--ack-replicas", "17"}, "--ack-replicas"},
		{[]string{"--ack-timeout", "0s"}, "--ack-timeout"},
		{[]string{"--ack-timeout", "5s"}, "--ack-timeout"},
	} {
		if _, _, err := parseServeFlags(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want one naming %s", tc.args, err, tc.want)
		}
	}
}
