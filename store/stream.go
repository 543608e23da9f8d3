package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// DeliveryStates returns the deliveries of each event, without their
// attempts, in one round trip: what the console's live stream compares from
// one poll to the next.
func (s *Store) DeliveryStates(ctx context.Context, eventIDs []string) (map[string][]Delivery, error) {
	if len(eventIDs) == 0 {
		return map[string][]Delivery{}, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(eventIDs))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range eventIDs {
			cmds[i] = p.HGetAll(ctx, s.kDeliveries(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delivery states: %w", err)
	}
	out := make(map[string][]Delivery, len(eventIDs))
	for i, id := range eventIDs {
		for destID, v := range cmds[i].Val() {
			d, err := decodeDelivery(destID, []byte(v))
			if err != nil {
				return nil, fmt.Errorf("decode delivery of %s: %w", id, err)
			}
			out[id] = append(out[id], d)
		}
	}
	return out, nil
}
