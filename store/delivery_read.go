package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrEventNotFound and ErrDestinationNotFound tell ClaimDelivery's callers
// which half of a delivery is gone; both are ErrNotFound.
var (
	ErrEventNotFound       = fmt.Errorf("event %w", ErrNotFound)
	ErrDestinationNotFound = fmt.Errorf("destination %w", ErrNotFound)
)

// DeliveryInputs is everything one delivery attempt reads before it sends.
type DeliveryInputs struct {
	Event       Event
	Destination Destination
	Delivery    Delivery // state before this attempt; pending with no attempts when none is stored
	Health      Health   // the destination's health; zero when healthy
}

// ClaimDelivery takes the delivery's send lease for token (unique to this
// run; it lasts until the attempt's record or ReleaseDelivery gives it up,
// or ttl) and reads the event with the delivery's state, the destination
// and the destination's health, all in one pipelined round trip (two slots:
// a cluster client splits the pipeline by node). claimed is false when
// another run holds the lease: asynq may run two tasks of one delivery at
// once (a replay and a retry, a dead letter re-run and a replay), and the
// state alone, read by both before either records its attempt, would let
// both send. Every value is read afresh, so a change to the destination is
// seen by the next attempt; only the decoding of an unchanged destination
// record is reused (destCache).
func (s *Store) ClaimDelivery(ctx context.Context, eventID, destID, token string, ttl time.Duration) (in DeliveryInputs, claimed bool, err error) {
	var set *redis.BoolCmd
	var ev, dest, health *redis.StringCmd
	// The error of the pipeline is the first command's; each is looked at
	// on its own below.
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.SetNX(ctx, s.kSending(eventID, destID), token, ttl)
		ev = p.Get(ctx, s.kEvent(eventID))
		dest = p.Get(ctx, s.kDest(destID))
		health = p.Get(ctx, s.kHealth(destID))
		return nil
	})
	in, err = s.deliveryInputs(ctx, eventID, destID, ev, dest, health)
	if serr := set.Err(); serr != nil {
		if err == nil {
			err = fmt.Errorf("claim delivery %s/%s: %w", eventID, destID, serr)
		}
		return in, false, err
	}
	return in, set.Val(), err
}

// releaseSending drops a send lease if token still holds it.
var releaseSending = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// ReleaseDelivery gives up the send lease ClaimDelivery took with token,
// when the run records no attempt (RecordAttemptReleasing gives it up
// otherwise).
func (s *Store) ReleaseDelivery(ctx context.Context, eventID, destID, token string) error {
	if err := releaseSending.Run(ctx, s.rdb, []string{s.kSending(eventID, destID)}, token).Err(); err != nil {
		return fmt.Errorf("release delivery %s/%s: %w", eventID, destID, err)
	}
	return nil
}

// deliveryInputs decodes ClaimDelivery's reads.
func (s *Store) deliveryInputs(ctx context.Context, eventID, destID string, ev, dest, health *redis.StringCmd) (DeliveryInputs, error) {
	var in DeliveryInputs
	raw, err := ev.Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return in, ErrEventNotFound
	case isWrongType(err):
		in.Event, err = s.getEventHash(ctx, eventID)
	case err == nil:
		in.Event, err = decodeEventRecord(eventID, raw)
	default:
		err = fmt.Errorf("load delivery %s/%s: %w", eventID, destID, err)
	}
	if errors.Is(err, ErrNotFound) {
		return in, ErrEventNotFound
	}
	if err != nil {
		return in, err
	}
	for _, c := range []*redis.StringCmd{dest, health} {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return in, fmt.Errorf("load delivery %s/%s: %w", eventID, destID, err)
		}
	}
	rawDest, err := dest.Result()
	if errors.Is(err, redis.Nil) {
		return in, ErrDestinationNotFound
	}
	if in.Destination, err = s.openDestRaw(destID, rawDest); err != nil {
		return in, err
	}
	in.Delivery = Delivery{DestinationID: destID, Status: StatusPending}
	rec, err := s.deliveryRecordOf(ctx, eventID, destID, ev)
	if err != nil {
		return in, err
	}
	if rec != nil {
		if in.Delivery, err = decodeDelivery(destID, rec); err != nil {
			return in, err
		}
	}
	if b, err := health.Bytes(); err == nil {
		if err := json.Unmarshal(b, &in.Health); err != nil {
			return in, fmt.Errorf("decode health of %s: %w", destID, err)
		}
	}
	return in, nil
}

// destCacheMax bounds the decoded destinations a Store keeps; past it the
// cache starts again empty (a worker serving more destinations than this
// decodes some twice, nothing worse).
const destCacheMax = 10_000

// destCache keeps the decoded form of each destination record keyed by the
// record's exact stored bytes. A worker reads the record on every delivery
// anyway (one GET inside a pipeline it makes regardless); what it saves is
// the AES-GCM open and two JSON decodes when the bytes have not changed. Any
// save changes the bytes (updated_at, the sealed nonce), so nothing stale is
// ever returned.
type destCache struct {
	mu sync.Mutex
	m  map[string]cachedDest
}

type cachedDest struct {
	raw  string
	dest Destination
}

// openDestRaw decodes the stored destination record of id, reusing the last
// decoding of the same bytes. The maps are copied, so a caller may change
// its copy.
func (s *Store) openDestRaw(id, raw string) (Destination, error) {
	c := &s.dests
	c.mu.Lock()
	hit, ok := c.m[id]
	c.mu.Unlock()
	if ok && hit.raw == raw {
		return cloneDest(hit.dest), nil
	}
	var rec destRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return Destination{}, fmt.Errorf("decode destination %s: %w", id, err)
	}
	d, err := s.openDest(rec)
	if err != nil {
		return Destination{}, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= destCacheMax {
		c.m = make(map[string]cachedDest)
	}
	c.m[id] = cachedDest{raw: raw, dest: d}
	c.mu.Unlock()
	return cloneDest(d), nil
}

func cloneDest(d Destination) Destination {
	d.Config, d.Headers, d.Env = maps.Clone(d.Config), maps.Clone(d.Headers), maps.Clone(d.Env)
	if d.Transform != nil {
		t := *d.Transform
		d.Transform = &t
	}
	return d
}
