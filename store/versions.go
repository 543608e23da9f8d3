package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Transform versions. Every save of a destination whose script differs from
// its newest version adds a version, in the same transaction as the save, so
// the history cannot miss a change nor record one that was not saved. The
// history of a destination is one hash: "seq" (the last version number),
// "hash" (SHA-256 of the newest version's code) and "v:N" per version kept.

// DefaultTransformVersions is how many versions a destination keeps when
// Options.TransformVersions is 0.
const DefaultTransformVersions = 50

// kVersions is a destination's transform history (see above).
func (s *Store) kVersions(destID string) string {
	return s.opts.Prefix + "dest:" + destID + ":versions"
}

// TransformVersion is one saved state of a destination's script.
type TransformVersion struct {
	Version   int       `json:"version"`
	Code      string    `json:"code"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
}

// recordVersion adds a version unless the code is that of the newest one
// (or force is set, for a rollback), and drops versions beyond the kept count.
//
// KEYS[1] the history hash. ARGV[1] SHA-256 of the code, ARGV[2] the version
// as a JSON object without "version", ARGV[3] versions kept, ARGV[4] "1" to
// record an unchanged code. Returns the new version number, or 0.
var recordVersion = redis.NewScript(`
if ARGV[4] ~= '1' and redis.call('HGET', KEYS[1], 'hash') == ARGV[1] then return 0 end
local v = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'v:' .. v, '{"version":' .. v .. ',' .. string.sub(ARGV[2], 2))
for old = v - tonumber(ARGV[3]), 1, -1 do
  if redis.call('HDEL', KEYS[1], 'v:' .. old) == 0 then break end
end
return v
`)

// queueVersion adds recordVersion to a save's transaction. A destination
// without a transform has no version to record.
func (s *Store) queueVersion(ctx context.Context, p redis.Pipeliner, destID string, t *Transform, force bool) *redis.Cmd {
	if t == nil {
		return nil
	}
	sum := sha256.Sum256([]byte(t.Code))
	at := t.UpdatedAt
	if at.IsZero() {
		at = s.now()
	}
	b, _ := json.Marshal(struct {
		Code      string    `json:"code"`
		Enabled   bool      `json:"enabled"`
		CreatedAt time.Time `json:"created_at"`
	}{t.Code, t.Enabled, at.UTC()})
	f := "0"
	if force {
		f = "1"
	}
	return recordVersion.Eval(ctx, p, []string{s.kVersions(destID)}, hex.EncodeToString(sum[:]), b, s.keptVersions(), f)
}

// unversionedTransform returns the stored transform of a destination that
// has one but no history yet (saved before versions existed), so that its
// code becomes the first version before a change replaces it. It returns
// nil for a new destination or one with a history.
func (s *Store) unversionedTransform(ctx context.Context, d Destination) (*Transform, error) {
	if d.Transform == nil {
		return nil, nil
	}
	n, err := s.rdb.Exists(ctx, s.kVersions(d.ID)).Result()
	if err != nil {
		return nil, fmt.Errorf("transform history of %s: %w", d.ID, err)
	}
	if n > 0 {
		return nil, nil
	}
	var rec destRecord
	if err := s.getJSON(ctx, s.kDest(d.ID), &rec); errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return rec.Transform, nil
}

func (s *Store) keptVersions() int {
	if s.opts.TransformVersions > 0 {
		return s.opts.TransformVersions
	}
	return DefaultTransformVersions
}

// TransformVersions returns a destination's kept versions, newest first.
func (s *Store) TransformVersions(ctx context.Context, tenantID, destID string) ([]TransformVersion, error) {
	if _, err := s.GetDestination(ctx, tenantID, destID); err != nil {
		return nil, err
	}
	m, err := s.rdb.HGetAll(ctx, s.kVersions(destID)).Result()
	if err != nil {
		return nil, fmt.Errorf("transform versions of %s: %w", destID, err)
	}
	out := make([]TransformVersion, 0, len(m))
	for k, v := range m {
		if !strings.HasPrefix(k, "v:") {
			continue
		}
		var tv TransformVersion
		if err := json.Unmarshal([]byte(v), &tv); err != nil {
			return nil, fmt.Errorf("decode transform version %s of %s: %w", k, destID, err)
		}
		out = append(out, tv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version > out[j].Version })
	return out, nil
}

// ErrVersionNotFound is returned for a transform version that does not exist
// (never made, or dropped beyond the kept count).
var ErrVersionNotFound = errors.New("transform version not found")

// RollbackTransform makes a new version of a destination's script with the
// code of an earlier version, and saves the destination with it. The
// destination's enabled flag stays as it is. It returns the saved
// destination and the new version's number.
func (s *Store) RollbackTransform(ctx context.Context, tenantID, destID string, version int) (Destination, int, error) {
	d, err := s.GetDestination(ctx, tenantID, destID)
	if err != nil {
		return Destination{}, 0, err
	}
	raw, err := s.rdb.HGet(ctx, s.kVersions(destID), "v:"+strconv.Itoa(version)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Destination{}, 0, ErrVersionNotFound
	}
	if err != nil {
		return Destination{}, 0, fmt.Errorf("load transform version %d of %s: %w", version, destID, err)
	}
	var tv TransformVersion
	if err := json.Unmarshal(raw, &tv); err != nil {
		return Destination{}, 0, fmt.Errorf("decode transform version %d of %s: %w", version, destID, err)
	}
	now := s.now()
	if d.Transform == nil {
		d.Transform = &Transform{Enabled: tv.Enabled}
	}
	d.Transform.Code, d.Transform.UpdatedAt = tv.Code, now
	d.UpdatedAt = now
	cmd, err := s.saveDestination(ctx, d, true)
	if err != nil {
		return Destination{}, 0, err
	}
	n, err := cmd.Int()
	if err != nil {
		return Destination{}, 0, fmt.Errorf("record transform version of %s: %w", destID, err)
	}
	return d, n, nil
}
