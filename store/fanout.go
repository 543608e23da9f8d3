package store

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"
)

// The fan-out's reads and writes, folded into two round trips for a new
// event: the record, the source's destination ids and the destinations
// themselves in the first (RecordEventForFanOut), then the index write,
// the delivery records and the enqueue in the second (QueueIndexEvent,
// QueueInitDeliveries, and queue's enqueue).

// FanOutRecord is what RecordEventForFanOut did.
type FanOutRecord struct {
	// Fresh: this receipt holds the event (its first run, or a retry of
	// it); false for a duplicate, which the fan-out drops.
	Fresh bool
	// First: recorded for the first time, and no delivery record of the
	// event exists: the fan-out may create them beside its enqueue
	// (QueueInitDeliveries) instead of reading them first.
	First bool
	// Dests are the source's destinations (nil unless Fresh).
	Dests []Destination
}

// RecordEventForFanOut records ev for receipt (RecordEvent without the
// index write: the fan-out sends it with its own writes, QueueIndexEvent)
// and returns the source's destinations, in one round trip when the
// source's destination ids are the ones it saw last: the ids are read
// beside the record, and so are the destinations of the ids seen last
// time; only when the ids have changed are the destinations read again.
func (s *Store) RecordEventForFanOut(ctx context.Context, ev Event, receipt string) (FanOutRecord, error) {
	known := s.srcDests.get(ev.SourceID)
	var ids *redis.StringSliceCmd
	var gets []*redis.StringCmd
	n, err := s.recordEvent(ctx, ev, receipt, func(p redis.Pipeliner) {
		ids = p.SMembers(ctx, s.kSourceDests(ev.SourceID))
		gets = s.queueDestGets(ctx, p, known)
	})
	if err != nil || n == 0 {
		return FanOutRecord{}, err
	}
	destIDs, err := ids.Result()
	if err != nil {
		return FanOutRecord{}, fmt.Errorf("list destinations of %s: %w", ev.SourceID, err)
	}
	slices.Sort(destIDs)
	if !slices.Equal(destIDs, known) {
		s.srcDests.put(ev.SourceID, destIDs)
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			gets = s.queueDestGets(ctx, p, destIDs)
			return nil
		})
		known = destIDs
	}
	dests, err := s.openDests(ev.TenantID, known, gets)
	if err != nil {
		return FanOutRecord{}, err
	}
	return FanOutRecord{Fresh: true, First: n == 2, Dests: dests}, nil
}

// destIDCache holds each source's destination ids as the fan-out last read
// them (sorted), so that it can read the destinations in the round trip
// that reads the ids again to check them. It is a hint, never trusted:
// ids that differ from what Redis answers cost one more round trip.
type destIDCache struct {
	mu sync.Mutex
	m  map[string][]string
}

// maxDestIDSources bounds the cache; past it, it starts again empty.
const maxDestIDSources = 10000

func (c *destIDCache) get(sourceID string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[sourceID] // never modified: put stores a new slice
}

func (c *destIDCache) put(sourceID string, ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxDestIDSources {
		c.m = make(map[string][]string)
	}
	c.m[sourceID] = ids
}

// QueueInitDeliveries queues InitDeliveries' script on p, for an event
// whose delivery records cannot exist yet (FanOutRecord.First): the
// fan-out sends it in the round trip of its enqueue. Call the returned
// func once p has run: it reports the script's error, after loading the
// script and running it again if Redis had lost it.
func (s *Store) QueueInitDeliveries(ctx context.Context, p redis.Pipeliner, eventID string, destIDs []string) func() error {
	for _, id := range destIDs {
		if err := checkStateField("destination id", id); err != nil {
			return func() error { return fmt.Errorf("init deliveries of %s: %w", eventID, err) }
		}
	}
	keys, args := s.initDeliveriesArgs(eventID, destIDs)
	cmd := initDeliveriesV2.EvalSha(ctx, p, keys, args...)
	return func() error {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			cmd = initDeliveriesV2.Run(ctx, s.rdb, keys, args...) // loads it
		}
		if err := cmd.Err(); err != nil {
			return fmt.Errorf("init deliveries of %s: %w", eventID, err)
		}
		return nil
	}
}
