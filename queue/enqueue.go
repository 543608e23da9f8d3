package queue

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protowire"
)

// Enqueues of many tasks in one script call per queue. asynq's client has
// no batch enqueue and takes one script call and one round trip per task;
// the receiver (ingest.go) and the fan-out enqueue many tasks at once.
//
// The tasks written are asynq's own: the same keys, hash fields and
// protobuf message its client writes for the same options (a TaskID, a
// queue, MaxRetry, no delay, asynq's default timeout).
// TestTasksMatchAsynq compares the bytes with what asynq's client writes,
// so an upgrade of asynq that changes them fails there.

// asynqDefaultTimeout is asynq's task timeout when neither a timeout nor a
// deadline is given (asynq's client.go, defaultTimeout).
const asynqDefaultTimeout = 30 * time.Minute

// asynqAllQueues is the set asynq lists queues from (base.AllQueues).
const asynqAllQueues = "asynq:queues"

// asynqTaskKey and asynqPendingKey are asynq's key names (base.TaskKey,
// base.PendingKey).
func asynqTaskKey(queue, id string) string { return "asynq:{" + queue + "}:t:" + id }
func asynqPendingKey(queue string) string  { return "asynq:{" + queue + "}:pending" }

// appendTaskMessage appends the protobuf encoding of asynq's TaskMessage
// (asynq's internal/proto/asynq.proto) for a task of type typ with the
// given id, queue, retries and payload to dst: fields in number order and
// zero values left out, as proto.Marshal does.
func appendTaskMessage(dst []byte, typ, id, queue string, retry int, payload []byte) []byte {
	dst = protowire.AppendTag(dst, 1, protowire.BytesType) // type
	dst = protowire.AppendString(dst, typ)
	if len(payload) > 0 {
		dst = protowire.AppendTag(dst, 2, protowire.BytesType) // payload
		dst = protowire.AppendBytes(dst, payload)
	}
	dst = protowire.AppendTag(dst, 3, protowire.BytesType) // id
	dst = protowire.AppendString(dst, id)
	dst = protowire.AppendTag(dst, 4, protowire.BytesType) // queue
	dst = protowire.AppendString(dst, queue)
	if retry > 0 {
		dst = protowire.AppendTag(dst, 5, protowire.VarintType) // retry
		dst = protowire.AppendVarint(dst, uint64(retry))
	}
	dst = protowire.AppendTag(dst, 8, protowire.VarintType) // timeout, seconds
	return protowire.AppendVarint(dst, uint64(asynqDefaultTimeout/time.Second))
}

// enqueueTasks is asynq's enqueue script (rdb.go, enqueueCmd) for several
// tasks of one queue in one call: a task whose key exists is left as it is
// (asynq's TaskID conflict).
//
// KEYS[1] the queue's pending list, KEYS[1+i] task i's hash (all in the
// queue's slot {QUEUE}). ARGV[1] now in ns, ARGV[2i] task i's id,
// ARGV[2i+1] its message. Returns, per task, 1 if enqueued, 0 if its id
// was taken.
var enqueueTasks = redis.NewScript(`
local out = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    out[i-1] = 0
  else
    redis.call('HSET', KEYS[i], 'msg', ARGV[2*(i-1)+1], 'state', 'pending', 'pending_since', ARGV[1])
    redis.call('LPUSH', KEYS[1], ARGV[2*(i-1)])
    out[i-1] = 1
  end
end
return out
`)

// enqueueRunArchived is enqueueTasks for the receiver's ingest tasks, with
// one difference: a task whose id is held by an archived task (a dead
// letter, which nothing runs) runs that archived task again, as asynq's
// inspector does (RunTask: out of the archive, onto the pending list), and
// answers 0 like any id taken. Left archived, it would make every later copy
// of the event (the platform's retry, a manual resend) a duplicate of a task
// that never runs. The archived task is run, not replaced: a fan-out cut
// short after it recorded the event finishes under its own receipt.
//
// KEYS[1] the queue's pending list, KEYS[2] its archive, KEYS[2+i] task
// i's hash (all in the queue's slot {QUEUE}); ARGV as enqueueTasks.
var enqueueRunArchived = redis.NewScript(`
local out = {}
for i = 3, #KEYS do
  local j = i - 2
  if redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('HGET', KEYS[i], 'state') == 'archived' then
      redis.call('ZREM', KEYS[2], ARGV[2*j])
      redis.call('HSET', KEYS[i], 'state', 'pending', 'pending_since', ARGV[1])
      redis.call('LPUSH', KEYS[1], ARGV[2*j])
    end
    out[j] = 0
  else
    redis.call('HSET', KEYS[i], 'msg', ARGV[2*j+1], 'state', 'pending', 'pending_since', ARGV[1])
    redis.call('LPUSH', KEYS[1], ARGV[2*j])
    out[j] = 1
  end
end
return out
`)

