package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Search indexes. Every event is entered, by RecordEvent's script and in the
// same step as the event itself, into a few sorted sets of its tenant: one per
// event type, source, customer id, customer email and payment id, scored by
// the time it was received (ms) with the event id as member. A search pages
// through the smallest index that its filters name and checks the other
// filters per event, so its cost follows the number of events it looks at,
// never the number stored. Entries older than the event retention are trimmed
// on every write, and each index key expires with the retention, so an index
// that stops growing vanishes with its last event.
//
// Values in index key names are SHA-256 prefixes, never the value itself:
// search input comes from merchants and payloads, and must not be able to
// shape key names (length, a prefix of another key, a cluster hash tag).

// Index kinds, as they appear in key names.
const (
	ixType     = "type"
	ixSource   = "src"
	ixCustomer = "cus"
	ixEmail    = "email"
	ixPayment  = "pay"
)

// SearchKeys are the values, found in an event's payload, that the event can
// be searched by besides its type and source. Empty values are not indexed.
type SearchKeys struct {
	CustomerID string
	Email      string // matched case-insensitively
	PaymentIDs []string
}

// normEmail is how emails are indexed and looked up.
func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// indexKeys are the index keys an event is entered into, the tenant's whole
// event list excluded.
func (s *Store) indexKeys(ev Event, k SearchKeys) []string {
	keys := make([]string, 0, 5+len(k.PaymentIDs))
	if ev.Type != "" {
		keys = append(keys, s.kIndex(ev.TenantID, ixType, ev.Type))
	}
	if ev.SourceID != "" {
		keys = append(keys, s.kIndex(ev.TenantID, ixSource, ev.SourceID))
	}
	if k.CustomerID != "" {
		keys = append(keys, s.kIndex(ev.TenantID, ixCustomer, k.CustomerID))
	}
	if e := normEmail(k.Email); e != "" {
		keys = append(keys, s.kIndex(ev.TenantID, ixEmail, e))
	}
	seen := map[string]bool{}
	for _, p := range k.PaymentIDs {
		if p != "" && !seen[p] {
			seen[p] = true
			keys = append(keys, s.kIndex(ev.TenantID, ixPayment, p))
		}
	}
	return keys
}

// EventFilter selects a tenant's events; empty fields match every event.
type EventFilter struct {
	Type       string
	SourceID   string
	CustomerID string
	Email      string // case-insensitive
	PaymentID  string
}

// maxSearchScan bounds one search request: a search whose filters rarely
// meet within its chosen index stops after looking at this many events and
// returns a cursor to go on from there. It bounds both the request's time and
// how long the scan script holds Redis (a few milliseconds at most). A
// variable so that tests can reach it with few events.
var maxSearchScan = 5000

// scanChunk is how many events one run of the scan script looks at, at most:
// a script holds Redis while it runs, so a long scan is cut into runs of a
// millisecond or two, and other clients go in between.
var scanChunk = 1000

// position is a place in a sorted set: a score and the member at it. Scores
// are milliseconds and several events can share one, so the member tells
// where in its millisecond a page ended.
type position struct {
	score int64
	id    string
	set   bool
}

func (p position) String() string {
	if !p.set {
		return ""
	}
	return strconv.FormatInt(p.score, 10) + ":" + p.id
}

// parseCursor reads a cursor of the form "score:member". A bare score is
// what ListEvents returned before ties were broken; it still works, resuming
// before that millisecond.
func parseCursor(c string) (position, error) {
	if c == "" {
		return position{}, nil
	}
	bad := fmt.Errorf("%w: %q is not one this API returned", ErrBadCursor, c)
	if len(c) > 200 {
		return position{}, bad
	}
	num, id, _ := strings.Cut(c, ":")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || strings.ContainsAny(id, " \t\r\n:") {
		return position{}, bad
	}
	return position{score: n, id: id, set: true}, nil
}

