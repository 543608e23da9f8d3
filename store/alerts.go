package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Alerts are where a tenant's operational events go (GET|PUT /v1/alerts):
// the destinations that receive them and the types it wants.
type Alerts struct {
	DestinationIDs []string `json:"destination_ids"`
	Types          []string `json:"types"`
}

// GetAlerts loads a tenant's alert settings; a tenant that set none has
// empty lists.
func (s *Store) GetAlerts(ctx context.Context, tenantID string) (Alerts, error) {
	var a Alerts
	err := s.getJSON(ctx, s.kTenantAlerts(tenantID), &a)
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	if a.DestinationIDs == nil {
		a.DestinationIDs = []string{}
	}
	if a.Types == nil {
		a.Types = []string{}
	}
	return a, err
}

// SaveAlerts replaces a tenant's alert settings (validated by the caller:
// rules.ValidateAlerts).
func (s *Store) SaveAlerts(ctx context.Context, tenantID string, a Alerts) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alerts: %w", err)
	}
	if err := s.rdb.Set(ctx, s.kTenantAlerts(tenantID), b, 0).Err(); err != nil {
		return fmt.Errorf("save alerts of %s: %w", tenantID, err)
	}
	return nil
}

// AlertWindow is the answer of OpenAlertWindow: whether this alert may be
// sent now, and what was held back.
type AlertWindow struct {
	Open bool // this call opened the window: send the alert now
	// ID names the window that is open (the ms it opened at): it keys the
	// alert's event id and the flush task, so a re-run does each once.
	ID string
	// Held is, when Open, how many alerts of an earlier window were held
	// back and not flushed yet (they ride on this one); otherwise how many
	// are held back now, this one included.
	Held int
	// Rest is how long the window still runs when this alert was held back.
	Rest time.Duration
}

// openAlertWindow lets one alert per destination and type through per
// window and counts the rest.
//
//	KEYS[1]  the window (kAlertWindow): its id, expiring with the window
//	KEYS[2]  what the window held back (kAlertHeld): hash count, event_id, reason
//	ARGV[1]  window, ms; ARGV[2] id of a window opened now; ARGV[3] event id;
//	ARGV[4]  reason; ARGV[5] how long held alerts are kept, ms
//	result   {1, id, held before} when opened, else {0, id, held now, ms left}
var openAlertWindow = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then
  local held = tonumber(redis.call('HGET', KEYS[2], 'count') or '0')
  redis.call('DEL', KEYS[2])
  return {1, ARGV[2], held}
