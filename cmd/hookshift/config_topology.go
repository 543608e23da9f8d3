package main

import (
	"fmt"
	"time"
)

// The receiver's bound on its Redis work (--receive-timeout): while Redis, or
// a Sentinel group's primary, is away, a webhook is answered 503 within it,
// never left hanging. It must end well inside the HTTP server's 30-second
// write timeout, and after the wait for replicas (--ack-timeout).
const (
	defaultReceiveTimeout = 3 * time.Second
	minReceiveTimeout     = 100 * time.Millisecond
	maxReceiveTimeout     = 20 * time.Second
)

// checkReceiveTimeout refuses a --receive-timeout outside its range, or one
// that would cut the wait for replicas short.
func checkReceiveTimeout(c config) error {
	if c.ReceiveTimeout < minReceiveTimeout || c.ReceiveTimeout > maxReceiveTimeout {
		return fmt.Errorf("--receive-timeout (HOOKSHIFT_RECEIVE_TIMEOUT) is %s; expected a duration from %s to %s (e.g. 3s)", c.ReceiveTimeout, minReceiveTimeout, maxReceiveTimeout)
	}
	if c.AckReplicas > 0 && c.ReceiveTimeout <= c.AckTimeout {
		return fmt.Errorf("--receive-timeout (HOOKSHIFT_RECEIVE_TIMEOUT) is %s, not more than --ack-timeout %s; expected more, so the wait for replicas ends with a 503 not_replicated inside it", c.ReceiveTimeout, c.AckTimeout)
	}
	return nil
}
