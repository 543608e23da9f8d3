package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"
)

// sourceRecord is a Source as stored: secrets sealed.
type sourceRecord struct {
	Source
	SealedSecrets []sealedSecret `json:"sealed_secrets"`
}

type sealedSecret struct {
	Sealed    string    `json:"sealed"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// SaveSource creates or replaces a source. Secrets are sealed before writing.
// The tenant's list of sources is written first, then the source.
func (s *Store) SaveSource(ctx context.Context, src Source) error {
	rec := sourceRecord{Source: src}
	rec.Source.Secrets = nil
	for _, sec := range src.Secrets {
		sealed, err := s.sealer.Seal([]byte(sec.Value))
		if err != nil {
			return err
		}
		rec.SealedSecrets = append(rec.SealedSecrets, sealedSecret{Sealed: sealed, CreatedAt: sec.CreatedAt, ExpiresAt: sec.ExpiresAt})
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode source: %w", err)
	}
	// Two slots, in this order: a listed id whose source is not written yet
	// is skipped by ListSources, and a retried save writes both again.
	if err := s.rdb.SAdd(ctx, s.kTenantSources(src.TenantID), src.ID).Err(); err != nil {
		return fmt.Errorf("save source %s: %w", src.ID, err)
	}
	if err := s.rdb.Set(ctx, s.kSource(src.ID), b, 0).Err(); err != nil {
		return fmt.Errorf("save source %s: %w", src.ID, err)
	}
	return nil
}

// CreateSource saves a new source unless its tenant already has max
// sources (ErrLimit). The count is claimed atomically first, so two
// concurrent creates at the limit cannot both pass.
func (s *Store) CreateSource(ctx context.Context, src Source, max int) error {
	if err := s.claim(ctx, s.kTenantSources(src.TenantID), src.ID, max); err != nil {
		return err
	}
	if err := s.SaveSource(ctx, src); err != nil {
		s.release(s.kTenantSources(src.TenantID), src.ID)
		return err
	}
	return nil
}

// GetSource loads a source with its secrets opened. tenantID "" skips the
// ownership check (the receiver knows only the source id).
func (s *Store) GetSource(ctx context.Context, tenantID, id string) (Source, error) {
	var rec sourceRecord
	if err := s.getJSON(ctx, s.kSource(id), &rec); err != nil {
		return Source{}, err
	}
	if tenantID != "" && rec.TenantID != tenantID {
		return Source{}, ErrNotFound
	}
	src := rec.Source
	src.Secrets = make([]Secret, 0, len(rec.SealedSecrets))
	for _, ss := range rec.SealedSecrets {
		pt, err := s.sealer.Open(ss.Sealed)
		if err != nil {
			return Source{}, fmt.Errorf("source %s secret: %w", id, err)
		}
		src.Secrets = append(src.Secrets, Secret{Value: string(pt), CreatedAt: ss.CreatedAt, ExpiresAt: ss.ExpiresAt})
	}
	return src, nil
}

// ListSources returns a tenant's sources, ordered by creation.
func (s *Store) ListSources(ctx context.Context, tenantID string) ([]Source, error) {
	ids, err := s.rdb.SMembers(ctx, s.kTenantSources(tenantID)).Result()
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	out := make([]Source, 0, len(ids))
	for _, id := range ids {
		src, err := s.GetSource(ctx, tenantID, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// DeleteSource removes a source and its destinations.
func (s *Store) DeleteSource(ctx context.Context, tenantID, id string) error {
	src, err := s.GetSource(ctx, tenantID, id)
	if err != nil {
		return err
	}
	destIDs, err := s.rdb.SMembers(ctx, s.kSourceDests(id)).Result()
	if err != nil {
		return fmt.Errorf("delete source: %w", err)
	}
	// Records first (every reader skips a listed id whose record is gone),
	// the source last among them, so that a delete cut short is finished by
	// running it again; then the tenant's lists, which hold its quota.
	for _, d := range destIDs {
		if err := s.rdb.Del(ctx, s.destKeys(d)...).Err(); err != nil {
			return fmt.Errorf("delete source %s: destination %s: %w", id, d, err)
		}
	}
	if err := s.rdb.Del(ctx, s.kSource(id), s.kSourceDests(id)).Err(); err != nil {
		return fmt.Errorf("delete source %s: %w", id, err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if len(destIDs) > 0 {
			p.SRem(ctx, s.kTenantDests(src.TenantID), toAny(destIDs)...)
		}
		p.SRem(ctx, s.kTenantSources(src.TenantID), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete source %s: %w", id, err)
	}
	return nil
}

// destRecord is a Destination as stored: credentials, headers and env sealed.
type destRecord struct {
	Destination
	Sealed string `json:"sealed"`
}

type destSecrets struct {
	URL     string            `json:"url,omitempty"`
	Config  map[string]string `json:"config,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// SaveDestination creates or replaces a destination. A changed script
// becomes a new transform version in the same transaction (versions.go).
func (s *Store) SaveDestination(ctx context.Context, d Destination) error {
	_, err := s.saveDestination(ctx, d, false)
	return err
}

// saveDestination saves d and returns recordVersion's result (nil without a
// transform); forceVersion records a version even for unchanged code.
func (s *Store) saveDestination(ctx context.Context, d Destination, forceVersion bool) (*redis.Cmd, error) {
	plain, err := json.Marshal(destSecrets{URL: d.URL, Config: d.Config, Headers: d.Headers, Env: d.Env})
	if err != nil {
		return nil, fmt.Errorf("encode destination secrets: %w", err)
	}
	sealed, err := s.sealer.Seal(plain)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(destRecord{Destination: d, Sealed: sealed})
	if err != nil {
		return nil, fmt.Errorf("encode destination: %w", err)
	}
	prev, err := s.unversionedTransform(ctx, d)
	if err != nil {
		return nil, err
	}
	// The tenant's and the source's lists first (each its own slot; a listed
	// id without a record is skipped by every reader), then the record with
	// its transform version, atomically on the destination's slot.
	if err := s.rdb.SAdd(ctx, s.kTenantDests(d.TenantID), d.ID).Err(); err != nil {
		return nil, fmt.Errorf("save destination %s: %w", d.ID, err)
	}
	if err := s.rdb.SAdd(ctx, s.kSourceDests(d.SourceID), d.ID).Err(); err != nil {
		return nil, fmt.Errorf("save destination %s: %w", d.ID, err)
	}
	var version *redis.Cmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.kDest(d.ID), b, 0)
		s.queueVersion(ctx, p, d.ID, prev, false)
		version = s.queueVersion(ctx, p, d.ID, d.Transform, forceVersion)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("save destination %s: %w", d.ID, err)
	}
	return version, nil
}

