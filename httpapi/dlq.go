package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookshift/hookshift/queue"
)

// Bounds of the dead-letter endpoints.
const (
	defaultDLQLimit = 50
	maxDLQLimit     = 500  // entries per page
	maxDLQReplayIDs = 1000 // ids per replay request; more in several requests, or "all"
)

// operatorRoutes are the root-only operations that work whether or not
// /monitoring/ is writable: the dead letters, through asynq's Inspector.
func (s *Server) operatorRoutes(mux *http.ServeMux) {
	if s.Store != nil { // a Server without storage (e.g. serving the console shell alone) has no dead letters
		s.deadLetters = queue.NewDeadLetters(s.Store.Redis(), s.Store)
	}
	mux.HandleFunc("GET /v1/dlq", s.rootOnly(s.listDLQ))
	mux.HandleFunc("POST /v1/dlq/replay", s.rootOnly(s.replayDLQ))
}

// listDLQ lists dead-lettered deliveries, newest first, cursor-paginated.
func (s *Server) listDLQ(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "limit" && k != "cursor" {
			writeFieldError(w, invalid(k, "is not a parameter of GET /v1/dlq; expected limit and cursor"))
			return
		}
	}
	limit := defaultDLQLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDLQLimit {
			writeFieldError(w, invalid("limit", "must be a whole number from 1 to %d", maxDLQLimit))
			return
		}
		limit = n
	}
	data, next, err := s.deadLetters.List(r.Context(), limit, q.Get("cursor"))
	if errors.Is(err, queue.ErrBadCursor) {
		writeFieldError(w, invalid("cursor", "%v", err))
		return
	}
	if err != nil {
		log := s.reqLog(r)
		log.Error().Err(err).Msg("list dead letters")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "queue is unavailable; retry later")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "next_cursor": next})
}

// replayDLQ runs dead letters again: all of them, or the ids given (each
// checked first; one unknown id and nothing runs).
func (s *Server) replayDLQ(w http.ResponseWriter, r *http.Request) {
	var in struct {
		All *bool    `json:"all"`
		IDs []string `json:"ids"`
	}
	if !decode(w, r, &in) {
		return
	}
	all := in.All != nil && *in.All
	switch {
	case in.All != nil && !*in.All && in.IDs == nil:
		writeFieldError(w, invalid("all", `must be true to replay every dead letter; or send "ids" instead`))
		return
	case all && in.IDs != nil:
		writeFieldError(w, invalid("ids", `cannot be combined with "all": send {"all": true} or {"ids": [...]}`))
		return
	case !all && len(in.IDs) == 0:
		writeFieldError(w, invalid("ids", `is required (a non-empty list of dead-letter ids from GET /v1/dlq), or send {"all": true}`))
		return
	case len(in.IDs) > maxDLQReplayIDs:
		writeFieldError(w, invalid("ids", "holds %d ids; at most %d per request", len(in.IDs), maxDLQReplayIDs))
		return
	}
	for _, id := range in.IDs {
		if strings.TrimSpace(id) == "" || len(id) > 256 {
			writeFieldError(w, invalid("ids", "each id must be a non-empty dead-letter id of at most 256 characters"))
			return
		}
	}
	var n int
	var err error
	if all {
		n, err = s.deadLetters.ReplayAll(r.Context())
	} else {
		n, err = s.deadLetters.Replay(r.Context(), in.IDs)
	}
	var unknown *queue.UnknownIDsError
	if errors.As(err, &unknown) {
		fe := invalid("ids", "%v; nothing was replayed", err)
		fe.status = http.StatusUnprocessableEntity
		writeFieldError(w, fe)
		return
	}
	if err != nil {
		log := s.reqLog(r)
		log.Error().Err(err).Int("replayed", n).Msg("replay dead letters")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "queue is unavailable; retry later ("+strconv.Itoa(n)+" replayed before it failed)")
		return
	}
	log := s.reqLog(r)
	log.Info().Int("replayed", n).Bool("all", all).Msg("dead letters replayed")
	writeJSON(w, http.StatusAccepted, map[string]any{"replayed": n})
}
