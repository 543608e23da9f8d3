package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Census counts destinations by integration in the states an operator alerts
// on: disabled, and circuit open (deliveries waiting).
type Census struct {
	Disabled    map[string]int // by integration
	CircuitOpen map[string]int // by integration; disabled ones not counted
}

// DestinationCensus scans every destination (on every master of a cluster)
// with its health record. Its cost grows with the number of destinations, so
// callers cache it (the metrics read it at most every 30s by default).
func (s *Store) DestinationCensus(ctx context.Context) (Census, error) {
	var ids []string
	health := map[string]bool{}
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		prefix := s.destTagStart()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			id, suffix, found := strings.Cut(strings.TrimPrefix(iter.Val(), prefix), "}:")
			switch {
			case !found:
			case suffix == "dest":
				ids = append(ids, id)
			case suffix == "health":
				health[id] = true
			}
		}
		return iter.Err()
	}
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex // the per-master scans append to shared state
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return scan(ctx, c)
		})
	} else {
		err = scan(ctx, s.rdb)
	}
	if err != nil {
		return Census{}, fmt.Errorf("scan destinations: %w", err)
	}
	out := Census{Disabled: map[string]int{}, CircuitOpen: map[string]int{}}
	now := s.now()
	for start := 0; start < len(ids); start += 500 {
		batch := ids[start:min(len(ids), start+500)]
		recs := make([]*redis.StringCmd, len(batch))
		hs := make([]*redis.StringCmd, len(batch))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range batch {
				recs[i] = p.Get(ctx, s.kDest(id))
				if health[id] {
					hs[i] = p.Get(ctx, s.kHealth(id))
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return Census{}, fmt.Errorf("read destinations: %w", err)
		}
		for i := range batch {
			var rec destRecord
			if json.Unmarshal([]byte(recs[i].Val()), &rec) != nil {
				continue // deleted meanwhile
			}
			integ := rec.Integration
			if rec.Disabled {
				out.Disabled[integ]++
				continue
			}
			var h Health
			if hs[i] != nil && json.Unmarshal([]byte(hs[i].Val()), &h) == nil && h.Circuit(now) == "open" {
				out.CircuitOpen[integ]++
			}
		}
	}
	return out, nil
}
