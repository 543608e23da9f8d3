package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// How an event's parts are stored. Every byte of them is kept in Redis for
// the event retention, so they are short: a delivery's record and an
// attempt are JSON with one-letter names and times in Unix milliseconds,
// and the event's meta is binary. The forms written before this are still
// read (their JSON names are Delivery's and Attempt's own).

// storedDelivery is a Delivery as kept in its event: the destination id is
// its key and its attempts are kept apart, so neither is repeated.
type storedDelivery struct {
	S string `json:"s,omitempty"` // status
	N int    `json:"n,omitempty"` // attempt count
	E string `json:"e,omitempty"` // last error
	U int64  `json:"u,omitempty"` // updated, Unix ms
	P string `json:"p,omitempty"` // the replay that claimed it (Delivery.ReplayClaim)

	// The earlier form's names, read only.
	Status       string    `json:"status,omitempty"`
	AttemptCount int       `json:"attempt_count,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// encodeDelivery is the stored form of d.
func encodeDelivery(d Delivery) []byte {
	b, _ := json.Marshal(storedDelivery{S: d.Status, N: d.AttemptCount, E: d.LastError, U: unixMs(d.UpdatedAt), P: d.ReplayClaim})
	return b
}

// decodeDelivery reads a stored delivery of destID, in any form.
func decodeDelivery(destID string, b []byte) (Delivery, error) {
	var sd storedDelivery
	if err := json.Unmarshal(b, &sd); err != nil {
		return Delivery{}, fmt.Errorf("decode delivery to %s: %w", destID, err)
	}
	if sd.S == "" {
		return Delivery{DestinationID: destID, Status: sd.Status, AttemptCount: sd.AttemptCount, LastError: sd.LastError, UpdatedAt: sd.UpdatedAt}, nil
	}
	return Delivery{DestinationID: destID, Status: sd.S, AttemptCount: sd.N, LastError: sd.E, UpdatedAt: fromUnixMs(sd.U), ReplayClaim: sd.P}, nil
}

// storedAttempt is an Attempt as kept in its event.
type storedAttempt struct {
	N int      `json:"n"`           // number
	T int64    `json:"t"`           // at, Unix ms
	O string   `json:"o"`           // outcome
	C int      `json:"c,omitempty"` // status code
	D float64  `json:"d"`           // duration ms
	E string   `json:"e,omitempty"` // error
	L int      `json:"l,omitempty"` // script line
	G []string `json:"g,omitempty"` // script logs
	R string   `json:"r,omitempty"` // request
}

// encodeAttempt is the stored form of a.
func encodeAttempt(a Attempt) ([]byte, error) {
	return json.Marshal(storedAttempt{N: a.Number, T: unixMs(a.At), O: a.Outcome, C: a.StatusCode, D: a.DurationMS,
		E: a.Error, L: a.Line, G: a.Logs, R: a.Request})
}

// decodeAttempt reads a stored attempt, in either form (the earlier one is
// Attempt's own JSON, which begins with its number).
func decodeAttempt(b []byte) (Attempt, error) {
	if !bytes.HasPrefix(b, []byte(`{"n":`)) {
		var a Attempt
		if err := json.Unmarshal(b, &a); err != nil {
			return Attempt{}, fmt.Errorf("decode attempt: %w", err)
		}
		return a, nil
	}
	var sa storedAttempt
	if err := json.Unmarshal(b, &sa); err != nil {
		return Attempt{}, fmt.Errorf("decode attempt: %w", err)
	}
	return Attempt{Number: sa.N, At: fromUnixMs(sa.T), Outcome: sa.O, StatusCode: sa.C, DurationMS: sa.D,
		Error: sa.E, Line: sa.L, Logs: sa.G, Request: sa.R}, nil
}

// unixMs is t in Unix milliseconds, 0 for the zero time.
func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnixMs(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// An event's record (the head of its string, eventstate.go) is a format
// byte, the meta and the payload as encodePayload left it. The meta is the
// Event without its id (the key holds it) and payload: tenant, source,
// provider id and type, each a uvarint length and the bytes, then the
// received time in Unix nanoseconds (varint; 0 for the zero time).
//
// Format 1, still read, had the meta as JSON: a uvarint length and the JSON
// of the Event without its payload.
const (
	eventRecordV1 = 1
	eventRecordV3 = 3
)

// encodeEventRecord is the stored form of ev's meta and its stored payload.
func encodeEventRecord(ev Event, payload []byte) []byte {
	b := make([]byte, 0, 16+len(ev.TenantID)+len(ev.SourceID)+len(ev.ProviderID)+len(ev.Type)+len(payload))
	b = append(b, eventRecordV3)
	for _, f := range [...]string{ev.TenantID, ev.SourceID, ev.ProviderID, ev.Type} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	var ns int64
	if !ev.ReceivedAt.IsZero() {
		ns = ev.ReceivedAt.UnixNano()
	}
	b = binary.AppendVarint(b, ns)
	return append(b, payload...)
}

// decodeEventMeta reads the meta of a record, alone or as the head of an
// event's string, and returns the event without its payload and the stored
// payload.
func decodeEventMeta(id string, b []byte) (Event, []byte, error) {
	if len(b) > 0 && b[0] == eventRecordV2 { // the record is the head of the event's string
		var err error
		if b, _, err = splitEventV2(id, b); err != nil {
			return Event{}, nil, err
		}
	}
	bad := fmt.Errorf("event %s: truncated record", id)
	switch {
	case len(b) > 0 && b[0] == eventRecordV3:
		ev, rest := Event{ID: id}, b[1:]
		for _, f := range [...]*string{&ev.TenantID, &ev.SourceID, &ev.ProviderID, &ev.Type} {
			n, w := binary.Uvarint(rest)
			if w <= 0 || n > uint64(len(rest)-w) {
				return Event{}, nil, bad
			}
			*f, rest = string(rest[w:w+int(n)]), rest[w+int(n):]
		}
		ns, w := binary.Varint(rest)
		if w <= 0 {
			return Event{}, nil, bad
		}
		if ns != 0 {
			ev.ReceivedAt = time.Unix(0, ns).UTC()
		}
		return ev, rest[w:], nil
	case len(b) > 0 && b[0] == eventRecordV1:
		n, w := binary.Uvarint(b[1:])
		if w <= 0 || n > uint64(len(b)-1-w) {
			return Event{}, nil, bad
		}
		rest := b[1+w:]
		var ev Event
		if err := json.Unmarshal(rest[:n], &ev); err != nil {
			return Event{}, nil, fmt.Errorf("decode event %s: %w", id, err)
		}
		return ev, rest[n:], nil
	}
	return Event{}, nil, fmt.Errorf("event %s: unknown record format", id)
}

// decodeEventRecord reads a stored event with its payload.
func decodeEventRecord(id string, b []byte) (Event, error) {
	ev, stored, err := decodeEventMeta(id, b)
	if err != nil {
		return Event{}, err
	}
	if len(stored) > 0 {
		p, err := decodePayload(stored)
		if err != nil {
			return Event{}, fmt.Errorf("event %s: %w", id, err)
		}
		ev.Payload = json.RawMessage(p)
	}
	return ev, nil
}

// isWrongType reports Redis refusing a command for the key's type: an event
// still stored as a hash, read with GET.
func isWrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE")
}
