// Package queue moves events through asynq: the ingest task that records an
// accepted event and fans it out, and one delivery task per destination that
// transforms, sends and classifies. It maps every delivery outcome to what
// asynq should do in one place (outcome.go).
package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/store"
)

// Queue names, shown in asynqmon. ingest and delivery are a contract
// (API.md); the others are named for what they hold.
const (
	QueueIngest   = "ingest"   // accepted events: record and fan out
	QueueReplay   = "replay"   // bulk replays: re-run a destination's failures
	QueueDelivery = "delivery" // one send to one destination

	// queueFanoutLegacy was QueueReplay's name; workers still drain it so
	// that a replay queued before an upgrade runs, but it is not created.
	queueFanoutLegacy = "fanout"
)

// Queues are every queue hookshift enqueues to with one delivery shard.
func Queues() []string { return QueuesFor(1) }

// QueuesFor are every queue hookshift enqueues to with shards delivery
// shards: what the worker serves, what EnsureQueues creates and what the
// metrics report.
func QueuesFor(shards int) []string {
	return append([]string{QueueIngest, QueueReplay}, DeliveryQueuesFor(shards)...)
}

// Task types.
const (
	TypeIngest   = "event:ingest"
	TypeReplay   = "destination:replay"
	TypeDelivery = "delivery:send"
	typeMarker   = "queue:marker" // see EnsureQueues; never runs
)

// IngestPayload is the ingest task: everything needed to record the event,
// so the receiver's only write is the enqueue.
type IngestPayload struct {
	Receipt    string          `json:"receipt"` // unique per accepted request; tells a retried task from a duplicate
	EventID    string          `json:"event_id"`
	TenantID   string          `json:"tenant_id"`
	SourceID   string          `json:"source_id"`
	ProviderID string          `json:"provider_id"`
	Type       string          `json:"type"`
	ReceivedAt time.Time       `json:"received_at"`
	Body       json.RawMessage `json:"body"`
}

// DeliveryPayload is the delivery task. It carries ids, not the event: the
// payload is stored once, with the event. The labels after the ids are for
// the operator reading the task in asynqmon or the dead letters (whose, to
// where, what); the worker reads the destination afresh and never trusts them.
// None of them is a secret.
type DeliveryPayload struct {
	EventID         string `json:"event_id"`
	DestinationID   string `json:"destination_id"`
	TenantID        string `json:"tenant_id,omitempty"`
	DestinationName string `json:"destination_name,omitempty"`
	Integration     string `json:"integration,omitempty"`
	EventType       string `json:"event_type,omitempty"`
}

// DeliveryFor is the delivery task of an event of type eventType to d.
func DeliveryFor(eventID, eventType string, d store.Destination) DeliveryPayload {
	return DeliveryPayload{EventID: eventID, DestinationID: d.ID, TenantID: d.TenantID,
		DestinationName: d.Name, Integration: d.Integration, EventType: eventType}
}

// DeliveryQueuesFor are the delivery queues of shards shards (API.md):
// "delivery" for one, else "delivery-0" … "delivery-(N-1)". asynq keeps
// each queue's keys in the cluster slot of "{name}", so on a Redis Cluster
// the shards spread over the masters (with 3 shards on a 3-master cluster
// made by redis-cli, one on each: slots 12425, 8360 and 4299).
func DeliveryQueuesFor(shards int) []string {
	if shards <= 1 {
		return []string{QueueDelivery}
	}
	out := make([]string, shards)
	for i := range out {
		out[i] = QueueDelivery + "-" + strconv.Itoa(i)
	}
	return out
}

// DeliveryQueueOf is the delivery queue of a destination: a stable hash of
// its id (FNV-1a) picks the shard, so one destination's deliveries share a
// queue and the destinations spread over the shards.
func DeliveryQueueOf(destID string, shards int) string {
	if shards <= 1 {
		return QueueDelivery
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(destID))
	return QueueDelivery + "-" + strconv.Itoa(int(h.Sum32()%uint32(shards)))
}

