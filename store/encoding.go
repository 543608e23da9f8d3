package store

import (
	"encoding/json"
	"fmt"
	"time"
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