// asynqArchivedKey is asynq's archive of a queue (base.ArchivedKey).
func asynqArchivedKey(queue string) string { return "asynq:{" + queue + "}:archived" }

// taskBatch is the tasks of one queue to enqueue in one script call.
// runArchived: a task whose id an archived task holds runs that one again
// (enqueueRunArchived) instead of being refused.
type taskBatch struct {
	queue       string
	ids         []string
	msgs        [][]byte
	runArchived bool
}

// script is the batch's enqueue script.
func (b *taskBatch) script() *redis.Script {
	if b.runArchived {
		return enqueueRunArchived
	}
	return enqueueTasks
}

// add appends a task to the batch.
func (b *taskBatch) add(id string, msg []byte) {
	b.ids = append(b.ids, id)
	b.msgs = append(b.msgs, msg)
}

// args are the script's keys and arguments for the batch.
func (b *taskBatch) args() (keys []string, args []any) {
	keys = make([]string, 0, len(b.ids)+2)
	args = make([]any, 0, 2*len(b.ids)+1)
	keys = append(keys, asynqPendingKey(b.queue))
	if b.runArchived {
		keys = append(keys, asynqArchivedKey(b.queue))
	}
	args = append(args, strconv.FormatInt(time.Now().UnixNano(), 10))
	for i, id := range b.ids {
		keys = append(keys, asynqTaskKey(b.queue, id))
		args = append(args, id, b.msgs[i])
	}
	return keys, args
}

// publish adds queues to asynq's set of queues, once per client and queue,
// as asynq's client does before its first task to a queue.
func (c *Client) publish(ctx context.Context, queues ...string) error {
	var todo []any
	for _, q := range queues {
		if _, ok := c.published.Load(q); !ok {
			todo = append(todo, q)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if err := c.rdb.SAdd(ctx, asynqAllQueues, todo...).Err(); err != nil {
		return fmt.Errorf("register queues %v: %w", todo, err)
	}
	for _, q := range todo {
		c.published.Store(q, true)
	}
	return nil
}

// enqueueBatches sends one pipeline on on (the client, or one cluster
// node): the commands before adds, each batch's script call, then the
// commands after adds (before and after may be nil). It returns, per batch
// and task, whether the task was added (false: its id was taken). On error
// nothing is known of any task.
//
// A Redis that lost the script (after a restart or a failover) answers
// NOSCRIPT without running it: the script is loaded and the whole pipeline
// sent once more, so that what after adds (the replicas' confirmation)
// follows the writes it is about. before and after must add only commands
// that may run twice, and assign what they add anew on each call.
func (c *Client) enqueueBatches(ctx context.Context, on redis.UniversalClient, batches []taskBatch, before, after func(redis.Pipeliner)) ([][]bool, error) {
	queues := make([]string, len(batches))
	for i, b := range batches {
		queues[i] = b.queue
	}
	if err := c.publish(ctx, queues...); err != nil {
		return nil, err
	}
	keys := make([][]string, len(batches))
	args := make([][]any, len(batches))
	cmds := make([]*redis.Cmd, len(batches))
	for i := range batches {
		keys[i], args[i] = batches[i].args()
	}
	for attempt := 0; ; attempt++ {
		_, _ = on.Pipelined(ctx, func(p redis.Pipeliner) error {
			if before != nil {
				before(p)
			}
			for i := range batches {
				cmds[i] = batches[i].script().EvalSha(ctx, p, keys[i], args[i]...)
			}
			if after != nil {
				after(p)
			}
			return nil
		})
		var lost []*redis.Script
		for i, cmd := range cmds {
			if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") && !slices.Contains(lost, batches[i].script()) {
				lost = append(lost, batches[i].script())
			}
		}
		if len(lost) == 0 || attempt > 0 {
			break
		}
		for _, sc := range lost {
			if err := sc.Load(ctx, on).Err(); err != nil {
				return nil, fmt.Errorf("load the enqueue script: %w", err)
			}
		}
	}
	out := make([][]bool, len(batches))
	for i, b := range batches {
		added, err := cmds[i].Int64Slice()
		if err == nil && len(added) != len(b.ids) {
			err = fmt.Errorf("the script answered %d results for %d tasks", len(added), len(b.ids))
		}
		if err != nil {
			return nil, fmt.Errorf("enqueue %d tasks to %s: %w", len(b.ids), b.queue, err)
		}
		out[i] = make([]bool, len(added))
		for j, a := range added {
			out[i][j] = a == 1
		}
	}
	return out, nil
}
