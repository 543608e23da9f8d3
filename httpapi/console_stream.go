package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hookshift/hookshift/store"
)

// The console's live updates are server-sent events fed by polling: each
// open stream reads its tenant's newest events and their deliveries' states
// every StreamPoll, and sends what changed. The receive path and the workers
// do nothing for the console (no publish, no extra write), so an open
// console costs only these reads, bounded by the per-session stream limit.

// streamRecent is how many of the tenant's newest events a stream watches
// for delivery changes, besides the one named by ?event_id.
const streamRecent = 20

// streamLimiter bounds the open streams per session (or per tenant for a
// bearer token) in this process.
type streamLimiter struct {
	mu   sync.Mutex
	max  int
	open map[string]int
}

func newStreamLimiter(max int) *streamLimiter {
	if max <= 0 {
		max = 3
	}
	return &streamLimiter{max: max, open: map[string]int{}}
}

func (l *streamLimiter) acquire(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] >= l.max {
		return false
	}
	l.open[key]++
	return true
}

func (l *streamLimiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// streamKey names who holds a stream: the session (its cookie, hashed into
// nothing longer than needed) or the bearer's tenant.
func streamKey(r *http.Request, t store.Tenant) string {
	if bearer(r) == "" {
		if c, err := r.Cookie(sessionCookie); err == nil {
			return "session:" + c.Value
		}
	}
	return "tenant:" + t.ID
}

// deliveryChange is what a stream sends when a delivery's state moves.
type deliveryChange struct {
	EventID       string    `json:"event_id"`
	DestinationID string    `json:"destination_id"`
	Status        string    `json:"status"`
	AttemptCount  int       `json:"attempt_count"`
	LastError     string    `json:"last_error,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// streamWriteTimeout bounds one write to a stream; the server's own
// WriteTimeout would otherwise cut every stream after 30 s.
const streamWriteTimeout = 10 * time.Second

func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, t store.Tenant, lim *streamLimiter) {
	watch := r.URL.Query().Get("event_id")
	if watch != "" {
		if _, err := s.Store.GetEvent(r.Context(), t.ID, watch); err != nil {
			storeError(w, err, "event")
			return
		}
	}
	key := streamKey(r, t)
	if !lim.acquire(key) {
		writeError(w, http.StatusTooManyRequests, "too_many_streams",
			fmt.Sprintf("at most %d live streams per session; close another console tab", lim.max))
		return
	}
	defer lim.release(key)

	// The baseline is read before the answer starts: what a client sees
	// after the stream opened is what changed after its 200.
	st := &streamState{seen: map[string]bool{}, states: map[string]deliveryChange{}}
	if err := st.poll(r, s.Store, t.ID, watch, nil); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
		return
	}

	o := s.Console
	poll, beat, maxAge := orDefault(o.StreamPoll, 2*time.Second), orDefault(o.StreamHeartbeat, 15*time.Second), orDefault(o.StreamMaxAge, 10*time.Minute)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events through as they come
	w.WriteHeader(http.StatusOK)
	send := func(chunk string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := fmt.Fprint(w, chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 3000\n\n") {
		return
	}

	ctx := r.Context()
	tick, hb, end := time.NewTicker(poll), time.NewTicker(beat), time.NewTimer(maxAge)
	defer tick.Stop()
	defer hb.Stop()
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-o.Closing:
			return
		case <-hb.C:
			if !send(": ping\n\n") {
				return
			}
		case <-tick.C:
			var out []string
			err := st.poll(r, s.Store, t.ID, watch, func(kind string, v any) {
				b, _ := json.Marshal(v)
				out = append(out, "event: "+kind+"\ndata: "+string(b)+"\n\n")
			})
			if err != nil {
				continue // Redis is away: try again at the next tick
			}
			for _, c := range out {
				if !send(c) {
					return
				}
			}
		}
	}
}

// streamState is what one stream has seen; a poll reports the difference.
type streamState struct {
	seen   map[string]bool           // event ids among the newest, last poll
	states map[string]deliveryChange // by event id + "/" + destination id
}

// poll reads the newest events and their deliveries and calls emit (nil on
// the first poll, which only sets the baseline) for each new event, oldest
// first, and each delivery whose status, attempts or time moved.
func (st *streamState) poll(r *http.Request, st0 *store.Store, tenantID, watch string, emit func(kind string, v any)) error {
	evs, _, err := st0.ListEvents(r.Context(), tenantID, streamRecent, "")
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(evs)+1)
	seen := make(map[string]bool, len(evs))
	var fresh []store.Event
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		ev := evs[i]
		seen[ev.ID] = true
		ids = append(ids, ev.ID)
		if !st.seen[ev.ID] {
			ev.Payload = nil
			fresh = append(fresh, ev)
		}
	}
	switch {
	case emit == nil:
	case len(fresh) == streamRecent:
		// Every event read is new: more may have come than one read
		// shows. The client reloads its list instead of missing some.
		emit("reset", map[string]any{"reason": "more new events than the stream sends at once; reload the list"})
	default:
		for _, ev := range fresh {
			emit("event", ev)
		}
	}
	if watch != "" && !seen[watch] {
		ids = append(ids, watch)
	}
	states, err := st0.DeliveryStates(r.Context(), ids)
	if err != nil {
		return err
	}
	next := make(map[string]deliveryChange, len(st.states))
	for _, id := range ids {
		for _, d := range states[id] {
			c := deliveryChange{EventID: id, DestinationID: d.DestinationID, Status: d.Status,
				AttemptCount: d.AttemptCount, LastError: d.LastError, UpdatedAt: d.UpdatedAt}
			k := id + "/" + d.DestinationID
			next[k] = c
			if prev, ok := st.states[k]; emit != nil && (!ok || prev.Status != c.Status || prev.AttemptCount != c.AttemptCount || !prev.UpdatedAt.Equal(c.UpdatedAt)) {
				emit("delivery", c)
			}
		}
	}
	st.seen, st.states = seen, next
	return nil
}
