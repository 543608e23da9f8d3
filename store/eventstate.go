package store

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// One key per event. An event's record (meta and payload), the receipt that
// recorded it, its delivery states and their attempts are one string at
// P{e:ID}:event: Redis spends 60–100 bytes of key, dictionary and expiry on
// every key, and a hash or list more on its own structure, so the four keys
// an event used to have cost more than the event itself. The string is
//
//	0x02, the head's length as 8 hex digits, the head, the state
//
// where the head is encodeEventRecord's record (never changed once written)
// and the state is a run of records, each ended by RS (0x1e), with fields
// split by US (0x1f):
//
//	r US receipt RS              first, always: the receipt that recorded the event
//	d US destID US delivery RS   one per destination: storedDelivery JSON
//	a US destID US attempt RS    the attempts of a delivery, oldest first: storedAttempt JSON
//
// JSON from encoding/json never holds a raw control byte, and ids and
// receipts are checked for them (checkStateField), so the separators are
// unambiguous. The scripts below change the state in place, on the event's
// slot, and keep the key's expiry (the event's retention). An event written
// before this form (a v1 record or a hash, with the deliveries hash, attempt
// lists and dedupe marker beside it) is read and written in that old form
// until it expires: every script and read below checks which it has.
const eventRecordV2 = 2

const (
	stateRS = 0x1e
	stateUS = 0x1f
)

// v2HeadStart is where the head begins in a v2 string.
const v2HeadStart = 9

// encodeEventV2 is a new event's string: head, and the receipt as the
// whole state.
func encodeEventV2(head []byte, receipt string) []byte {
	b := make([]byte, 0, v2HeadStart+len(head)+len(receipt)+3)
	b = append(b, eventRecordV2)
	b = fmt.Appendf(b, "%08x", len(head))
	b = append(b, head...)
	return append(append(append(b, 'r', stateUS), receipt...), stateRS)
}

// splitEventV2 returns the head and the state of a v2 string.
func splitEventV2(id string, b []byte) (head, state []byte, err error) {
	if len(b) < v2HeadStart || b[0] != eventRecordV2 {
		return nil, nil, fmt.Errorf("event %s: unknown record format", id)
	}
	n, err := strconv.ParseUint(string(b[1:v2HeadStart]), 16, 32)
	if err != nil || n > uint64(len(b)-v2HeadStart) {
		return nil, nil, fmt.Errorf("event %s: truncated record", id)
	}
	end := v2HeadStart + int(n)
	return b[v2HeadStart:end], b[end:], nil
}

// eventState is the state of a v2 event, parsed.
type eventState struct {
	receipt    string
	deliveries map[string][]byte   // destination id: storedDelivery JSON
	attempts   map[string][][]byte // destination id: storedAttempt JSON, oldest first
}

// parseEventState reads the state part of a v2 event.
func parseEventState(id string, st []byte) (eventState, error) {
	es := eventState{deliveries: map[string][]byte{}, attempts: map[string][][]byte{}}
	for len(st) > 0 {
		end := bytes.IndexByte(st, stateRS)
		if end < 0 {
			return es, fmt.Errorf("event %s: state record not terminated", id)
		}
		rec := st[:end]
		st = st[end+1:]
		tag, rest, ok := bytes.Cut(rec, []byte{stateUS})
		if !ok || len(tag) != 1 {
			return es, fmt.Errorf("event %s: malformed state record", id)
		}
		if tag[0] == 'r' {
			es.receipt = string(rest)
			continue
		}
		dest, val, ok := bytes.Cut(rest, []byte{stateUS})
		if !ok {
			return es, fmt.Errorf("event %s: malformed state record", id)
		}
		d := string(dest)
		switch tag[0] {
		case 'd':
			es.deliveries[d] = val
		case 'a':
			es.attempts[d] = append(es.attempts[d], val)
		default:
			return es, fmt.Errorf("event %s: unknown state record %q", id, tag)
		}
	}
	return es, nil
}

// checkStateField refuses an id or receipt that could not be told apart
// from the state's separators.
func checkStateField(what, v string) error {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
		return fmt.Errorf("%s %q is empty or holds a control character", what, v)
	}
	return nil
}