end
local n = redis.call('HINCRBY', KEYS[2], 'count', 1)
redis.call('HSET', KEYS[2], 'event_id', ARGV[3], 'reason', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {0, redis.call('GET', KEYS[1]) or '', n, redis.call('PTTL', KEYS[1])}
`)

// heldAlertsKept is how long held-back alerts wait for their flush beyond
// the window: a flush task late by that much (every worker down) loses them.
const heldAlertsKept = 24 * time.Hour

// OpenAlertWindow asks whether an alert of type typ about destination destID
// may go now: the first in a window opens it; the rest are counted, with the
// last one's event id and reason kept for the flush (FlushAlertWindow).
func (s *Store) OpenAlertWindow(ctx context.Context, destID, typ string, window time.Duration, eventID, reason string) (AlertWindow, error) {
	id := strconv.FormatInt(s.now().UnixMilli(), 10)
	res, err := openAlertWindow.Run(ctx, s.rdb, []string{s.kAlertWindow(destID, typ), s.kAlertHeld(destID, typ)},
		window.Milliseconds(), id, eventID, reason, (window + heldAlertsKept).Milliseconds()).Slice()
	if err != nil {
		return AlertWindow{}, fmt.Errorf("alert window of %s %s: %w", destID, typ, err)
	}
	w := AlertWindow{Open: toInt(res[0]) == 1, ID: fmt.Sprint(res[1]), Held: toInt(res[2])}
	if len(res) > 3 {
		w.Rest = time.Duration(toInt(res[3])) * time.Millisecond
	}
	return w, nil
}

// HeldAlerts is what a window held back, flushed as one alert.
type HeldAlerts struct {
	WindowID string // the window the flush opened
	Count    int
	EventID  string // the last one's
	Reason   string // the last one's
	// Pending: an earlier flush's hand-over whose alert was not known to be
	// queued; the window it opened may still run.
	Pending bool
}

// flushAlertWindow hands over what a closed window held back, and opens a
// new window for the alert that carries it. What it hands over is kept
// (KEYS[3]) until that alert is queued (AckAlertFlush): a flush cut short
// between the two, run again, gets the same hand-over (same window id, so
// the same alert event) instead of an open window and then nothing.
//
//	KEYS[1], KEYS[2]  as openAlertWindow; KEYS[3] the hand-over
//	ARGV[1]  window, ms; ARGV[2] id of the window opened now; ARGV[3] how
//	         long a hand-over is kept, ms
//	result   {-1} while the window still runs, {0} when nothing was held,
//	         else {count, event id, reason, window id, 1 if an earlier
//	         flush's hand-over not yet acknowledged}
var flushAlertWindow = redis.NewScript(`
local f = redis.call('HMGET', KEYS[3], 'count', 'event_id', 'reason', 'window')
if f[1] and f[4] then return {tonumber(f[1]), f[2] or '', f[3] or '', f[4], 1} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
local h = redis.call('HMGET', KEYS[2], 'count', 'event_id', 'reason')
local n = tonumber(h[1] or '0')
if n == 0 then return {0} end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[3], 'count', n, 'event_id', h[2] or '', 'reason', h[3] or '', 'window', ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return {n, h[2] or '', h[3] or '', ARGV[2], 0}
`)

// ackAlertFlush forgets a hand-over once its alert is queued.
var ackAlertFlush = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'window') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// ErrWindowOpen is a flush that came before its window closed.
var ErrWindowOpen = errors.New("alert window still open")

// FlushAlertWindow takes what the closed window of destID and typ held back.
// Nothing held: a zero count, and no window opened. ErrWindowOpen: the
// window still runs (the flush came early; try again later). A hand-over
// not yet acknowledged (AckAlertFlush) is returned again, Pending set,
// whether or not a window runs.
func (s *Store) FlushAlertWindow(ctx context.Context, destID, typ string, window time.Duration) (HeldAlerts, error) {
	id := strconv.FormatInt(s.now().UnixMilli(), 10)
	res, err := flushAlertWindow.Run(ctx, s.rdb, []string{s.kAlertWindow(destID, typ), s.kAlertHeld(destID, typ), s.kAlertFlushed(destID, typ)},
		window.Milliseconds(), id, (window + heldAlertsKept).Milliseconds()).Slice()
	if err != nil {
		return HeldAlerts{}, fmt.Errorf("flush alert window of %s %s: %w", destID, typ, err)
	}
	switch n := toInt(res[0]); {
	case n < 0:
		return HeldAlerts{}, ErrWindowOpen
	case n == 0:
		return HeldAlerts{}, nil
	default:
		return HeldAlerts{WindowID: fmt.Sprint(res[3]), Count: n, EventID: fmt.Sprint(res[1]), Reason: fmt.Sprint(res[2]),
			Pending: toInt(res[4]) == 1}, nil
	}
}

// AckAlertFlush forgets the hand-over of windowID once the alert carrying
// it is queued.
func (s *Store) AckAlertFlush(ctx context.Context, destID, typ, windowID string) error {
	if err := ackAlertFlush.Run(ctx, s.rdb, []string{s.kAlertFlushed(destID, typ)}, windowID).Err(); err != nil {
		return fmt.Errorf("acknowledge alert flush of %s %s: %w", destID, typ, err)
	}
	return nil
}

func toInt(v any) int {
	switch n := v.(type) {
	case int64:
		return int(n)
	case string:
		i, _ := strconv.Atoi(n)
		return i
	}
	return 0
}