// isDeliveryQueue tells a delivery queue of any shard count by its name:
// what the dead letters and the workers find in Redis after the count
// changed.
func isDeliveryQueue(q string) bool {
	if q == QueueDelivery {
		return true
	}
	n, ok := strings.CutPrefix(q, QueueDelivery+"-")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

// MaxDeliveryShards bounds HOOKSHIFT_DELIVERY_SHARDS: each shard is a queue
// every worker polls.
const MaxDeliveryShards = 256

// ingestMaxRetry bounds retries of the ingest task, which fail only while
// Redis is unhealthy; with the backoff below it spans about a day.
const ingestMaxRetry = 25

// Client enqueues hookshift's tasks.
type Client struct {
	ac       *asynq.Client
	rdb      redis.UniversalClient
	schedule Schedule
	ack      DurableAck // see ack.go
	shards   int        // delivery shards; 1 when unset
	// published: queues this client has added to asynq's set (enqueue.go).
	published sync.Map
}

// NewClient returns a Client sharing rdb (closing the Client leaves rdb open).
func NewClient(rdb redis.UniversalClient, schedule Schedule, opts ...ClientOption) *Client {
	c := &Client{ac: asynq.NewClientFromRedisClient(rdb), rdb: rdb, schedule: schedule}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithDeliveryShards makes the client spread delivery tasks over n queues
// (DeliveryQueueOf); n <= 1 means the one "delivery" queue. Call it once,
// before the client is used.
func (c *Client) WithDeliveryShards(n int) *Client {
	c.shards = max(1, n)
	return c
}

// DeliveryShards is the number of delivery queues the client enqueues to.
func (c *Client) DeliveryShards() int { return max(1, c.shards) }

// Close releases the client.
func (c *Client) Close() error { return c.ac.Close() }

// ingestHead is IngestPayload without the body, encoded by json.Marshal;
// appendIngest splices the body in. Keep the two structs' fields in step
// (TestIngestEncodingMatchesMarshal).
type ingestHead struct {
	Receipt    string    `json:"receipt"`
	EventID    string    `json:"event_id"`
	TenantID   string    `json:"tenant_id"`
	SourceID   string    `json:"source_id"`
	ProviderID string    `json:"provider_id"`
	Type       string    `json:"type"`
	ReceivedAt time.Time `json:"received_at"`
}

// appendIngest appends p's JSON encoding to dst: the small fields through
// json.Marshal, then `"body":` and the body's bytes as they are.
func appendIngest(dst []byte, p IngestPayload) ([]byte, error) {
	head, err := json.Marshal(ingestHead{Receipt: p.Receipt, EventID: p.EventID, TenantID: p.TenantID, SourceID: p.SourceID,
		ProviderID: p.ProviderID, Type: p.Type, ReceivedAt: p.ReceivedAt})
	if err != nil {
		return dst, err
	}
	body := []byte(p.Body)
	if len(body) == 0 {
		body = []byte("null")
	}
	if cap(dst)-len(dst) < len(head)+len(body)+8 {
		dst = append(make([]byte, 0, len(dst)+len(head)+len(body)+8), dst...)
	}
	dst = append(dst, head[:len(head)-1]...) // without its closing brace
	dst = append(dst, `,"body":`...)
	dst = append(dst, body...)
	return append(dst, '}'), nil
}

// decodeIngest reads an ingest task. The body is taken as it is, without a
// second validation pass over it: every writer of the task (appendIngest,
// and json.Marshal of IngestPayload before it) puts "body" last, after
// fields that json.Marshal wrote, and the receiver checked the body is
// JSON. The first `,"body":` is where the body starts: inside a JSON
// string a quote is always escaped, so the sequence cannot occur in the
// fields before it. A task that does not have that shape is decoded by
// json.Unmarshal, which reports what is wrong with it.
func decodeIngest(b []byte) (IngestPayload, error) {
	var p IngestPayload
	i := bytes.Index(b, []byte(`,"body":`))
	if i < 0 || len(b) < i+9 || b[len(b)-1] != '}' {
		err := json.Unmarshal(b, &p)
		return p, err
	}
	head := make([]byte, 0, i+1)
	head = append(append(head, b[:i]...), '}')
	var h ingestHead
	body := bytes.TrimSpace(b[i+8 : len(b)-1])
	if err := json.Unmarshal(head, &h); err != nil || len(body) == 0 {
		err = json.Unmarshal(b, &p) // for its error, or a shape not foreseen
		return p, err
	}
	return IngestPayload{Receipt: h.Receipt, EventID: h.EventID, TenantID: h.TenantID, SourceID: h.SourceID,
		ProviderID: h.ProviderID, Type: h.Type, ReceivedAt: h.ReceivedAt, Body: json.RawMessage(body)}, nil
}

// DeliveryTaskID is the TaskID of a delivery, and its idempotency key: event
// id + destination id, so fan-out twice enqueues it once.
func DeliveryTaskID(eventID, destID string) string { return eventID + ":" + destID }

// EnqueueDelivery enqueues one delivery. A delivery already queued is not an
// error. taskID defaults to DeliveryTaskID; a replay passes its own so it is
// not refused by the archived original.
func (c *Client) EnqueueDelivery(ctx context.Context, p DeliveryPayload, taskID string) error {
	return c.EnqueueDeliveryIn(ctx, p, taskID, 0)
}

// EnqueueDeliveries enqueues an event's deliveries together: one script
// call per delivery queue, all in one round trip (enqueue.go), where
// asynq's client would take a round trip per delivery. A delivery already
// queued is not an error.
//
// receipt, when not "", is the receipt that recorded the event: a delivery
// whose TaskID is held by a dead letter is enqueued again under a TaskID of
// its own (AgainTaskID). asynq keeps an archived task for months, long after
// the event it was about has expired, and an event accepted again after
// that (the provider sent it once more past the dedupe window) is a new one
// whose delivery the dead letter would otherwise refuse for good, leaving
// it pending with no task. The fan-out enqueues no delivery recorded
// failed, so a dead letter in its way is an earlier copy's (or, rarely, a
// final attempt whose hand-over could not be enqueued): either way the
// delivery is still to do.
func (c *Client) EnqueueDeliveries(ctx context.Context, ps []DeliveryPayload, receipt string) error {
	return c.EnqueueDeliveriesAfter(ctx, ps, receipt, nil)
}

// EnqueueDeliveriesAfter is EnqueueDeliveries with the commands before adds
// sent first, in the same round trip (the fan-out's delivery records).
// With no deliveries, before's commands are sent alone.
func (c *Client) EnqueueDeliveriesAfter(ctx context.Context, ps []DeliveryPayload, receipt string, before func(redis.Pipeliner)) error {
	if len(ps) == 0 {
		if before != nil {
			_, _ = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { before(p); return nil })
		}
		return nil
	}
	var batches []taskBatch
	var of [][]DeliveryPayload // each batch's payloads, in order
	retry := c.schedule.Retries()
	for _, p := range ps {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode delivery task: %w", err)
		}
		q := DeliveryQueueOf(p.DestinationID, c.DeliveryShards())
		i := slices.IndexFunc(batches, func(b taskBatch) bool { return b.queue == q })
		if i < 0 {
			batches = append(batches, taskBatch{queue: q})
			of = append(of, nil)
			i = len(batches) - 1
		}
		id := DeliveryTaskID(p.EventID, p.DestinationID)
		batches[i].add(id, appendTaskMessage(nil, TypeDelivery, id, q, retry, b))
		of[i] = append(of[i], p)
	}
	added, err := c.enqueueBatches(ctx, c.rdb, batches, before, nil)
	if err != nil {
		return fmt.Errorf("enqueue %d deliveries of %s: %w", len(ps), ps[0].EventID, err)
	}
	if receipt == "" {
		return nil
	}
	// The deliveries whose TaskID was taken: queued already, or a dead letter.
	var refused []DeliveryPayload
	var keys []string
	for i, b := range batches {
		for j, ok := range added[i] {
			if !ok {
				refused, keys = append(refused, of[i][j]), append(keys, asynqTaskKey(b.queue, b.ids[j]))
			}
		}
	}
	dead, err := c.deadLetters(ctx, keys)
	if err != nil {
		return fmt.Errorf("enqueue deliveries of %s: %w", ps[0].EventID, err)
	}
	for i, p := range refused {
		if !dead[i] {
			continue
		}
		if err := c.EnqueueDelivery(ctx, p, AgainTaskID(p.EventID, p.DestinationID, receipt)); err != nil {
			return err
		}
	}
	return nil
}

