package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// throttle is GCRA (the generic cell rate algorithm) on Redis time, so every
// worker process shares one limit per destination and clocks never disagree.
//
//	KEYS[1]  the destination's rate key (kRate): its theoretical arrival time, unix ms
//	ARGV[1]  emission interval, ms (1000 / rate per second, rounded up)
//	ARGV[2]  burst: sends that may go at once
//	result   0 when a send may go now (and it is reserved), else the ms to wait (nothing reserved)
//
// Why not github.com/go-redis/redis_rate/v10 (v10.0.1 works with go-redis
// v9, and is the same GCRA on Redis time): it prepends its own "rate:" to
// every key, so the key would leave this store's prefix (and the one place
// that names keys); it keeps float seconds since 2017 where integer ms do;
// and it calls redis.replicate_commands(), deprecated since Redis 7. These
// 12 lines are the whole algorithm, proven across two worker processes
// (httpapi TestRateLimitHoldsAcrossWorkers).
var throttle = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then return allow_at - now end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1000)
return 0
`)

// MinRatePerSecond is the slowest rate limit a destination can have (one
// send per 100 s); the API refuses slower ones.
const MinRatePerSecond = 0.01

// Throttle applies a destination's rate limit across all workers. It returns
// how long to wait before sending; zero means the send may go now.
func (s *Store) Throttle(ctx context.Context, destID string, perSecond float64) (time.Duration, error) {
	if perSecond <= 0 {
		return 0, nil
	}
	// A rate saved before the API bounded it (1e-300) would overflow the
	// interval and make a delivery wait for ever: keep it at the slowest rate
	// the API accepts.
	perSecond = max(perSecond, MinRatePerSecond)
	interval := int64(math.Ceil(1000 / perSecond))
	burst := max(1, int64(perSecond)) // a second's worth of sends may go at once
	ms, err := throttle.Run(ctx, s.rdb, []string{s.kRate(destID)}, interval, burst).Int64()
	if err != nil {
		return 0, fmt.Errorf("throttle %s: %w", destID, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Health is a destination's recent delivery health: its consecutive failure
// run and circuit state.
type Health struct {
	ConsecutiveFailures int       `json:"consecutive_failures"`
	FailingSince        time.Time `json:"failing_since,omitzero"`
	OpenUntil           time.Time `json:"open_until,omitzero"` // circuit open until then; zero = closed
	Opens               int       `json:"opens,omitempty"`     // times opened in this failure run
	// Change is what RecordHealth just did to the circuit, for alerts:
	// "opened" (first open of a failure run), "closed" (a success ended a
	// run in which it had opened), or "". Never stored.
	Change string `json:"-"`
}

// Circuit reports "closed", "open" (deliveries wait) or "half_open" (one
// probe may go) at now.
func (h Health) Circuit(now time.Time) string {
	switch {
	case h.OpenUntil.IsZero():
		return "closed"
	case now.Before(h.OpenUntil):
		return "open"
	default:
		return "half_open"
	}
}

// GetHealth loads a destination's health; a healthy destination has none.
func (s *Store) GetHealth(ctx context.Context, destID string) (Health, error) {
	var h Health
	err := s.getJSON(ctx, s.kHealth(destID), &h)
	if errors.Is(err, ErrNotFound) {
		return Health{}, nil
	}
	return h, err
}

// healthRetention keeps a failure run's record a while after the last
// failure, long enough for the 5-day disable rule to see a whole run.
const healthRetention = 7 * 24 * time.Hour

// CircuitPolicy is when a destination's circuit opens and for how long.
type CircuitPolicy struct {
	Threshold   int           // consecutive failures that open it
	Cooldown    time.Duration // first open period; doubles on each re-open
	MaxCooldown time.Duration
}

// RecordHealth folds one delivery result into a destination's health: a
// success closes the circuit and clears the run; a failure extends the run
// and opens (or re-opens, for longer) the circuit at the threshold. It runs
// under WATCH so concurrent workers do not lose each other's updates.
func (s *Store) RecordHealth(ctx context.Context, destID string, ok bool, p CircuitPolicy) (Health, error) {
	key := s.kHealth(destID)
	var out Health
	update := func(tx *redis.Tx) error {
		var h Health
		if b, err := tx.Get(ctx, key).Bytes(); err == nil {
			_ = json.Unmarshal(b, &h)
		} else if !errors.Is(err, redis.Nil) {
			return err
		}
		now := s.now()
		if ok {
			out = Health{}
			if h.Opens > 0 {
				out.Change = "closed"
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Del(ctx, key, s.kProbe(destID))
				return nil
			})
			return err
		}
		if h.ConsecutiveFailures == 0 {
			h.FailingSince = now
		}
		h.ConsecutiveFailures++
		if p.Threshold > 0 && h.ConsecutiveFailures >= p.Threshold && (h.OpenUntil.IsZero() || !now.Before(h.OpenUntil)) {
			cool := p.Cooldown << min(h.Opens, 16)
			if p.MaxCooldown > 0 {
				cool = min(cool, p.MaxCooldown)
			}
			h.OpenUntil, h.Opens = now.Add(cool), h.Opens+1
			if h.Opens == 1 {
				h.Change = "opened"
			}
		}
		b, _ := json.Marshal(h)
		out = h
		_, err := tx.TxPipelined(ctx, func(pl redis.Pipeliner) error {
			pl.Set(ctx, key, b, healthRetention)
			pl.Del(ctx, s.kProbe(destID))
			return nil
		})
		return err
	}
	var err error
	for range 10 { // another worker changed it meanwhile: read again
		if err = s.rdb.Watch(ctx, update, key); !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		return Health{}, fmt.Errorf("record health of %s: %w", destID, err)
	}
	return out, nil
}

// AcquireProbe lets exactly one delivery through a half-open circuit; the
// claim lapses after ttl in case that worker dies.
func (s *Store) AcquireProbe(ctx context.Context, destID string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.kProbe(destID), "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("acquire probe for %s: %w", destID, err)
	}
	return ok, nil
}

// ReleaseProbe gives up a half-open circuit's probe lease when the probe's
// attempt told nothing of the destination's health (it sent nothing, or
// the answer counts neither way), so the next delivery probes at once
// instead of after the lease's ttl. RecordHealth releases it otherwise.
func (s *Store) ReleaseProbe(ctx context.Context, destID string) error {
	if err := s.rdb.Del(ctx, s.kProbe(destID)).Err(); err != nil {
		return fmt.Errorf("release probe for %s: %w", destID, err)
	}
	return nil
}
