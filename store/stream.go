package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// DeliveryStates returns the deliveries of each event, without their
// attempts, in one round trip (two when an event is in the old form): what
// the console's live stream compares from one poll to the next.
func (s *Store) DeliveryStates(ctx context.Context, eventIDs []string) (map[string][]Delivery, error) {
	if len(eventIDs) == 0 {
		return map[string][]Delivery{}, nil
	}
	cmds := make([]*redis.StringCmd, len(eventIDs))
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range eventIDs {
			cmds[i] = p.Get(ctx, s.kEvent(id))
		}
		return nil
	})
	out := make(map[string][]Delivery, len(eventIDs))
	var legacy []string
	for i, id := range eventIDs {
		form, es, err := readEventKey(id, cmds[i])
		if err != nil {
			return nil, fmt.Errorf("delivery states: %w", err)
		}
		if form == formLegacy {
			legacy = append(legacy, id)
		}
		for destID, v := range es.deliveries {
			d, err := decodeDelivery(destID, v)
			if err != nil {
				return nil, fmt.Errorf("decode delivery of %s: %w", id, err)
			}
			out[id] = append(out[id], d)
		}
	}
	if len(legacy) == 0 {
		return out, nil
	}
	hashes := make([]*redis.MapStringStringCmd, len(legacy))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range legacy {
			hashes[i] = p.HGetAll(ctx, s.kDeliveries(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delivery states: %w", err)
	}
	for i, id := range legacy {
		for destID, v := range hashes[i].Val() {
			d, err := decodeDelivery(destID, []byte(v))
			if err != nil {
				return nil, fmt.Errorf("decode delivery of %s: %w", id, err)
			}
			out[id] = append(out[id], d)
		}
	}
	return out, nil
}
