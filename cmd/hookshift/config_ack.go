package main

import (
	"fmt"
	"time"
)

// Bounds of the durable acknowledgement settings. The wait must end well
// inside the Redis client's 2-second read timeout (serve.go) and the
// receiver's 3-second bound on its Redis work, so that a missing replica
// gives a 503 not_replicated, never a timeout of the connection.
const (
	maxAckReplicas = 16
	maxAckTimeout  = 1500 * time.Millisecond
	minAckTimeout  = time.Millisecond
)

// checkAck refuses --ack-replicas and --ack-timeout outside their range.
func checkAck(c config) error {
	if c.AckReplicas < 0 || c.AckReplicas > maxAckReplicas {
		return fmt.Errorf("--ack-replicas (HOOKSHIFT_ACK_REPLICAS) is %d; expected an integer from 0 (acknowledge once the primary has the event) to %d", c.AckReplicas, maxAckReplicas)
	}
	if c.AckTimeout < minAckTimeout || c.AckTimeout > maxAckTimeout {
		return fmt.Errorf("--ack-timeout (HOOKSHIFT_ACK_TIMEOUT) is %s; expected a duration from %s to %s (e.g. 500ms)", c.AckTimeout, minAckTimeout, maxAckTimeout)
	}
	return nil
}
