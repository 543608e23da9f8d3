package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/store"
)

// ErrNotReplicated is returned when the replicas a durable acknowledgement
// asks for did not confirm the ingest task in time. The task may be queued
// all the same (it is then delivered once, and the platform's retry is
// answered as a duplicate); the receiver answers 503 so that the platform
// retries.
var ErrNotReplicated = errors.New("the event's task is not confirmed by enough replicas")

// DefaultAckTimeout is how long the receiver waits for replicas by default
// (HOOKSHIFT_ACK_TIMEOUT).
const DefaultAckTimeout = 500 * time.Millisecond

// DurableAck is HOOKSHIFT_ACK_REPLICAS and HOOKSHIFT_ACK_TIMEOUT: with
// Replicas > 0 an ingest task counts as held only once that many replicas
// hold it as well as the primary.
type DurableAck struct {
	Replicas int
	Timeout  time.Duration // default DefaultAckTimeout
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithDurableAck makes the receiver's enqueue (IngestBatcher) wait for
// a.Replicas replicas.
func WithDurableAck(a DurableAck) ClientOption {
	return func(c *Client) {
		if a.Timeout <= 0 {
			a.Timeout = DefaultAckTimeout
		}
		c.ack = a
	}
}

// ackBarrierChannel is the Pub/Sub channel of the barrier write (below). No
// one subscribes to it; it is not a key, so it costs no memory.
const ackBarrierChannel = "hookshift:ack-barrier"

// queueAck queues, after a batch's enqueue and on the same pipeline (so on
// the same connection, to the same server), a barrier write and WAIT; the
// returned func reports, once the pipeline has run, whether ack.Replicas
// replicas confirmed it (ErrNotReplicated if not). It queues nothing and
// its func reports nil when no replicas are asked for.
//
// Redis's WAIT covers the writes of its own connection, so it must follow
// the enqueue on that connection: a WAIT sent apart could reach another
// server than the write (a new primary after a failover, where the write
// never arrived) and confirm a task that is lost. The barrier (a PUBLISH,
// which Redis replicates in order with every other write and which leaves
// no key behind) makes the WAIT cover what the server had applied before it
// from any connection too: a duplicate whose task another request wrote,
// which this connection only read. On a cluster node, where PUBLISH goes
// over the cluster bus and not the replication stream, the barrier is a
// short-lived key in the ingest queue's slot.
func (c *Client) queueAck(ctx context.Context, p redis.Pipeliner, clusterNode bool) func() error {
	if c.ack.Replicas <= 0 {
		return func() error { return nil }
	}
	if clusterNode {
		p.Set(ctx, store.AckBarrierKey(QueueIngest), "1", time.Minute)
	} else {
		p.Publish(ctx, ackBarrierChannel, "")
	}
	wait := p.Do(ctx, "WAIT", c.ack.Replicas, c.ack.Timeout.Milliseconds())
	return func() error {
		n, err := wait.Int64()
		if err != nil {
			return fmt.Errorf("wait for %d replicas: %w", c.ack.Replicas, err)
		}
		if n < int64(c.ack.Replicas) {
			return fmt.Errorf("%w: %d of %d replicas confirmed within %s", ErrNotReplicated, n, c.ack.Replicas, c.ack.Timeout)
		}
		return nil
	}
}
