// Package store keeps hookshift's configuration (tenants, sources,
// destinations) and event log (events, deliveries, attempts, dedupe markers)
// in Redis. It alone knows key names and Lua scripts; callers use domain
// methods. Secrets are sealed before they are written.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotFound is returned when an object does not exist (or belongs to
// another tenant, which callers must not be able to tell apart).
var ErrNotFound = errors.New("not found")

// Options tune a Store; zero values mean the defaults.
type Options struct {
	Prefix         string           // key prefix, default "hookshift:"
	EventRetention time.Duration    // how long events and attempts are kept, default 72h
	DedupeWindow   time.Duration    // how long an accepted event id answers duplicates, default 72h
	Now            func() time.Time // clock, default time.Now
	// TransformVersions is how many script versions a destination keeps,
	// default DefaultTransformVersions (50).
	TransformVersions int
	// MaxEventStateBytes bounds an event's stored deliveries and attempts,
	// default DefaultMaxEventStateBytes: a delivery's oldest attempts are
	// dropped to keep under it (every attempt rewrites the event's key, so
	// its size is Redis time per attempt).
	MaxEventStateBytes int
}

// DefaultMaxEventStateBytes is Options.MaxEventStateBytes's default: room
// for eight attempts with the script's whole 8 KiB of console output, or
// some 400 plain ones (a delivery keeps at most 50).
const DefaultMaxEventStateBytes = 64 << 10

// Store is the Redis-backed storage of hookshift.
type Store struct {
	rdb    redis.UniversalClient
	sealer *Sealer
	opts   Options
	dests  destCache // decoded destination records (delivery_read.go)
	// srcDests: each source's destination ids as the fan-out last read them (fanout.go)
	srcDests destIDCache
}

// New returns a Store on rdb that seals secrets with sealer.
func New(rdb redis.UniversalClient, sealer *Sealer, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = "hookshift:"
	}
	if opts.EventRetention <= 0 {
		opts.EventRetention = 72 * time.Hour
	}
	if opts.DedupeWindow <= 0 {
		opts.DedupeWindow = 72 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxEventStateBytes <= 0 {
		opts.MaxEventStateBytes = DefaultMaxEventStateBytes
	}
	return &Store{rdb: rdb, sealer: sealer, opts: opts}
}

// Redis returns the underlying client, for components (asynq) that share it.
func (s *Store) Redis() redis.UniversalClient { return s.rdb }

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

func (s *Store) now() time.Time { return s.opts.Now().UTC() }

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns a random identifier with the given prefix, e.g. "src_...".
func NewID(prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS has no entropy: nothing is safe to do
	}
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b))
}

// EventID derives hookshift's event id from the source and the provider's
// event id, so a duplicate delivery of the same webhook maps to the same id
// (and thus the same asynq TaskID) without any lookup.
func EventID(sourceID, providerID string) string {
	sum := sha256.Sum256([]byte(sourceID + "\x00" + providerID))
	return "evt_" + strings.ToLower(idEncoding.EncodeToString(sum[:15]))
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
