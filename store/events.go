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

// Seen reports whether an event id is recorded or inside its dedupe window:
// its event key exists (the receipt that recorded it is in it), or its
// dedupe marker does (written only when the window outlasts the retention,
// and by the old form). The receiver asks this before enqueueing; asynq's
// TaskID refuses duplicates while the task itself still exists.
func (s *Store) Seen(ctx context.Context, eventID string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.kEvent(eventID), s.kDedupe(eventID)).Result()
	if err != nil {
		return false, fmt.Errorf("check dedupe marker: %w", err)
	}
	return n > 0, nil
}

// QueueSeen queues Seen's check of eventID on p: the receiver's group
// commit sends it beside the enqueue (queue.IngestBatcher). The command's
// value is above 0 when the event is seen.
func (s *Store) QueueSeen(ctx context.Context, p redis.Pipeliner, eventID string) *redis.IntCmd {
	return p.Exists(ctx, s.kEvent(eventID), s.kDedupe(eventID))
}

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

// recordEvent runs the recordEventV2 script for ev and receipt (its result:
// 0, 1 or 2), with the commands also adds in the same round trip.
func (s *Store) recordEvent(ctx context.Context, ev Event, receipt string, also func(redis.Pipeliner)) (int, error) {
	stored, err := encodePayload(ev.Payload)
	if err != nil {
		return 0, fmt.Errorf("encode payload of %s: %w", ev.ID, err)
	}
	if err := checkStateField("receipt", receipt); err != nil {
		return 0, fmt.Errorf("record event %s: %w", ev.ID, err)
	}
	marker := "0"
	if s.opts.DedupeWindow > s.opts.EventRetention {
		marker = "1"
	}
	recKeys := []string{s.kEvent(ev.ID), s.kDedupe(ev.ID), s.kDeliveries(ev.ID)}
	recArgs := []any{receipt, s.opts.DedupeWindow.Milliseconds(), encodeEventV2(encodeEventRecord(ev, stored), receipt),
		s.opts.EventRetention.Milliseconds(), marker}
	var rec *redis.Cmd
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		rec = recordEventV2.EvalSha(ctx, p, recKeys, recArgs...)
		if also != nil {
			also(p)
		}
		return nil
	})
	if redis.HasErrorPrefix(rec.Err(), "NOSCRIPT") {
		rec = recordEventV2.Run(ctx, s.rdb, recKeys, recArgs...) // loads it
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
	for _, id := range destIDs {
		if err := checkStateField("destination id", id); err != nil {
			return nil, fmt.Errorf("init deliveries of %s: %w", eventID, err)
		}
	}
	keys, args := s.initDeliveriesArgs(eventID, destIDs)
	res, err := initDeliveriesV2.Run(ctx, s.rdb, keys, args...).StringSlice()
	if redis.HasErrorPrefix(err, "NOEVENT") {
		return nil, fmt.Errorf("init deliveries: %w", ErrEventNotFound)
	}
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
	pending := encodeDelivery(Delivery{Status: StatusPending, UpdatedAt: s.now()})
	args := make([]any, 0, 2+len(destIDs))
	args = append(args, s.opts.EventRetention.Milliseconds(), pending)
	for _, id := range destIDs {
		args = append(args, id)
	}
	return []string{s.kEvent(eventID), s.kDeliveries(eventID)}, args
}

// maxAttemptsKept bounds the attempt log of one delivery (replays add more);
// Options.MaxEventStateBytes may keep fewer.
const maxAttemptsKept = 50

// RecordAttempt appends an attempt to a delivery's log and sets the
// delivery's status, in one script on the event's slot (recordAttemptV2);
// nothing is written when the event is gone. The destination's index of
// failed deliveries is kept apart (see indexFailed).
func (s *Store) RecordAttempt(ctx context.Context, eventID, destID string, a Attempt, status string) error {
	return s.RecordAttemptReleasing(ctx, eventID, destID, a, status, "")
}

