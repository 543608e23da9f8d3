package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Seen reports whether an event id is inside its dedupe window. The receiver
// asks this before enqueueing; asynq's TaskID refuses duplicates while the
// task itself still exists.
func (s *Store) Seen(ctx context.Context, eventID string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.kDedupe(eventID)).Result()
	if err != nil {
		return false, fmt.Errorf("check dedupe marker: %w", err)
	}
	return n > 0, nil
}

// QueueSeen queues Seen's check of eventID's dedupe marker on p: the
// receiver's group commit sends it beside the enqueue (queue.IngestBatcher).
// The command's value is 1 when the marker exists.
func (s *Store) QueueSeen(ctx context.Context, p redis.Pipeliner, eventID string) *redis.IntCmd {
	return p.Exists(ctx, s.kDedupe(eventID))
}

// recordEvent claims the dedupe marker for this receipt and writes the
// event, in one step on the event's slot. A marker held by another receipt
// means the event was already recorded by an earlier accepted copy: the copy
// is dropped. The same receipt may run it again (a retried task) and gets
// the same result.
//
// KEYS[1] dedupe marker, KEYS[2] event, KEYS[3] the event's deliveries (all
// {e:ID}). ARGV[1] receipt, ARGV[2] dedupe window ms, ARGV[3] the event
// record (encodeEventRecord: meta and compressed payload in one string),
// ARGV[4] retention ms. Returns 0 for another's receipt; 2 when recorded
// for the first time with no delivery record of the event in Redis (no
// marker, no deliveries: not a retried task, nor an event whose marker
// expired before its records); 1 otherwise.
var recordEvent = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
local first = (not cur) and redis.call('EXISTS', KEYS[3]) == 0
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
if first then return 2 end
return 1
`)

// indexEvent enters an event into its tenant's event list and search
// indexes, in one step on the tenant's slot. ZADD of the same member and
// score is idempotent, so a retried task may run it again.
//
// Each index expires some time after its last write, never before the
// retention of the entry just written: when its TTL has fallen below the
// retention it is set to the retention plus a slack (indexSlack), and only
// then is the index trimmed of entries older than the retention. So a busy
// index pays for the trim and the expiry once per slack, not once per event
// (two of its three commands), and holds entries past their retention for
// at most the slack; search skips an entry whose event is gone. An index
// nobody writes to any more vanishes with its last entry's retention.
//
// KEYS the tenant's event list and the event's search indexes (all {t:ID};
// see search.go). ARGV[1] received ms, ARGV[2] event id, ARGV[3] the
// exclusive trim bound "(ms", ARGV[4] retention ms, ARGV[5] retention +
// slack ms. Returns nothing.
var indexEvent = redis.NewScript(`
local ret = tonumber(ARGV[4])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
  if redis.call('PTTL', KEYS[i]) < ret then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[3])
    redis.call('PEXPIRE', KEYS[i], ARGV[5])
  end
