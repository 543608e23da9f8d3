package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultMaxLiveSecrets bounds the secrets a source holds at once: the
// current one and the rotated-out ones still inside their grace window. Every
// live secret costs a pass over each inbound body, so an unbounded count
// would let a tenant (or a leaked token) make each webhook arbitrarily
// expensive.
const DefaultMaxLiveSecrets = 3

// Rotation is one secret rotation: Secret becomes current, the current one
// stays valid for Grace, and at most MaxLive secrets may be live afterwards.
type Rotation struct {
	Secret  string
	Grace   time.Duration // default 24h
	MaxLive int           // default DefaultMaxLiveSecrets; at least 2
}

// SecretLimitError refuses a rotation that would leave more than Max live
// secrets. OldestExpiresAt is when the oldest rotated-out secret lapses, after
// which a rotation is accepted again.
type SecretLimitError struct {
	Live            int // live secrets now, the current one included
	Max             int
	OldestExpiresAt time.Time
}

func (e *SecretLimitError) Error() string {
	return fmt.Sprintf("the source has %d live secrets (the current one and %d rotated-out ones inside their grace window) and at most %d may be live, so a new one cannot be added; the oldest rotated-out secret expires at %s, rotate again after that",
		e.Live, e.Live-1, e.Max, e.OldestExpiresAt.UTC().Format(time.RFC3339))
}

// RotateSourceSecret makes r.Secret the current secret of a tenant's source,
// atomically (a concurrent rotation or save is retried, never lost). The
// current secret gets an expiry of now + r.Grace, expired secrets are pruned,
// and if more than r.MaxLive secrets would be live it changes nothing and
// returns a *SecretLimitError. It returns the source as saved, secrets opened.
func (s *Store) RotateSourceSecret(ctx context.Context, tenantID, id string, r Rotation) (Source, error) {
	if r.Grace <= 0 {
		r.Grace = 24 * time.Hour
	}
	if r.MaxLive <= 0 {
		r.MaxLive = DefaultMaxLiveSecrets
	}
	if r.MaxLive < 2 {
		return Source{}, fmt.Errorf("rotate secret: the live-secret limit is %d; it must be at least 2 (the new secret and the one it replaces)", r.MaxLive)
	}
	sealed, err := s.sealer.Seal([]byte(r.Secret))
	if err != nil {
		return Source{}, fmt.Errorf("rotate secret of %s: %w", id, err)
	}
	key := s.kSource(id)
	update := func(tx *redis.Tx) error {
		b, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("get %s: %w", key, err)
		}
		var rec sourceRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		if rec.TenantID != tenantID {
			return ErrNotFound
		}
		now := s.now()
		kept := []sealedSecret{{Sealed: sealed, CreatedAt: now}}
		var oldest time.Time
		for _, sec := range rec.SealedSecrets {
			switch {
			case sec.ExpiresAt.IsZero():
				sec.ExpiresAt = now.Add(r.Grace)
			case !now.Before(sec.ExpiresAt):
				continue // expired: pruned
			}
			if oldest.IsZero() || sec.ExpiresAt.Before(oldest) {
				oldest = sec.ExpiresAt
			}
			kept = append(kept, sec)
		}
		if len(kept) > r.MaxLive {
			return &SecretLimitError{Live: len(kept) - 1, Max: r.MaxLive, OldestExpiresAt: oldest}
		}
		rec.SealedSecrets, rec.UpdatedAt = kept, now
		out, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encode source: %w", err)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, out, 0)
			return nil
		})
		return err
	}
	for range 10 { // another writer changed it meanwhile: read again
		if err = s.rdb.Watch(ctx, update, key); !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	var limit *SecretLimitError
	if errors.Is(err, ErrNotFound) || errors.As(err, &limit) {
		return Source{}, err
	}
	if err != nil {
		return Source{}, fmt.Errorf("rotate secret of %s: %w", id, err)
	}
	return s.GetSource(ctx, tenantID, id)
}
