package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
)

// eventQueryParams are the query parameters /v1/events takes; any other is
// refused, so a misspelt filter is not silently ignored.
var eventQueryParams = []string{"type", "customer_id", "email", "payment_id", "source_id", "limit", "cursor"}

// maxFilterLen bounds a search filter value; ids and emails are far shorter.
const maxFilterLen = 200

// listEvents is the event log and its search: every filter given must
// match, newest first, cursor-paginated. Without filters it lists all the
// tenant's events.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(eventQueryParams, k) {
			writeFieldError(w, invalid(k, "is not a query parameter of /v1/events; expected %s", strings.Join(eventQueryParams, ", ")))
			return
		}
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeFieldError(w, invalid("limit", "must be a whole number from 1 to 500"))
			return
		}
		limit = n
	}
	f := store.EventFilter{Type: q.Get("type"), SourceID: q.Get("source_id"), CustomerID: q.Get("customer_id"),
		Email: q.Get("email"), PaymentID: q.Get("payment_id")}
	for _, c := range []struct{ field, v string }{
		{"type", f.Type}, {"source_id", f.SourceID}, {"customer_id", f.CustomerID}, {"email", f.Email}, {"payment_id", f.PaymentID},
	} {
		if len(c.v) > maxFilterLen || strings.ContainsFunc(c.v, unicode.IsControl) {
			writeFieldError(w, invalid(c.field, "must be at most %d characters, without control characters", maxFilterLen))
			return
		}
	}
	if f.Email != "" && !strings.Contains(f.Email, "@") {
		writeFieldError(w, invalid("email", "must be an email address"))
		return
	}
	evs, next, err := s.Store.SearchEvents(r.Context(), t.ID, f, limit, q.Get("cursor"))
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
	dests, err := rules.ReplayTargets(r.Context(), s.Store, ev.TenantID, ev, in.DestinationID)
	if errors.Is(err, rules.ErrNotOnSource) {
		writeFieldError(w, invalid("destination_id", "no destination %q on this event's source", in.DestinationID))
		return
	}
	if err != nil {
		storeError(w, err, "destinations")
		return
	}
	ids := make([]string, 0, len(dests))
	stamp := replayStamp(s.now())
	for _, d := range dests {
		if err := s.Store.SetDeliveryStatus(r.Context(), ev.ID, d.ID, store.StatusPending); err != nil {
			storeError(w, err, "delivery")
			return
		}
		taskID := queue.ReplayTaskID(ev.ID, d.ID, stamp)
		if err := s.Queue.EnqueueDelivery(r.Context(), queue.DeliveryFor(ev.ID, ev.Type, d), taskID); err != nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "queue is unavailable; retry later")
			return
		}
		ids = append(ids, d.ID)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"event_id": ev.ID, "destination_ids": ids})
}

// replayStamp tells one replay request's tasks from another's.
func replayStamp(now time.Time) string { return strconv.FormatInt(now.UnixNano(), 36) }

// defaultReplayPerSecond paces a destination replay so it cannot crowd out
// live traffic or overrun the destination; a lower rate limit of the
// destination's own wins.
const defaultReplayPerSecond = 50

// replayDestination runs a destination's failed deliveries since a time
// again, through its current script: the way to recover after fixing a
// script or an endpoint. It answers 202 with how many deliveries the replay
// covers and hands the work to a durable replay task (queue.Replayer), which
// claims and paces them oldest first.
func (s *Server) replayDestination(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	d, err := s.Store.GetDestination(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "destination")
		return
	}
	var in struct {
		Since  string `json:"since"`
		Status string `json:"status"`
	}
	if !decode(w, r, &in) {
		return
	}
	since, err := time.Parse(time.RFC3339, in.Since)
	if err != nil {
		writeFieldError(w, invalid("since", "is required, an RFC 3339 time such as 2026-03-01T00:00:00Z"))
		return
	}
	if in.Status != "" && in.Status != store.StatusFailed {
		writeFieldError(w, invalid("status", "must be %q: only failed deliveries are replayed", store.StatusFailed))
		return
	}
	if d.Disabled {
		writeError(w, http.StatusConflict, "destination_disabled", "destination is disabled ("+d.DisabledReason+"); enable it before replaying")
		return
	}
	// Count what the replay will cover now; the worker claims and paces it.
	n, more, err := s.countFailed(r.Context(), d.ID, since)
	if err != nil {
		storeError(w, err, "failed deliveries")
		return
	}
	rate := float64(defaultReplayPerSecond)
	if d.RateLimitPerSecond > 0 && d.RateLimitPerSecond < rate {
		rate = d.RateLimitPerSecond
	}
	if n > 0 {
		err := s.Queue.EnqueueReplay(r.Context(), queue.ReplayPayload{DestinationID: d.ID, Since: since, PerSecond: rate, Stamp: replayStamp(s.now())})
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "queue is unavailable; retry later")
			return
		}
	}
	out := map[string]any{"destination_id": d.ID, "replayed": n, "per_second": rate}
	if more {
		out["more"] = true // the rest after this replay is done, with another request
	}
	writeJSON(w, http.StatusAccepted, out)
}

// countFailed counts a destination's deliveries still failed since a time,
// up to queue.MaxReplay (more reports that there are others beyond it).
func (s *Server) countFailed(ctx context.Context, destID string, since time.Time) (n int, more bool, err error) {
	for cursor := ""; ; {
		fs, next, err := s.Store.FailedDeliveries(ctx, destID, since, 1000, cursor, "")
		if err != nil {
			return 0, false, err
		}
		n += len(fs)
		if n >= queue.MaxReplay {
			return queue.MaxReplay, true, nil
		}
		if next == "" {
			return n, false, nil
		}
		cursor = next
	}
}

// destinationFailures answers how many of a destination's deliveries are
// still failed since a time: what a replay would cover, and, while one runs,
// its progress (the count falls as replayed deliveries are claimed and sent).
func (s *Server) destinationFailures(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	d, err := s.Store.GetDestination(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "destination")
		return
	}
	q := r.URL.Query()
	for k := range q {
		if k != "since" {
			writeFieldError(w, invalid(k, "is not a parameter of this endpoint; expected since"))
			return
		}
	}
	since, err := time.Parse(time.RFC3339, q.Get("since"))
	if err != nil {
		writeFieldError(w, invalid("since", "is required, an RFC 3339 time such as 2026-03-01T00:00:00Z"))
		return
	}
	n, more, err := s.countFailed(r.Context(), d.ID, since)
	if err != nil {
		storeError(w, err, "failed deliveries")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"destination_id": d.ID, "since": since.UTC(), "failed": n, "more": more})
}
