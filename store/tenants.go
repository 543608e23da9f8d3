package store

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/redis/go-redis/v9"
)

// ErrLimit is a create refused because the tenant already has the most
// objects of that kind its quota allows.
var ErrLimit = errors.New("per-tenant limit reached")

// claimMember adds a member to a set unless the set already holds max
// members. A member already present is kept and counts as claimed (a retried
// create).
//
// KEYS[1] the set; ARGV[1] the member, ARGV[2] max. Returns 1 when claimed,
// 0 when the set is full.
var claimMember = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
`)

// claim takes one place of a per-tenant quota, atomically: one key, so it is
// also atomic on a cluster. max <= 0 means no limit.
func (s *Store) claim(ctx context.Context, set, member string, max int) error {
	if max <= 0 {
		return nil
	}
	n, err := claimMember.Run(ctx, s.rdb, []string{set}, member, max).Int()
	if err != nil {
		return fmt.Errorf("claim quota: %w", err)
	}
	if n == 0 {
		return ErrLimit
	}
	return nil
}

// release gives back a place claimed for an object that was then not saved.
// It runs on its own context: the request's may be the reason the save failed.
func (s *Store) release(set, member string) {
	_ = s.rdb.SRem(context.Background(), set, member).Err()
}

// tenantRecord is a Tenant as stored, with the hash of its one valid token.
type tenantRecord struct {
	Tenant
	TokenHash string `json:"token_hash,omitempty"`
	Epoch     int64  `json:"sign_in_epoch,omitempty"` // Tenant.SignInEpoch
}

// tenant is the record's Tenant with its sign-in epoch.
func (rec tenantRecord) tenant() Tenant {
	t := rec.Tenant
	t.SignInEpoch = rec.Epoch
	return t
}

// CreateTenant stores a new tenant and returns it with its API token. The
// token is shown once: only its hash is kept.
func (s *Store) CreateTenant(ctx context.Context, name string) (Tenant, string, error) {
	t := Tenant{ID: NewID("ten"), Name: name, CreatedAt: s.now()}
	token := NewID("hst")
	if err := s.setToken(ctx, tenantRecord{Tenant: t}, token); err != nil {
		return Tenant{}, "", fmt.Errorf("save tenant: %w", err)
	}
	return t, token, nil
}

// setToken writes the tenant with token as its one valid token (token ""
// revokes), drops the lookup of its previous token and adds it to the list
// of tenants.
func (s *Store) setToken(ctx context.Context, rec tenantRecord, token string) error {
	old := rec.TokenHash
	rec.TokenHash, rec.TokenRevoked = "", token == ""
	rec.Epoch++ // sessions and portal links of the previous token end here
	if token != "" {
		rec.TokenHash = hashToken(token)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode tenant: %w", err)
	}
	// Three slots, in an order that never lets a wrong token in: the new
	// token's lookup first (it works only once the record names its hash),
	// then the record (the old token stops working here), then the list of
	// tenants, and last the old lookup (harmless while it lingers).
	if token != "" {
		if err := s.rdb.Set(ctx, s.kTenantToken(rec.TokenHash), rec.ID, 0).Err(); err != nil {
			return err
		}
	}
	if err := s.rdb.Set(ctx, s.kTenant(rec.ID), b, 0).Err(); err != nil {
		return err
	}
	if err := s.rdb.SAdd(ctx, s.kTenants(), rec.ID).Err(); err != nil {
		return err
	}
	if old != "" {
		return s.rdb.Del(ctx, s.kTenantToken(old)).Err()
	}
	return nil
}

// TenantByToken returns the tenant a token belongs to. The lookup is by the
// token's SHA-256, and the tenant's record must name that same hash
// (compared in constant time): a token rotated out or revoked stops working
// at once, even while a stale lookup key is still there.
func (s *Store) TenantByToken(ctx context.Context, token string) (Tenant, error) {
	h := hashToken(token)
	id, err := s.rdb.Get(ctx, s.kTenantToken(h)).Result()
	if errors.Is(err, redis.Nil) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("look up token: %w", err)
	}
	var rec tenantRecord
	if err := s.getJSON(ctx, s.kTenant(id), &rec); err != nil {
		return Tenant{}, err
	}
	// Tenants stored before token rotation existed have no hash; their
	// lookup key alone is the proof, until the first rotation.
	if rec.TokenRevoked || (rec.TokenHash != "" && subtle.ConstantTimeCompare([]byte(rec.TokenHash), []byte(h)) != 1) {
		return Tenant{}, ErrNotFound
	}
	return rec.tenant(), nil
}

// RotateTenantToken gives the tenant a new token and returns it (shown
// once). The previous token stops working at once.
func (s *Store) RotateTenantToken(ctx context.Context, id string) (string, error) {
	var rec tenantRecord
	if err := s.getJSON(ctx, s.kTenant(id), &rec); err != nil {
		return "", err
	}
	token := NewID("hst")
	if err := s.setToken(ctx, rec, token); err != nil {
		return "", fmt.Errorf("rotate token of tenant %s: %w", id, err)
	}
	return token, nil
}

// RevokeTenantToken leaves the tenant without a working token until the
// operator rotates a new one. Its sources keep receiving and its
// destinations keep delivering: only the admin API is closed to it.
func (s *Store) RevokeTenantToken(ctx context.Context, id string) error {
	var rec tenantRecord
	if err := s.getJSON(ctx, s.kTenant(id), &rec); err != nil {
		return err
	}
	if err := s.setToken(ctx, rec, ""); err != nil {
		return fmt.Errorf("revoke token of tenant %s: %w", id, err)
	}
	return nil
}

// GetTenant loads a tenant.
func (s *Store) GetTenant(ctx context.Context, id string) (Tenant, error) {
	var rec tenantRecord
	if err := s.getJSON(ctx, s.kTenant(id), &rec); err != nil {
		return Tenant{}, err
	}
	return rec.tenant(), nil
}

// ListTenants returns every tenant created since tenants were listed (this
// version on), ordered by creation.
func (s *Store) ListTenants(ctx context.Context) ([]Tenant, error) {
	ids, err := s.rdb.SMembers(ctx, s.kTenants()).Result()
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out := make([]Tenant, 0, len(ids))
	for _, id := range ids {
		t, err := s.GetTenant(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