// CreateDestination saves a new destination unless its tenant already has
// max destinations (ErrLimit), claimed atomically as CreateSource does.
func (s *Store) CreateDestination(ctx context.Context, d Destination, max int) error {
	if err := s.claim(ctx, s.kTenantDests(d.TenantID), d.ID, max); err != nil {
		return err
	}
	if err := s.SaveDestination(ctx, d); err != nil {
		s.release(s.kTenantDests(d.TenantID), d.ID)
		return err
	}
	return nil
}

// GetDestination loads a destination with its secrets opened. tenantID ""
// skips the ownership check (workers act for every tenant).
func (s *Store) GetDestination(ctx context.Context, tenantID, id string) (Destination, error) {
	raw, err := s.rdb.Get(ctx, s.kDest(id)).Result()
	if errors.Is(err, redis.Nil) {
		return Destination{}, ErrNotFound
	}
	if err != nil {
		return Destination{}, fmt.Errorf("get destination %s: %w", id, err)
	}
	d, err := s.openDestRaw(id, raw)
	if err != nil {
		return Destination{}, err
	}
	if tenantID != "" && d.TenantID != tenantID {
		return Destination{}, ErrNotFound
	}
	return d, nil
}

func (s *Store) openDest(rec destRecord) (Destination, error) {
	d := rec.Destination
	pt, err := s.sealer.Open(rec.Sealed)
	if err != nil {
		return Destination{}, fmt.Errorf("destination %s: %w", d.ID, err)
	}
	var sec destSecrets
	if err := json.Unmarshal(pt, &sec); err != nil {
		return Destination{}, fmt.Errorf("destination %s secrets: %w", d.ID, err)
	}
	d.URL, d.Config, d.Headers, d.Env = sec.URL, sec.Config, sec.Headers, sec.Env
	return d, nil
}

// ListDestinations returns a tenant's destinations, or a source's when
// sourceID is set, ordered by creation.
func (s *Store) ListDestinations(ctx context.Context, tenantID, sourceID string) ([]Destination, error) {
	key := s.kTenantDests(tenantID)
	if sourceID != "" {
		key = s.kSourceDests(sourceID)
	}
	ids, err := s.rdb.SMembers(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	return s.loadDests(ctx, tenantID, ids)
}

func (s *Store) loadDests(ctx context.Context, tenantID string, ids []string) ([]Destination, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var cmds []*redis.StringCmd
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmds = s.queueDestGets(ctx, p, ids)
		return nil
	})
	return s.openDests(tenantID, ids, cmds)
}

// queueDestGets queues one GET per destination on p: destinations live in
// slots of their own, and a cluster client splits a pipeline by node (MGET
// would be refused).
func (s *Store) queueDestGets(ctx context.Context, p redis.Pipeliner, ids []string) []*redis.StringCmd {
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = p.Get(ctx, s.kDest(id))
	}
	return cmds
}

// openDests decodes the destinations queueDestGets read, skipping one
// deleted meanwhile or of another tenant, ordered by creation.
func (s *Store) openDests(tenantID string, ids []string, cmds []*redis.StringCmd) ([]Destination, error) {
	out := make([]Destination, 0, len(cmds))
	for i, c := range cmds {
		str, err := c.Result()
		if errors.Is(err, redis.Nil) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("load destinations: %w", err)
		}
		d, err := s.openDestRaw(ids[i], str)
		if err != nil {
			return nil, err
		}
		if tenantID != "" && d.TenantID != tenantID {
			continue
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// DeleteDestination removes a destination.
func (s *Store) DeleteDestination(ctx context.Context, tenantID, id string) error {
	d, err := s.GetDestination(ctx, tenantID, id)
	if err != nil {
		return err
	}
	// The record first (readers skip a listed id without one), then the
	// source's list, then the tenant's, which holds the quota: three slots.
	if err := s.rdb.Del(ctx, s.destKeys(id)...).Err(); err != nil {
		return fmt.Errorf("delete destination %s: %w", id, err)
	}
	if err := s.rdb.SRem(ctx, s.kSourceDests(d.SourceID), id).Err(); err != nil {
		return fmt.Errorf("delete destination %s: %w", id, err)
	}
	if err := s.rdb.SRem(ctx, s.kTenantDests(d.TenantID), id).Err(); err != nil {
		return fmt.Errorf("delete destination %s: %w", id, err)
	}
	return nil
}

func (s *Store) getJSON(ctx context.Context, key string, v any) error {
	b, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// destKeys are the keys a deleted destination leaves behind, all in its slot.
func (s *Store) destKeys(id string) []string {
	return []string{s.kDest(id), s.kRate(id), s.kHealth(id), s.kProbe(id), s.kVersions(id)}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, v := range ss {
		out[i] = v
	}
	return out
}
