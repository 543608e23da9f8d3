package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// layoutVersion is the key layout this store reads and writes (keys.go).
const layoutVersion = "2"

// MigrateReport counts what a layout migration did.
type MigrateReport struct {
	Copied  int // keys written in the new layout
	Present int // keys already in the new layout (an earlier run), left as they are
	Deleted int // layout-1 keys removed (with deleteOld)
	// Unchanged counts keys whose name did not change (the tenant list,
	// token lookups, console links and sessions) copied from another Redis.
	Unchanged int
}

// MigrateLayout copies every key of layout 1 (before hash tags; keys.go)
// found on from into this store's Redis under its new name, with its value
// and remaining time to live (DUMP, then RESTORE without REPLACE), and then
// marks the store's Redis as on layout 2. It is idempotent: a key already
// in the new layout is kept as it is, so running it again, or from several
// processes at once, changes nothing. from may be the store's own Redis (an
// in-place upgrade) or the old Redis when moving to a cluster; from another
// Redis the keys whose name did not change are copied too. With deleteOld,
// each renamed old key is removed once its copy is in place.
//
// Writers of layout 1 must be stopped first: a change they make to a key
// after its copy is not carried over.
func (s *Store) MigrateLayout(ctx context.Context, from redis.UniversalClient, deleteOld bool) (MigrateReport, error) {
	var rep MigrateReport
	var mu sync.Mutex
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		for _, pattern := range s.layout1Patterns() {
			iter := c.Scan(ctx, 0, pattern, 500).Iterator()
			var batch []string
			for iter.Next(ctx) {
				batch = append(batch, iter.Val())
				if len(batch) == 200 {
					if err := s.migrateBatch(ctx, c, batch, deleteOld, &rep, &mu); err != nil {
						return err
					}
					batch = batch[:0]
				}
			}
			if err := iter.Err(); err != nil {
				return fmt.Errorf("scan %s: %w", pattern, err)
			}
			if err := s.migrateBatch(ctx, c, batch, deleteOld, &rep, &mu); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if cc, ok := from.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, from)
	}
	if err != nil {
		return rep, fmt.Errorf("migrate key layout: %w", err)
	}
	if err := s.rdb.Set(ctx, s.kLayout(), layoutVersion, 0).Err(); err != nil {
		return rep, fmt.Errorf("migrate key layout: mark done: %w", err)
	}
	return rep, nil
}

// migrateBatch copies one batch of layout-1 keys: DUMP and PTTL in one
// pipeline on the old side, RESTORE in one pipeline on the new.
func (s *Store) migrateBatch(ctx context.Context, from redis.Cmdable, keys []string, deleteOld bool, rep *MigrateReport, mu *sync.Mutex) error {
	type item struct {
		old, new string
		kept     bool
		dump     *redis.StringCmd
		ttl      *redis.DurationCmd
		restore  *redis.StatusCmd
	}
	var items []*item
	for _, k := range keys {
		if nk, ok := s.fromLayout1(k); ok {
			items = append(items, &item{old: k, new: nk})
		} else if s.keptName(k) {
			items = append(items, &item{old: k, new: k, kept: true})
		}
	}
	if len(items) == 0 {
		return nil
	}
	_, err := from.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, it := range items {
			it.dump = p.Dump(ctx, it.old)
			it.ttl = p.PTTL(ctx, it.old)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read old keys: %w", err)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, it := range items {
			data, err := it.dump.Result()
			ttl := it.ttl.Val()
			if err != nil || ttl == -2 {
				continue // expired or deleted since the scan
			}
			if ttl < 0 {
				ttl = 0 // no expiry
			}
			it.restore = p.Restore(ctx, it.new, ttl, data)
		}
		return nil
	})
	_ = err // each command's own error is read below
	var done []string
	mu.Lock()
	defer mu.Unlock()
	for _, it := range items {
		if it.restore == nil {
			continue
		}
		switch err := it.restore.Err(); {
		case it.kept && err == nil:
			rep.Unchanged++
			continue
		case it.kept && strings.HasPrefix(err.Error(), "BUSYKEY"):
			continue // the same Redis, or copied before
		case err == nil:
			rep.Copied++
		case strings.HasPrefix(err.Error(), "BUSYKEY"):
			rep.Present++
		default:
			return fmt.Errorf("copy %s to %s: %w", it.old, it.new, err)
		}
		done = append(done, it.old)
	}
	if deleteOld {
		for _, k := range done {
			if err := from.Unlink(ctx, k).Err(); err != nil {
				return fmt.Errorf("delete old key %s: %w", k, err)
			}
			rep.Deleted++
		}
	}
	return nil
}

// EnsureLayout migrates the store's own Redis from layout 1 unless it is
// marked as done (one GET when it is). serve calls it at start, so an
// upgraded deployment keeps its tenants, sources, destinations and queued
// events without a manual step. It reports what it did; a zero report and
// false mean nothing was needed.
func (s *Store) EnsureLayout(ctx context.Context) (MigrateReport, bool, error) {
	v, err := s.rdb.Get(ctx, s.kLayout()).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return MigrateReport{}, false, fmt.Errorf("read key layout version: %w", err)
	}
	if v == layoutVersion {
		return MigrateReport{}, false, nil
	}
	rep, err := s.MigrateLayout(ctx, s.rdb, false)
	return rep, true, err
}