// stateLua are the Lua helpers every state script starts with. ev(k) reads
// an event key: the string and where its state starts for a v2 event; nil
// and false for a key that is not there; "legacy" for an event in the old
// form (a v1 string, or a hash: GET fails on it). drec(v, st, dest) finds
// dest's delivery record: its value and the bounds of the whole record.
const stateLua = `
local function ev(k)
  local v = redis.pcall('GET', k)
  if type(v) == 'table' then return 'legacy' end
  if not v then return nil end
  if string.byte(v, 1) ~= 2 then return 'legacy' end
  return v, 10 + tonumber(string.sub(v, 2, 9), 16)
end
local function drec(v, st, dest)
  local s, e = string.find(v, '\30d\31' .. dest .. '\31', st, true)
  if not s then return nil end
  local j = string.find(v, '\30', e + 1, true)
  return string.sub(v, e + 1, j - 1), s + 1, j
end
`

// recordEventV2 claims the event for this receipt and writes it, in one
// step on the event's slot. Another receipt's record (or dedupe marker)
// means an earlier accepted copy recorded the event: the copy is dropped.
// The same receipt may run it again (a retried task) and gets 1, with the
// state left as it is.
//
// KEYS[1] event, KEYS[2] dedupe marker, KEYS[3] the old form's deliveries
// hash (all {e:ID}). ARGV[1] receipt, ARGV[2] dedupe window ms, ARGV[3] the
// new event string (encodeEventV2), ARGV[4] retention ms, ARGV[5] "1" when
// the dedupe window outlasts the retention and so needs a marker of its own.
// Returns 0 for another's receipt (or an event whose record expired before
// its marker: nothing is left to do); 2 when recorded for the first time;
// 1 for a retry of the receipt that recorded it.
var recordEventV2 = redis.NewScript(stateLua + `
local v, st = ev(KEYS[1])
local m = redis.call('GET', KEYS[2])
if m and m ~= ARGV[1] then return 0 end
if v == 'legacy' then
  if not m then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end
  return 1
end
if v then
  if string.match(v, '^r\31([^\30]*)\30', st) == ARGV[1] then return 1 end
  return 0
end
if m or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
if ARGV[5] == '1' then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end
return 2
`)

// initDeliveriesV2 creates each named delivery of an event in the pending
// state unless it exists, and returns every delivery's state, in one step
// on the event's slot.
//
// KEYS[1] event, KEYS[2] the old form's deliveries hash. ARGV[1] retention
// ms, ARGV[2] the pending record, ARGV[3..] destination ids. Returns the
// stored record of each destination id, in order; an error NOEVENT when the
// event is gone.
var initDeliveriesV2 = redis.NewScript(stateLua + `
local v, st = ev(KEYS[1])
local out = {}
if v == 'legacy' then
  local created = false
  for i = 3, #ARGV do
    local cur = redis.call('HGET', KEYS[2], ARGV[i])
    if not cur then
      redis.call('HSET', KEYS[2], ARGV[i], ARGV[2])
      created = true
      cur = ARGV[2]
    end
    out[#out + 1] = cur
  end
  if created then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
  return out
end
if not v then return redis.error_reply('NOEVENT the event is gone') end
local add, made = {}, {}
for i = 3, #ARGV do
  local cur = drec(v, st, ARGV[i])
  if not cur and not made[ARGV[i]] then
    made[ARGV[i]] = true
    add[#add + 1] = 'd\31' .. ARGV[i] .. '\31' .. ARGV[2] .. '\30'
  end
  out[#out + 1] = cur or ARGV[2]
end
if #add > 0 then redis.call('SET', KEYS[1], v .. table.concat(add), 'KEEPTTL') end
return out
`)