// deadLetters reports, in one round trip, which of the task hashes
// (asynqTaskKey) are archived tasks: dead letters, which nothing runs, each
// holding its TaskID. A task gone since (done) is none.
func (c *Client) deadLetters(ctx context.Context, taskKeys []string) ([]bool, error) {
	if len(taskKeys) == 0 {
		return nil, nil
	}
	states := make([]*redis.StringCmd, len(taskKeys))
	_, _ = c.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for i, k := range taskKeys {
			states[i] = pl.HGet(ctx, k, "state")
		}
		return nil
	})
	dead := make([]bool, len(taskKeys))
	for i, st := range states {
		state, err := st.Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("read the task %s holding its id: %w", taskKeys[i], err)
		}
		dead[i] = state == "archived"
	}
	return dead, nil
}

// AgainTaskID is the TaskID of a delivery whose own (DeliveryTaskID) is held
// by a dead letter of an earlier copy of the event: one per receipt, so a
// fan-out that runs again enqueues it once.
func AgainTaskID(eventID, destID, receipt string) string {
	return DeliveryTaskID(eventID, destID) + ":again:" + receipt
}

// EnqueueDeliveryIn is EnqueueDelivery to run after delay: a paced replay
// keeps its pace in Redis, so it survives the process that started it.
func (c *Client) EnqueueDeliveryIn(ctx context.Context, p DeliveryPayload, taskID string, delay time.Duration) error {
	_, err := c.enqueueDeliveryIn(ctx, p, taskID, delay)
	return err
}