// scanIndex walks KEYS[1] newest first and returns the members that are in
// every other KEYS too, with their scores, until ARGV[3] matched or ARGV[4]
// were looked at. It starts at score ARGV[1] ("+inf", a score, or "(" and a
// score) after member ARGV[2] ("" for none): members of that millisecond up
// to and including ARGV[2] come first in Redis's order and are passed over.
// A cursor's member is only ever removed together with its whole millisecond
// (the retention trims by score), so passing over "up to ARGV[2]" never skips
// an event. Member comparison is by equality only: Lua compares strings with
// the server's locale.
//
// Returns {matches (member, score, ...), last member looked at, its score,
// 1 if the index has nothing after it}.
var scanIndex = redis.NewScript(`
local limit, bound, batch = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local from, passing = tonumber(ARGV[1]), ARGV[2] ~= ''
local out, found, seen, off = {}, 0, 0, 0
local lastm, lasts = '', ''
while true do
  local zs = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'WITHSCORES', 'LIMIT', off, batch)
  local n = #zs / 2
  for i = 1, #zs, 2 do
    local m, sc = zs[i], zs[i + 1]
    if passing and tonumber(sc) == from then
      if m == ARGV[2] then passing = false end
    else
      passing = false
      seen = seen + 1
      lastm, lasts = m, sc
      local ok = true
      for k = 2, #KEYS do
        if not redis.call('ZSCORE', KEYS[k], m) then ok = false; break end
      end
      if ok then
        out[#out + 1] = m
        out[#out + 1] = sc
        found = found + 1
      end
      if found == limit or seen == bound then
        return {out, lastm, lasts, (i + 1 == #zs and n < batch) and 1 or 0}
      end
    end
  end
  if n < batch then return {out, lastm, lasts, 1} end
  off = off + n
end
`)

// SearchEvents returns a tenant's events that match every filter, newest
// first, at most limit, resuming after cursor ("" for the first page; a
// cursor belongs to the filters it was returned for). The next cursor is ""
// once nothing is left. A page may hold fewer than limit events with a cursor
// still set: the request reached its scan bound first.
//
// Every filter names an index. The smallest is scanned (one script call) and
// the others are checked per event by membership, inside Redis; then the
// matches' metadata is read in one pipeline.
func (s *Store) SearchEvents(ctx context.Context, tenantID string, f EventFilter, limit int, cursor string) ([]Event, string, error) {
	pos, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		return []Event{}, "", nil
	}
	var idx []string
	for _, c := range [...]struct{ kind, v string }{
		{ixType, f.Type}, {ixSource, f.SourceID}, {ixCustomer, f.CustomerID}, {ixEmail, normEmail(f.Email)}, {ixPayment, f.PaymentID},
	} {
		if c.v != "" {
			idx = append(idx, s.kIndex(tenantID, c.kind, c.v))
		}
	}
	keys := []string{s.kTenantEvents(tenantID)}
	if len(idx) > 0 {
		pipe := s.rdb.Pipeline()
		cards := make([]*redis.IntCmd, len(idx))
		for i, k := range idx {
			cards[i] = pipe.ZCard(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, "", fmt.Errorf("search events: %w", err)
		}
		best := 0
		for i := range idx {
			if cards[i].Val() == 0 {
				return []Event{}, "", nil // a filter that matches nothing
			}
			if cards[i].Val() < cards[best].Val() {
				best = i
			}
		}
		idx[0], idx[best] = idx[best], idx[0]
		keys = idx
	}

	batch := limit + 1 // every member matches: no more is needed (+1: see that nothing follows)
	if len(keys) > 1 {
		batch = 500
	}
	var matches []any
	next := ""
	for seen := 0; ; seen += scanChunk {
		from := "+inf"
		if pos.set {
			from = strconv.FormatInt(pos.score, 10)
			if pos.id == "" {
				from = "(" + from
			}
		}
		res, err := scanIndex.Run(ctx, s.rdb, keys, from, pos.id, limit-len(matches)/2, min(scanChunk, maxSearchScan-seen), batch).Slice()
		if err != nil {
			return nil, "", fmt.Errorf("search events: %w", err)
		}
		got, _ := res[0].([]any)
		matches = append(matches, got...)
		if res[3].(int64) == 1 {
			break
		}
		last, _ := res[1].(string)
		sc, _ := res[2].(string)
		next = sc + ":" + last
		if len(matches)/2 == limit || seen+scanChunk >= maxSearchScan {
			break
		}
		if pos, err = parseCursor(next); err != nil {
			return nil, "", fmt.Errorf("search events: index returned %q: %w", next, err)
		}
		next = ""
	}

	pipe := s.rdb.Pipeline()
	recs := make([]*redis.StringCmd, 0, len(matches)/2)
	for i := 0; i < len(matches); i += 2 {
		recs = append(recs, pipe.Get(ctx, s.kEvent(matches[i].(string))))
	}
	if len(recs) > 0 {
		_, _ = pipe.Exec(ctx) // each command's error is looked at below
	}
	out := make([]Event, 0, len(recs))
	for i, r := range recs {
		id := matches[2*i].(string)
		raw, err := r.Bytes()
		var ev Event
		switch {
		case errors.Is(err, redis.Nil):
			continue // expired between the index and the read
		case isWrongType(err): // stored as a hash, before events were one string
			m, herr := s.rdb.HGet(ctx, s.kEvent(id), "meta").Bytes()
			if errors.Is(herr, redis.Nil) {
				continue
			}
			if herr != nil {
				return nil, "", fmt.Errorf("search events: %w", herr)
			}
			if err := json.Unmarshal(m, &ev); err != nil {
				return nil, "", fmt.Errorf("decode event: %w", err)
			}
		case err != nil:
			return nil, "", fmt.Errorf("search events: %w", err)
		default:
			if ev, _, err = decodeEventMeta(id, raw); err != nil {
				return nil, "", fmt.Errorf("search events: %w", err)
			}
		}
		if ev.TenantID != tenantID {
			continue // cannot happen: index keys are per tenant
		}
		out = append(out, ev)
	}
	return out, next, nil
}