end
return 0
`)

// indexSlack is how much longer than the retention an index may live, and
// so how often at most a busy index is trimmed: a twenty-fourth of the
// retention, at most an hour (1.4 % more index entries at 72 h).
func indexSlack(retention time.Duration) time.Duration {
	return min(time.Hour, retention/24)
}

// RecordEvent stores an accepted event once, enters it into the search
// indexes of its type, source and keys, and marks its id as seen for the
// dedupe window. It returns false when another receipt already recorded the
// same event id (a duplicate that raced past the receiver's checks).
//
// It is two writes on two slots (event, then tenant), each idempotent: a
// crash between them leaves the event stored but not yet searchable, and
// the task's retry (same receipt) finishes the job. Search skips an index
// entry whose event is gone, so the other order would be safe too.
func (s *Store) RecordEvent(ctx context.Context, ev Event, receipt string, keys SearchKeys) (bool, error) {
	n, err := s.recordEvent(ctx, ev, receipt, nil)
	if err != nil || n == 0 {
		return false, err
	}
	return true, s.IndexEvent(ctx, ev, keys)
}

// recordEvent runs the recordEvent script for ev and receipt (its result:
// 0, 1 or 2), with the commands also adds in the same round trip.
func (s *Store) recordEvent(ctx context.Context, ev Event, receipt string, also func(redis.Pipeliner)) (int, error) {
	payload := ev.Payload
	ev.Payload = nil
	meta, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	stored, err := encodePayload(payload)
	if err != nil {
		return 0, fmt.Errorf("encode payload of %s: %w", ev.ID, err)
	}
	recKeys := []string{s.kDedupe(ev.ID), s.kEvent(ev.ID), s.kDeliveries(ev.ID)}
	recArgs := []any{receipt, s.opts.DedupeWindow.Milliseconds(), encodeEventRecord(meta, stored), s.opts.EventRetention.Milliseconds()}
	var rec *redis.Cmd
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		rec = recordEvent.EvalSha(ctx, p, recKeys, recArgs...)
		if also != nil {
			also(p)
		}
		return nil
	})
	if redis.HasErrorPrefix(rec.Err(), "NOSCRIPT") {
		rec = recordEvent.Run(ctx, s.rdb, recKeys, recArgs...) // loads it
	}
	n, err := rec.Int()
	if err != nil {
		return 0, fmt.Errorf("record event %s: %w", ev.ID, err)
	}
	return n, nil
}

// IndexEvent enters a recorded event into its tenant's event list and the
// search indexes of its type, source and keys (idempotent).
func (s *Store) IndexEvent(ctx context.Context, ev Event, keys SearchKeys) error {
	var done func() error
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		done = s.QueueIndexEvent(ctx, p, ev, keys)
		return nil
	})
	return done()
}

// QueueIndexEvent queues IndexEvent's write on p; call the returned func
// once p has run: it reports the write's error, after loading the script
// and running it again if Redis had lost it.
func (s *Store) QueueIndexEvent(ctx context.Context, p redis.Pipeliner, ev Event, keys SearchKeys) func() error {
	oldest := s.now().Add(-s.opts.EventRetention).UnixMilli()
	ixKeys := append([]string{s.kTenantEvents(ev.TenantID)}, s.indexKeys(ev, keys)...)
	ret := s.opts.EventRetention
	ixArgs := []any{ev.ReceivedAt.UnixMilli(), ev.ID, "(" + strconv.FormatInt(oldest, 10), ret.Milliseconds(), (ret + indexSlack(ret)).Milliseconds()}
	ix := indexEvent.EvalSha(ctx, p, ixKeys, ixArgs...)
	return func() error {
		if redis.HasErrorPrefix(ix.Err(), "NOSCRIPT") {
			ix = indexEvent.Run(ctx, s.rdb, ixKeys, ixArgs...)
		}
		if err := ix.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("index event %s: %w", ev.ID, err)
		}
		return nil
	}
}

// GetEvent loads an event with its payload. tenantID "" skips the ownership
// check.
func (s *Store) GetEvent(ctx context.Context, tenantID, id string) (Event, error) {
	raw, err := s.rdb.Get(ctx, s.kEvent(id)).Bytes()
	var ev Event
	switch {
	case errors.Is(err, redis.Nil):
		return Event{}, ErrNotFound
	case isWrongType(err):
		ev, err = s.getEventHash(ctx, id)
	case err == nil:
		ev, err = decodeEventRecord(id, raw)
	default:
		err = fmt.Errorf("get event %s: %w", id, err)
	}
	if err != nil {
		return Event{}, err
	}
	if tenantID != "" && ev.TenantID != tenantID {
		return Event{}, ErrNotFound
	}
	return ev, nil
}

// getEventHash reads an event stored as a hash of meta and payload, the form
// written before events became one string (kept for the retention of events
// recorded before the upgrade).
func (s *Store) getEventHash(ctx context.Context, id string) (Event, error) {
	vals, err := s.rdb.HMGet(ctx, s.kEvent(id), "meta", "payload").Result()
	if err != nil {
		return Event{}, fmt.Errorf("get event %s: %w", id, err)
	}
	meta, ok := vals[0].(string)
	if !ok {
		return Event{}, ErrNotFound
	}
	var ev Event
	if err := json.Unmarshal([]byte(meta), &ev); err != nil {
		return Event{}, fmt.Errorf("decode event %s: %w", id, err)
	}
	if p, ok := vals[1].(string); ok {
		b, err := decodePayload([]byte(p))
		if err != nil {
			return Event{}, fmt.Errorf("event %s: %w", id, err)
		}
		ev.Payload = json.RawMessage(b)
	}
	return ev, nil
}

// ErrBadCursor is returned for a pagination cursor this API did not issue.
var ErrBadCursor = errors.New("invalid cursor")

// ListEvents returns a tenant's events, newest first, at most limit, starting
// after cursor (an opaque string from the previous page; "" for the first).
// It is SearchEvents without filters.
func (s *Store) ListEvents(ctx context.Context, tenantID string, limit int, cursor string) ([]Event, string, error) {
	return s.SearchEvents(ctx, tenantID, EventFilter{}, limit, cursor)
}

// initDeliveries creates each named delivery of an event in the pending
// state unless it exists, and returns every delivery's state, in one step on
// the event's slot.
//
// KEYS[1] the event's deliveries hash ({e:ID}). ARGV[1] retention ms,
// ARGV[2] the pending record, ARGV[3..] destination ids. Returns the stored
// record of each destination id, in order.
var initDeliveries = redis.NewScript(`
local out = {}
local created = false
for i = 3, #ARGV do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if not cur then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[2])
    created = true
    cur = ARGV[2]
  end
  out[#out + 1] = cur
end
if created then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return out
`)

// InitDelivery makes sure a delivery record exists for the event and
// destination, and returns it. A fan-out that runs twice sees the first run's
// record and can tell a finished delivery from one still to do.
func (s *Store) InitDelivery(ctx context.Context, eventID, destID string) (Delivery, error) {
	ds, err := s.InitDeliveries(ctx, eventID, []string{destID})
	if err != nil {
		return Delivery{}, err
	}
	return ds[0], nil
}

// InitDeliveries is InitDelivery for every destination of an event at once:
// one script call, whatever the number of destinations. The result is in the
// order of destIDs.
func (s *Store) InitDeliveries(ctx context.Context, eventID string, destIDs []string) ([]Delivery, error) {
	if len(destIDs) == 0 {
		return nil, nil
	}
	keys, args := s.initDeliveriesArgs(eventID, destIDs)
	res, err := initDeliveries.Run(ctx, s.rdb, keys, args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("init deliveries of %s: %w", eventID, err)
	}
	out := make([]Delivery, len(destIDs))
	for i, r := range res {
		if out[i], err = decodeDelivery(destIDs[i], []byte(r)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// initDeliveriesArgs are the initDeliveries script's keys and arguments.
func (s *Store) initDeliveriesArgs(eventID string, destIDs []string) ([]string, []any) {
	pending, _ := json.Marshal(storedDelivery{Status: StatusPending, UpdatedAt: s.now()})
	args := make([]any, 0, 2+len(destIDs))
	args = append(args, s.opts.EventRetention.Milliseconds(), pending)
	for _, id := range destIDs {
		args = append(args, id)
	}
	return []string{s.kDeliveries(eventID)}, args
}

// maxAttemptsKept bounds the attempt log of one delivery (replays add more).
const maxAttemptsKept = 50

// RecordAttempt appends an attempt to a delivery's log and sets the
// delivery's status, in one transaction on the event's slot. The
// destination's index of failed deliveries is kept apart (see indexFailed).
func (s *Store) RecordAttempt(ctx context.Context, eventID, destID string, a Attempt, status string) error {
	ab, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode attempt: %w", err)
	}
	db := encodeDelivery(Delivery{Status: status, AttemptCount: a.Number, LastError: a.Error, UpdatedAt: s.now()})
	ret := s.opts.EventRetention
	if err := s.indexFailed(ctx, eventID, destID, status, true); err != nil {
		return fmt.Errorf("record attempt %s/%s: %w", eventID, destID, err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		k := s.kAttempts(eventID, destID)
		p.RPush(ctx, k, ab)
		p.LTrim(ctx, k, -maxAttemptsKept, -1)
		p.PExpire(ctx, k, ret)
		p.HSet(ctx, s.kDeliveries(eventID), destID, db)
		p.PExpire(ctx, s.kDeliveries(eventID), ret)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record attempt %s/%s: %w", eventID, destID, err)
	}
	// A first attempt has nothing to take out of the failed index: only an
	// attempt's failure (or a replay putting a failed delivery back) enters
	// a delivery there, so that round trip is spared on the hot path.
	if a.Number > 1 {
		if err := s.indexFailed(ctx, eventID, destID, status, false); err != nil {
			return fmt.Errorf("record attempt %s/%s: %w", eventID, destID, err)
		}
	}
	return nil
}

// SetDeliveryStatus changes a delivery's status without an attempt (a replay
// puts it back to pending).
func (s *Store) SetDeliveryStatus(ctx context.Context, eventID, destID, status string) error {
	cur, err := s.deliveryState(ctx, eventID, destID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	cur.DestinationID, cur.Status, cur.UpdatedAt = destID, status, s.now()
	b := encodeDelivery(cur)
	if err := s.indexFailed(ctx, eventID, destID, status, true); err != nil {
		return fmt.Errorf("set delivery status %s/%s: %w", eventID, destID, err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.kDeliveries(eventID), destID, b)
		p.PExpire(ctx, s.kDeliveries(eventID), s.opts.EventRetention)
		return nil
	})
	if err != nil {
		return fmt.Errorf("set delivery status %s/%s: %w", eventID, destID, err)
	}
	if err := s.indexFailed(ctx, eventID, destID, status, false); err != nil {
		return fmt.Errorf("set delivery status %s/%s: %w", eventID, destID, err)
	}
	return nil
}

// ReplayFailed puts a failed delivery back to pending for a replay and
// reports whether it was failed. It is a compare-and-set: of two replays
// racing for the same delivery, one gets true, so it is enqueued once.
func (s *Store) ReplayFailed(ctx context.Context, eventID, destID string) (bool, error) {
	key := s.kDeliveries(eventID)
	for range 5 {
		claimed := false
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			b, err := tx.HGet(ctx, key, destID).Bytes()
			if errors.Is(err, redis.Nil) {
				return nil
			}
			if err != nil {
				return err
			}
			d, err := decodeDelivery(destID, b)
			if err != nil {
				return err
			}
			if d.Status != StatusFailed {
				return nil
			}
			d.Status, d.UpdatedAt = StatusPending, s.now()
			nb := encodeDelivery(d)
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, key, destID, nb)
				p.PExpire(ctx, key, s.opts.EventRetention)
				return nil
			})
			claimed = err == nil
			return err
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue // another delivery of the event changed meanwhile
		}
		if err != nil {
			return false, fmt.Errorf("replay delivery %s/%s: %w", eventID, destID, err)
		}
		return claimed, nil
	}
	return false, fmt.Errorf("replay delivery %s/%s: too much contention", eventID, destID)
}

// indexFailed keeps a destination's index of failed deliveries (see
// FailedDeliveries) in step with a delivery's new status. The index lives in
// the destination's slot and the status in the event's, so this is a write
// of its own, made on the side that keeps a crash harmless: an entry is added
// before the status says failed (FailedDeliveries checks the status, so an
// early entry is skipped) and removed after it says delivered or cancelled
// (a late removal is skipped the same way). before tells which call this is.
// Pending and retrying leave the index as it is.
func (s *Store) indexFailed(ctx context.Context, eventID, destID, status string, before bool) error {
	k := s.kDestFailed(destID)
	switch {
	case status == StatusFailed && before:
		now := s.now()
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.ZAdd(ctx, k, redis.Z{Score: float64(now.UnixMilli()), Member: eventID})
			p.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(now.Add(-s.opts.EventRetention).UnixMilli(), 10))
			p.PExpire(ctx, k, s.opts.EventRetention)
			return nil
		})
		return err
	case (status == StatusDelivered || status == StatusCancelled) && !before:
		return s.rdb.ZRem(ctx, k, eventID).Err()
	}
	return nil
}

func (s *Store) deliveryState(ctx context.Context, eventID, destID string) (Delivery, error) {
	b, err := s.rdb.HGet(ctx, s.kDeliveries(eventID), destID).Bytes()
	if errors.Is(err, redis.Nil) {
		return Delivery{}, ErrNotFound
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("get delivery %s/%s: %w", eventID, destID, err)
	}
	return decodeDelivery(destID, b)
}

// Deliveries returns every delivery of an event with its attempts, ordered
// by destination id.
func (s *Store) Deliveries(ctx context.Context, eventID string) ([]Delivery, error) {
	m, err := s.rdb.HGetAll(ctx, s.kDeliveries(eventID)).Result()
	if err != nil {
		return nil, fmt.Errorf("get deliveries of %s: %w", eventID, err)
	}
	out := make([]Delivery, 0, len(m))
	for destID, v := range m {
		d, err := decodeDelivery(destID, []byte(v))
		if err != nil {
			return nil, err
		}
		raw, err := s.rdb.LRange(ctx, s.kAttempts(eventID, destID), 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("get attempts of %s/%s: %w", eventID, destID, err)
		}
		d.Attempts = make([]Attempt, 0, len(raw))
		for _, r := range raw {
			var a Attempt
			if err := json.Unmarshal([]byte(r), &a); err != nil {
				return nil, fmt.Errorf("decode attempt: %w", err)
			}
			d.Attempts = append(d.Attempts, a)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DestinationID < out[j].DestinationID })
	return out, nil
}

// Retention is the configured event retention.
func (s *Store) Retention() time.Duration { return s.opts.EventRetention }
