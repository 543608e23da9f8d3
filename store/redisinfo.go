package store

import (
	"bufio"
	"context"
	"fmt"
	"strings"
)

// RedisSettings are the Redis settings an acknowledged event's durability
// depends on, read from INFO (allowed on managed Redis services that refuse
// CONFIG).
type RedisSettings struct {
	AOF             bool   `json:"aof"`              // appendonly yes: a restart loses at most about a second of writes
	MaxmemoryPolicy string `json:"maxmemory_policy"` // noeviction: a full Redis refuses writes instead of dropping keys
}

// Warnings say in plain words what the settings put at risk, with the fix;
// none for a durable Redis.
func (r RedisSettings) Warnings() []string {
	var w []string
	if !r.AOF {
		w = append(w, "Redis has no AOF (appendonly no): events acknowledged since the last snapshot are lost if Redis restarts; set appendonly yes")
	}
	if r.MaxmemoryPolicy != "" && r.MaxmemoryPolicy != "noeviction" {
		w = append(w, fmt.Sprintf("Redis maxmemory-policy is %s: when memory is full Redis evicts keys, dropping queued events, dedupe markers and the event log; set maxmemory-policy noeviction", r.MaxmemoryPolicy))
	}
	return w
}

// RedisSettings reads the durability settings of the Redis the store uses.
func (s *Store) RedisSettings(ctx context.Context) (RedisSettings, error) {
	info, err := s.rdb.Info(ctx, "persistence", "memory").Result()
	if err != nil {
		return RedisSettings{}, fmt.Errorf("redis INFO: %w", err)
	}
	var r RedisSettings
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		switch k {
		case "aof_enabled":
			r.AOF = v == "1"
		case "maxmemory_policy":
			r.MaxmemoryPolicy = v
		}
	}
	return r, nil
}