// enqueueDeliveryIn is EnqueueDeliveryIn that reports whether a dead letter
// (an archived task) holds taskID, so that nothing was enqueued and nothing
// will run under that id.
func (c *Client) enqueueDeliveryIn(ctx context.Context, p DeliveryPayload, taskID string, delay time.Duration) (heldByDeadLetter bool, err error) {
	if taskID == "" {
		taskID = DeliveryTaskID(p.EventID, p.DestinationID)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("encode delivery task: %w", err)
	}
	q := DeliveryQueueOf(p.DestinationID, c.DeliveryShards())
	// MaxRetry is the schedule's retries, so asynqmon shows the truth; a
	// wait (rate limit, open circuit) spends none (isFailure), and the final
	// attempt is never postponed (see Deliverer.admit).
	_, err = c.ac.EnqueueContext(ctx, asynq.NewTask(TypeDelivery, b), asynq.ProcessIn(delay),
		asynq.TaskID(taskID), asynq.Queue(q), asynq.MaxRetry(c.schedule.Retries()))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		dead, err := c.deadLetters(ctx, []string{asynqTaskKey(q, taskID)})
		if err != nil {
			return false, fmt.Errorf("enqueue delivery %s: %w", taskID, err)
		}
		return dead[0], nil
	}
	if err != nil {
		return false, fmt.Errorf("enqueue delivery %s: %w", taskID, err)
	}
	return false, nil
}

// ReplayPayload is a destination replay: every delivery of the destination
// that failed since Since, run again at PerSecond.
type ReplayPayload struct {
	DestinationID string    `json:"destination_id"`
	Since         time.Time `json:"since"`
	PerSecond     float64   `json:"per_second"`
	Stamp         string    `json:"stamp"` // tells this replay's delivery tasks from earlier ones
}

// EnqueueReplay makes a destination replay durable: a worker carries it out,
// and a worker that dies mid-way leaves the task to be run again.
func (c *Client) EnqueueReplay(ctx context.Context, p ReplayPayload) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode replay task: %w", err)
	}
	_, err = c.ac.EnqueueContext(ctx, asynq.NewTask(TypeReplay, b), asynq.TaskID("replay:"+p.DestinationID+":"+p.Stamp),
		asynq.Queue(QueueReplay), asynq.MaxRetry(ingestMaxRetry))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue replay of %s: %w", p.DestinationID, err)
	}
	return nil
}

// ReplayTaskID is the TaskID of a replayed delivery: one of its own, since
// the original may sit in the archive under the plain id and asynq refuses a
// TaskID it holds. The Idempotency-Key the destination sees does not change:
// it is event id + destination id whatever the task id (see Headers).
func ReplayTaskID(eventID, destID, stamp string) string {
	return DeliveryTaskID(eventID, destID) + ":replay:" + stamp
}

// EnsureQueues makes every queue exist in Redis from the start, so asynqmon
// and the metrics show each one (empty) before its first task, instead of
// "queue not found". asynq registers a queue when a task is first enqueued
// to it and has no call to create one, so this enqueues a marker task far in
// the future and deletes it at once: the queue stays registered. A marker a
// crash leaves behind is a no-op for the worker.
func (c *Client) EnsureQueues(ctx context.Context, rdb redis.UniversalClient) error {
	insp := asynq.NewInspectorFromRedisClient(rdb)
	have, err := insp.Queues()
	if err != nil {
		return fmt.Errorf("list queues: %w", err)
	}
	for _, q := range QueuesFor(c.DeliveryShards()) {
		if slices.Contains(have, q) {
			continue
		}
		id := "queue-marker:" + q
		_, err := c.ac.EnqueueContext(ctx, asynq.NewTask(typeMarker, nil), asynq.Queue(q), asynq.TaskID(id),
			asynq.ProcessIn(24*time.Hour), asynq.MaxRetry(0))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("create queue %s: %w", q, err)
		}
		if err := insp.DeleteTask(q, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return fmt.Errorf("create queue %s: remove marker: %w", q, err)
		}
	}
	return nil
}
