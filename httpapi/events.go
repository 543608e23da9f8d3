package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
)

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeFieldError(w, invalid("limit", "must be a whole number from 1 to 500"))
			return
		}
		limit = n
	}
	evs, next, err := s.Store.ListEvents(r.Context(), t.ID, limit, q.Get("cursor"))
	if err != nil {
		if errors.Is(err, store.ErrBadCursor) {
			writeFieldError(w, invalid("cursor", "%v", err))
			return
		}
		storeError(w, err, "events")
		return
	}
	if evs == nil {
		evs = []store.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": evs, "next_cursor": next})
}

type eventView struct {
	store.Event
	Deliveries []store.Delivery `json:"deliveries"`
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	ev, err := s.Store.GetEvent(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "event")
		return
	}
	ds, err := s.Store.Deliveries(r.Context(), ev.ID)
	if err != nil {
		storeError(w, err, "deliveries")
		return
	}
	if ds == nil {
		ds = []store.Delivery{}
	}
	writeJSON(w, http.StatusOK, eventView{Event: ev, Deliveries: ds})
}

// replayEvent runs an event's deliveries again (all of its destinations, or
// one) through the current script. The idempotency key stays the same, so the
// far end still counts the event once.
func (s *Server) replayEvent(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	ev, err := s.Store.GetEvent(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "event")
		return
	}
	var in struct {
		DestinationID string `json:"destination_id"`
	}
	if r.ContentLength != 0 && !decode(w, r, &in) {
		return
	}
	var dests []store.Destination
	if in.DestinationID != "" {
		d, err := s.Store.GetDestination(r.Context(), t.ID, in.DestinationID)
		if err != nil || d.SourceID != ev.SourceID {
			writeFieldError(w, invalid("destination_id", "no destination %q on this event's source", in.DestinationID))
			return
		}
		dests = []store.Destination{d}
	} else {
		all, err := s.Store.ListDestinations(r.Context(), t.ID, ev.SourceID)
		if err != nil {
			storeError(w, err, "destinations")
			return
		}
		for _, d := range all {
			if !d.Disabled && d.Matches(ev.Type) {
				dests = append(dests, d)
			}
		}
	}
	ids := make([]string, 0, len(dests))
	stamp := strconv.FormatInt(s.now().UnixNano(), 36)
	for _, d := range dests {
		if err := s.Store.SetDeliveryStatus(r.Context(), ev.ID, d.ID, store.StatusPending); err != nil {
			storeError(w, err, "delivery")
			return
		}
		// A replay task id of its own: the original may sit in the archive
		// under the plain id, and asynq would refuse the same id.
		taskID := queue.DeliveryTaskID(ev.ID, d.ID) + ":replay:" + stamp
		if err := s.Queue.EnqueueDelivery(r.Context(), queue.DeliveryPayload{EventID: ev.ID, DestinationID: d.ID}, taskID); err != nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "queue is unavailable; retry later")
			return
		}
		ids = append(ids, d.ID)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"event_id": ev.ID, "destination_ids": ids})
}