// RecordAttemptReleasing is RecordAttempt that also gives up the delivery's
// send lease held by token (ClaimDelivery), in the same step: a task that
// recorded its attempt needs no round trip of its own for the release.
func (s *Store) RecordAttemptReleasing(ctx context.Context, eventID, destID string, a Attempt, status, token string) error {
	if err := checkStateField("destination id", destID); err != nil {
		return fmt.Errorf("record attempt %s: %w", eventID, err)
	}
	ab, err := encodeAttempt(a)
	if err != nil {
		return fmt.Errorf("encode attempt: %w", err)
	}
	db := encodeDelivery(Delivery{Status: status, AttemptCount: a.Number, LastError: a.Error, UpdatedAt: s.now()})
	ret := s.opts.EventRetention
	if err := s.indexFailed(ctx, eventID, destID, status, true); err != nil {
		return fmt.Errorf("record attempt %s/%s: %w", eventID, destID, err)
	}
	keys := []string{s.kEvent(eventID), s.kDeliveries(eventID), s.kAttempts(eventID, destID), s.kSending(eventID, destID)}
	if err := recordAttemptV2.Run(ctx, s.rdb, keys, destID, ab, db, maxAttemptsKept, ret.Milliseconds(), s.opts.MaxEventStateBytes, token).Err(); err != nil {
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
	if err := checkStateField("destination id", destID); err != nil {
		return fmt.Errorf("set delivery status of %s: %w", eventID, err)
	}
	if err := s.indexFailed(ctx, eventID, destID, status, true); err != nil {
		return fmt.Errorf("set delivery status %s/%s: %w", eventID, destID, err)
	}
	_, err := s.changeDelivery(ctx, eventID, destID, func(cur Delivery) (Delivery, bool) {
		cur.Status, cur.UpdatedAt, cur.ReplayClaim = status, s.now(), ""
		return cur, true
	})
	if err != nil {
		return fmt.Errorf("set delivery status %s/%s: %w", eventID, destID, err)
	}
	if err := s.indexFailed(ctx, eventID, destID, status, false); err != nil {
		return fmt.Errorf("set delivery status %s/%s: %w", eventID, destID, err)
	}
	return nil
}

// ReplayFailed puts a failed delivery back to pending for the replay with
// this stamp and reports whether it did. It is a compare-and-set: of two
// replays racing for the same delivery, one gets true, so it is enqueued
// once. A delivery this same replay claimed and has not sent yet is claimed
// again (true): the replay's task run again after a crash between a claim
// and its enqueue finishes what it started. The claim lasts until the
// delivery's next attempt or status change.
func (s *Store) ReplayFailed(ctx context.Context, eventID, destID, stamp string) (bool, error) {
	if err := checkStateField("destination id", destID); err != nil {
		return false, fmt.Errorf("replay delivery of %s: %w", eventID, err)
	}
	claimed, err := s.changeDelivery(ctx, eventID, destID, func(cur Delivery) (Delivery, bool) {
		own := stamp != "" && cur.Status == StatusPending && cur.ReplayClaim == stamp
		if cur.Status != StatusFailed && !own {
			return cur, false
		}
		cur.Status, cur.UpdatedAt, cur.ReplayClaim = StatusPending, s.now(), stamp
		return cur, true
	})
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("replay delivery %s/%s: %w", eventID, destID, err)
	}
	return claimed, nil
}

// changeDelivery reads a delivery's record, lets change decide on a new one
// (cur is pending with no attempts when none is stored), and writes it if
// the record is still the one read; it reads again when another write came
// in between. It reports whether it wrote; ErrNotFound when the event is
// gone.
func (s *Store) changeDelivery(ctx context.Context, eventID, destID string, change func(cur Delivery) (Delivery, bool)) (bool, error) {
	for range 5 {
		raw, err := s.deliveryRecord(ctx, eventID, destID)
		if err != nil {
			return false, err
		}
		cur := Delivery{DestinationID: destID, Status: StatusPending}
		if raw != nil {
			if cur, err = decodeDelivery(destID, raw); err != nil {
				return false, err
			}
		}
		next, ok := change(cur)
		if !ok {
			return false, nil
		}
		keys := []string{s.kEvent(eventID), s.kDeliveries(eventID)}
		n, err := setDeliveryV2.Run(ctx, s.rdb, keys, destID, raw, encodeDelivery(next), s.opts.EventRetention.Milliseconds()).Int()
		switch {
		case err != nil:
			return false, err
		case n == 1:
			return true, nil
		case n < 0:
			return false, ErrEventNotFound
		}
	}
	return false, errors.New("too much contention")
}

// deliveryRecord is the stored record of a delivery, nil when there is none.
func (s *Store) deliveryRecord(ctx context.Context, eventID, destID string) ([]byte, error) {
	return s.deliveryRecordOf(ctx, eventID, destID, s.rdb.Get(ctx, s.kEvent(eventID)))
}

// deliveryRecordOf is deliveryRecord from the event key's GET, already
// made: an event in the old form costs one more read.
func (s *Store) deliveryRecordOf(ctx context.Context, eventID, destID string, get *redis.StringCmd) ([]byte, error) {
	form, es, err := readEventKey(eventID, get)
	switch {
	case err != nil:
		return nil, err
	case form == formGone:
		return nil, ErrEventNotFound
	case form == formV2:
		return es.deliveries[destID], nil
	}
	b, err := s.rdb.HGet(ctx, s.kDeliveries(eventID), destID).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get delivery %s/%s: %w", eventID, destID, err)
	}
	return b, nil
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

// Deliveries returns every delivery of an event with its attempts, ordered
// by destination id.
func (s *Store) Deliveries(ctx context.Context, eventID string) ([]Delivery, error) {
	form, es, err := readEventKey(eventID, s.rdb.Get(ctx, s.kEvent(eventID)))
	if err != nil {
		return nil, err
	}
	if form == formLegacy {
		return s.legacyDeliveries(ctx, eventID)
	}
	out := make([]Delivery, 0, len(es.deliveries))
	for destID, v := range es.deliveries {
		d, err := decodeDelivery(destID, v)
		if err != nil {
			return nil, err
		}
		if d.Attempts, err = decodeAttempts(es.attempts[destID]); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DestinationID < out[j].DestinationID })
	return out, nil
}

// legacyDeliveries is Deliveries for an event in the old form.
func (s *Store) legacyDeliveries(ctx context.Context, eventID string) ([]Delivery, error) {
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
		as := make([][]byte, len(raw))
		for i, r := range raw {
			as[i] = []byte(r)
		}
		if d.Attempts, err = decodeAttempts(as); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DestinationID < out[j].DestinationID })
	return out, nil
}

// decodeAttempts reads stored attempts.
func decodeAttempts(raw [][]byte) ([]Attempt, error) {
	out := make([]Attempt, 0, len(raw))
	for _, r := range raw {
		a, err := decodeAttempt(r)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Retention is the configured event retention.
func (s *Store) Retention() time.Duration { return s.opts.EventRetention }