// recordAttemptV2 appends an attempt to a delivery's log and sets the
// delivery's record, in one step on the event's slot. The delivery keeps its
// last ARGV[4] attempts, and drops more of its oldest while the event's
// state would exceed ARGV[6] bytes (other deliveries' attempts are trimmed
// when they record their own).
//
// KEYS[1] event, KEYS[2] the old form's deliveries hash, KEYS[3] its attempt
// list of this destination, KEYS[4] the delivery's send lease. ARGV[1]
// destination id, ARGV[2] attempt JSON, ARGV[3] delivery record, ARGV[4]
// attempts kept, ARGV[5] retention ms, ARGV[6] most state bytes, ARGV[7] the
// lease's token to give it up with the record ("" to leave it). Returns 1,
// or 0 when the event is gone (nothing to record into).
var recordAttemptV2 = redis.NewScript(stateLua + `
if ARGV[7] ~= '' and redis.call('GET', KEYS[4]) == ARGV[7] then redis.call('DEL', KEYS[4]) end
local v, st = ev(KEYS[1])
if v == 'legacy' then
  redis.call('RPUSH', KEYS[3], ARGV[2])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1)
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
  return 1
end
if not v then return 0 end
local max, maxb = tonumber(ARGV[4]), tonumber(ARGV[6])
local pa = '\30a\31' .. ARGV[1] .. '\31'
local starts, i = {}, st
while true do
  local s = string.find(v, pa, i, true)
  if not s then break end
  starts[#starts + 1] = s
  i = s + 1
end
local dnew = 'd\31' .. ARGV[1] .. '\31' .. ARGV[3]
local arec = 'a\31' .. ARGV[1] .. '\31' .. ARGV[2] .. '\30'
local cur, s, j = drec(v, st, ARGV[1])
local over = #v - st + 1 + #dnew + #arec - maxb
if cur then over = over - (j - s) else over = over + 1 end
if #starts < max and over <= 0 then
  if cur then
    v = string.sub(v, 1, s - 1) .. dnew .. string.sub(v, j) .. arec
  else
    v = v .. dnew .. '\30' .. arec
  end
  redis.call('SET', KEYS[1], v, 'KEEPTTL')
  return 1
end
local drop = 0
while drop < #starts and (#starts - drop >= max or over > 0) do
  drop = drop + 1
  over = over - (string.find(v, '\30', starts[drop] + 1, true) - starts[drop])
end
local pd, pa1 = 'd\31' .. ARGV[1] .. '\31', 'a\31' .. ARGV[1] .. '\31'
local out = {string.sub(v, 1, st - 1)}
for r in string.gmatch(string.sub(v, st), '([^\30]*)\30') do
  local p = string.sub(r, 1, #pa1)
  if p == pa1 and drop > 0 then
    drop = drop - 1
  elseif p ~= pd then
    out[#out + 1] = r .. '\30'
  end
end
out[#out + 1] = dnew .. '\30'
out[#out + 1] = arec
redis.call('SET', KEYS[1], table.concat(out), 'KEEPTTL')
return 1
`)

// setDeliveryV2 replaces a delivery's record if it is still the one read
// (compare-and-set), in one step on the event's slot.
//
// KEYS[1] event, KEYS[2] the old form's deliveries hash. ARGV[1] destination
// id, ARGV[2] the record read ("" for none), ARGV[3] the new record, ARGV[4]
// retention ms. Returns 1 when set, 0 when the record changed meanwhile, -1
// when the event is gone.
var setDeliveryV2 = redis.NewScript(stateLua + `
local v, st = ev(KEYS[1])
if v == 'legacy' then
  local cur = redis.call('HGET', KEYS[2], ARGV[1]) or ''
  if cur ~= ARGV[2] then return 0 end
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  return 1
end
if not v then return -1 end
local cur, s, j = drec(v, st, ARGV[1])
if (cur or '') ~= ARGV[2] then return 0 end
local rec = 'd\31' .. ARGV[1] .. '\31' .. ARGV[3]
if cur then
  v = string.sub(v, 1, s - 1) .. rec .. string.sub(v, j)
else
  v = v .. rec .. '\30'
end
redis.call('SET', KEYS[1], v, 'KEEPTTL')
return 1
`)

// eventForm is what a GET of an event key found.
type eventForm int

const (
	formGone   eventForm = iota // no such key
	formLegacy                  // the old form: deliveries and attempts in keys of their own
	formV2                      // one string with the state in it
)

// readEventKey tells the form of an event key from the result of its GET,
// and for a v2 event parses its state.
func readEventKey(id string, cmd *redis.StringCmd) (eventForm, eventState, error) {
	raw, err := cmd.Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return formGone, eventState{}, nil
	case isWrongType(err):
		return formLegacy, eventState{}, nil
	case err != nil:
		return formGone, eventState{}, fmt.Errorf("get event %s: %w", id, err)
	case len(raw) == 0 || raw[0] != eventRecordV2:
		return formLegacy, eventState{}, nil
	}
	_, st, err := splitEventV2(id, raw)
	if err != nil {
		return formGone, eventState{}, err
	}
	es, err := parseEventState(id, st)
	return formV2, es, err
}
