package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// storedDelivery is a Delivery as kept in its event's deliveries hash: the
// destination id is the hash field, and the attempts live in their own list,
// so neither is repeated in the value. Its field names are Delivery's, so a
// record written before this type existed still reads.
type storedDelivery struct {
	Status       string    `json:"status"`
	AttemptCount int       `json:"attempt_count,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// encodeDelivery is the stored form of d.
func encodeDelivery(d Delivery) []byte {
	b, _ := json.Marshal(storedDelivery{Status: d.Status, AttemptCount: d.AttemptCount, LastError: d.LastError, UpdatedAt: d.UpdatedAt})
	return b
}

// decodeDelivery reads a stored delivery of destID, old or new form.
func decodeDelivery(destID string, b []byte) (Delivery, error) {
	var sd storedDelivery
	if err := json.Unmarshal(b, &sd); err != nil {
		return Delivery{}, fmt.Errorf("decode delivery to %s: %w", destID, err)
	}
	return Delivery{DestinationID: destID, Status: sd.Status, AttemptCount: sd.AttemptCount, LastError: sd.LastError, UpdatedAt: sd.UpdatedAt}, nil
}

// An event is stored as one string: a format byte, the meta JSON's length
// (uvarint), the meta JSON (the Event without its payload) and the payload as
// encodePayload left it. One string costs Redis about half the bytes of the
// two-field hash it replaces (a hash whose values exceed 64 bytes is a hash
// table), and a search reads the meta from the same value.
const eventRecordV1 = 1

// encodeEventRecord is the stored form of an event's meta and payload.
func encodeEventRecord(meta, payload []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen32+len(meta)+len(payload))
	b = append(b, eventRecordV1)
	b = binary.AppendUvarint(b, uint64(len(meta)))
	b = append(b, meta...)
	return append(b, payload...)
}

// splitEventRecord returns the meta and stored payload of a record, alone
// or as the head of an event's string (eventstate.go).
func splitEventRecord(id string, b []byte) (meta, payload []byte, err error) {
	if len(b) > 0 && b[0] == eventRecordV2 { // the record is the head of the event's string
		if b, _, err = splitEventV2(id, b); err != nil {
			return nil, nil, err
		}
	}
	if len(b) == 0 || b[0] != eventRecordV1 {
		return nil, nil, fmt.Errorf("event %s: unknown record format", id)
	}
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || n > uint64(len(b)-1-w) {
		return nil, nil, fmt.Errorf("event %s: truncated record", id)
	}
	rest := b[1+w:]
	return rest[:n], rest[n:], nil
}

// decodeEventRecord reads a stored event with its payload.
func decodeEventRecord(id string, b []byte) (Event, error) {
	meta, stored, err := splitEventRecord(id, b)
	if err != nil {
		return Event{}, err
	}
	var ev Event
	if err := json.Unmarshal(meta, &ev); err != nil {
		return Event{}, fmt.Errorf("decode event %s: %w", id, err)
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