// page returns up to n members of a sorted set strictly after p, oldest
// first, from floor (ms) on. exhausted reports that nothing follows them.
func (s *Store) page(ctx context.Context, key string, p position, floor int64, n int) (zs []redis.Z, exhausted bool, err error) {
	lo := floor
	if p.set {
		lo = max(lo, p.score)
	}
	for off := int64(0); ; {
		got, err := s.rdb.ZRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Min: strconv.FormatInt(lo, 10), Max: "+inf", Offset: off, Count: int64(n)}).Result()
		if err != nil {
			return nil, false, err
		}
		// Members of p's own millisecond up to p's member come first
		// (Redis orders equal scores by member).
		skip := 0
		for skip < len(got) && p.set && int64(got[skip].Score) == p.score && got[skip].Member.(string) <= p.id {
			skip++
		}
		if skip < len(got) || len(got) < n {
			return got[skip:], len(got) < n, nil
		}
		off += int64(len(got)) // a whole batch sat in p's millisecond
	}
}

// FailedDelivery is a delivery of an event to a destination whose last
// attempt failed for good.
type FailedDelivery struct {
	EventID  string
	FailedAt time.Time
}

// FailedDeliveries returns a destination's deliveries that are failed now and
// failed at or after since, oldest first, at most limit, resuming after
// cursor; with claimedBy, also those the replay with that stamp claimed and
// has not sent yet (ReplayFailed), so that its re-run finds them. The next
// cursor is "" once nothing is left. The caller checks that the destination
// belongs to the tenant asking.
func (s *Store) FailedDeliveries(ctx context.Context, destID string, since time.Time, limit int, cursor, claimedBy string) ([]FailedDelivery, string, error) {
	pos, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		return []FailedDelivery{}, "", nil
	}
	key := s.kDestFailed(destID)
	out := make([]FailedDelivery, 0, limit)
	for scanned := 0; scanned < maxSearchScan; {
		zs, exhausted, err := s.page(ctx, key, pos, since.UnixMilli(), min(limit-len(out), 500))
		if err != nil {
			return nil, "", fmt.Errorf("failed deliveries of %s: %w", destID, err)
		}
		scanned += len(zs)
		// The index may hold a delivery that a replay has put back to work:
		// only the delivery's current status counts.
		pipe := s.rdb.Pipeline()
		events := make([]*redis.StringCmd, len(zs))
		for i, z := range zs {
			events[i] = pipe.Get(ctx, s.kEvent(z.Member.(string)))
		}
		if len(zs) > 0 {
			_, _ = pipe.Exec(ctx) // each command's error is looked at below
		}
		for i, z := range zs {
			pos = position{score: int64(z.Score), id: z.Member.(string), set: true}
			b, err := s.deliveryRecordOf(ctx, pos.id, destID, events[i])
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, "", fmt.Errorf("failed deliveries of %s: %w", destID, err)
			}
			if b == nil {
				continue
			}
			d, err := decodeDelivery(destID, b)
			claimed := claimedBy != "" && d.Status == StatusPending && d.ReplayClaim == claimedBy
			if err != nil || (d.Status != StatusFailed && !claimed) {
				continue
			}
			out = append(out, FailedDelivery{EventID: pos.id, FailedAt: time.UnixMilli(pos.score).UTC()})
			if len(out) == limit {
				if i == len(zs)-1 && exhausted {
					return out, "", nil
				}
				return out, pos.String(), nil
			}
		}
		if exhausted {
			return out, "", nil
		}
	}
	return out, pos.String(), nil
}
