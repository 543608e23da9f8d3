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

// WithDurableAck makes AwaitReplicas wait for a.Replicas replicas.
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

// AwaitReplicas returns once ack.Replicas replicas hold every write Redis
// had applied when it was called, so a task enqueued (or found queued)
// before the call is covered: ErrNotReplicated if they do not confirm
// within ack.Timeout. It is a no-op when no replicas are asked for.
//
// Redis's WAIT covers only the writes of the connection it is sent on, and
// asynq's client takes any connection from the pool for the enqueue. So
// AwaitReplicas sends, on one connection and in one round trip, a barrier
// write (a PUBLISH, which Redis replicates in order with every other write
// and which leaves no key behind) and then WAIT: the replicas that confirm
// the barrier hold everything written before it, the task included, whatever
// connection wrote it. The same holds for a duplicate whose original was
// written by another request, which a WAIT on the enqueue's own connection
// would not cover. On Redis Cluster, where PUBLISH is not replicated this
// way, the barrier is a short-lived key in the ingest queue's slot, written
// with the WAIT on a connection to that slot's master.
func (c *Client) AwaitReplicas(ctx context.Context) error {
	if c.ack.Replicas <= 0 {
		return nil
	}
	var wait *redis.Cmd
	on := redis.Cmdable(c.rdb)
	barrier := func(p redis.Pipeliner) { p.Publish(ctx, ackBarrierChannel, "") }
	if cc, ok := c.rdb.(*redis.ClusterClient); ok {
		// On a cluster PUBLISH goes over the cluster bus, not the replication
		// stream: the barrier is a key written on the master of the ingest
		// queue's slot, where every ingest task is.
		key := store.AckBarrierKey(QueueIngest)
		node, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return fmt.Errorf("wait for %d replicas: find the ingest queue's master: %w", c.ack.Replicas, err)
		}
		on = node
		barrier = func(p redis.Pipeliner) { p.Set(ctx, key, "1", time.Minute) }
	}
	_, err := on.Pipelined(ctx, func(p redis.Pipeliner) error {
		barrier(p)
		wait = p.Do(ctx, "WAIT", c.ack.Replicas, c.ack.Timeout.Milliseconds())
		return nil
	})
	if err != nil {
		return fmt.Errorf("wait for %d replicas: %w", c.ack.Replicas, err)
	}
	n, err := wait.Int64()
	if err != nil {
		return fmt.Errorf("wait for %d replicas: %w", c.ack.Replicas, err)
	}
	if n < int64(c.ack.Replicas) {
		return fmt.Errorf("%w: %d of %d replicas confirmed within %s", ErrNotReplicated, n, c.ack.Replicas, c.ack.Timeout)
	}
	return nil
}
