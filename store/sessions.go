package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Console sign-in: portal links and sessions. Both are random secrets held
// by a browser; Redis keeps only their SHA-256, under a TTL, so a dump of
// Redis signs nobody in and an expired one vanishes by itself.

// newSecret returns 32 random bytes, base64url without padding.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS has no entropy: nothing is safe to do
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreatePortalLink stores a single-use sign-in link for a tenant, valid for
// ttl, and returns the link's secret and when it expires. The link
// remembers the tenant's sign-in epoch (Tenant.SignInEpoch).
func (s *Store) CreatePortalLink(ctx context.Context, t Tenant, ttl time.Duration) (string, time.Time, error) {
	link := newSecret()
	v := t.ID + " " + strconv.FormatInt(t.SignInEpoch, 10)
	if err := s.rdb.Set(ctx, s.kPortalLink(hashToken(link)), v, ttl).Err(); err != nil {
		return "", time.Time{}, fmt.Errorf("save portal link: %w", err)
	}
	return link, s.now().Add(ttl), nil
}

// ClaimPortalLink takes a link and returns the tenant it signs in. GETDEL
// makes the claim atomic: of two browsers racing with one link, one gets the
// tenant and the other ErrNotFound, as does any use after expiry, and a link
// made before the tenant's token last changed (rotated or revoked).
func (s *Store) ClaimPortalLink(ctx context.Context, link string) (Tenant, error) {
	v, err := s.rdb.GetDel(ctx, s.kPortalLink(hashToken(link))).Result()
	if errors.Is(err, redis.Nil) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("claim portal link: %w", err)
	}
	id, epochText, _ := strings.Cut(v, " ") // a link stored before epochs holds the id alone: epoch 0
	epoch, _ := strconv.ParseInt(epochText, 10, 64)
	t, err := s.GetTenant(ctx, id)
	if err != nil {
		return Tenant{}, err
	}
	if t.SignInEpoch != epoch {
		return Tenant{}, ErrNotFound
	}
	return t, nil
}

// Session is a signed-in console browser. CSRFToken is what the browser's
// script must echo on every change; the cookie alone does not suffice.
type Session struct {
	TenantID  string    `json:"tenant_id"`
	Epoch     int64     `json:"epoch,omitempty"` // the tenant's SignInEpoch when it began
	CSRFToken string    `json:"csrf_token"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateSession starts a session for a tenant, lasting ttl, and returns the
// session's secret (the cookie value) with the session. The session
// remembers the tenant's sign-in epoch (SessionTenant checks it).
func (s *Store) CreateSession(ctx context.Context, t Tenant, ttl time.Duration) (string, Session, error) {
	now := s.now()
	sess := Session{TenantID: t.ID, Epoch: t.SignInEpoch, CSRFToken: newSecret(), CreatedAt: now, ExpiresAt: now.Add(ttl)}
	b, err := json.Marshal(sess)
	if err != nil {
		return "", Session{}, fmt.Errorf("encode session: %w", err)
	}
	token := newSecret()
	if err := s.rdb.Set(ctx, s.kSession(hashToken(token)), b, ttl).Err(); err != nil {
		return "", Session{}, fmt.Errorf("save session: %w", err)
	}
	return token, sess, nil
}

// GetSession returns the live session of a cookie value, or ErrNotFound when
// it expired, was revoked or never existed.
func (s *Store) GetSession(ctx context.Context, token string) (Session, error) {
	var sess Session
	if err := s.getJSON(ctx, s.kSession(hashToken(token)), &sess); err != nil {
		return Session{}, err
	}
	if !s.now().Before(sess.ExpiresAt) { // Redis' TTL is the bound; this covers a moved clock
		return Session{}, ErrNotFound
	}
	return sess, nil
}

// SessionTenant returns the live session of a cookie value with its tenant,
// or ErrNotFound when the session expired, was revoked or never existed, or
// began before the tenant's token last changed (rotated or revoked).
func (s *Store) SessionTenant(ctx context.Context, token string) (Session, Tenant, error) {
	sess, err := s.GetSession(ctx, token)
	if err != nil {
		return Session{}, Tenant{}, err
	}
	t, err := s.GetTenant(ctx, sess.TenantID)
	if err != nil {
		return Session{}, Tenant{}, err
	}
	if t.SignInEpoch != sess.Epoch {
		return Session{}, Tenant{}, ErrNotFound
	}
	return sess, t, nil
}

// DeleteSession revokes a session; revoking one that is gone is no error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if err := s.rdb.Del(ctx, s.kSession(hashToken(token))).Err(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
