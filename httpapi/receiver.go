package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
)

type receiveResponse struct {
	EventID   string `json:"event_id"`
	Duplicate bool   `json:"duplicate"`
}

// receive is POST /v1/webhooks/{source_id}: verify, then enqueue. The enqueue
// is the only write, and 2xx is answered only once Redis holds the task.
func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	kind, outcome := s.accept(w, r)
	s.Metrics.Received(kind, outcome, time.Since(start))
}

// accept does the receiver's work and names the outcome for the metrics.
func (s *Server) accept(w http.ResponseWriter, r *http.Request) (kindName, outcome string) {
	timeout := s.receiveTimeout()
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	now := s.now()
	// One logger context for the request; the event's fields are added to
	// each line below (another With would copy the context per webhook).
	reqID, _ := r.Context().Value(requestIDKey{}).(string)
	log := s.Log.With().Str("request_id", reqID).Str("source_id", r.PathValue("source_id")).Logger()

	ready, err := s.sourceCache().get(ctx, s.Store, r.PathValue("source_id"), now)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "unknown_source", "no source with this id; check the URL the platform posts to")
		return "", "unknown_source"
	}
	if err != nil {
		log.Error().Err(err).Msg("receiver cannot read source")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "storage is unavailable; retry later")
		return "", "unavailable"
	}
	src := ready.src
	if ready.problem != "" {
		writeError(w, http.StatusInternalServerError, "source_misconfigured", ready.problem)
		return src.Kind, "source_misconfigured"
	}

	maxBody := s.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	buf := s.bodyBuffer()
	defer s.bodies.Put(buf)
	body, err := readBody(http.MaxBytesReader(w, r.Body, maxBody), r.ContentLength, maxBody, buf)
	*buf = body[:0] // keep the grown buffer for the next request
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("body is over the %d-byte limit", maxBody))
			return src.Kind, "body_too_large"
		}
		writeError(w, http.StatusBadRequest, "unreadable_body", "could not read the request body: "+err.Error())
		return src.Kind, "unreadable_body"
	}

	// Every verifier bounds the body's nesting before it parses anything, and
	// does the work of maxLive secrets whatever the source holds, so an
	// unauthenticated caller learns neither from the answer nor its timing.
	maxLive := s.maxLiveSecrets()
	ev, err := ready.verifier.Verify(inbound.Request{Header: r.Header, Body: body, RemoteIP: remoteIP(r),
		MaxDepth: s.MaxJSONDepth, KeySlots: maxLive}, liveSecrets(src, now, maxLive), now)
	switch {
	case errors.Is(err, inbound.ErrSignature):
		log.Info().Str("reason", err.Error()).Msg("webhook rejected: signature")
		writeError(w, http.StatusUnauthorized, "invalid_signature", err.Error())
		return src.Kind, "invalid_signature"
	case errors.Is(err, inbound.ErrBody):
		writeError(w, http.StatusBadRequest, "invalid_body", err.Error())
		return src.Kind, "invalid_body"
	case err != nil:
		log.Error().Err(err).Msg("webhook cannot be verified: source misconfigured")
		writeError(w, http.StatusInternalServerError, "source_misconfigured", err.Error())
		return src.Kind, "source_misconfigured"
	}
	if len(ev.ID) > maxProviderIDLen {
		writeError(w, http.StatusBadRequest, "invalid_body", fmt.Sprintf("event id is %d characters; at most %d are accepted", len(ev.ID), maxProviderIDLen))
		return src.Kind, "invalid_body"
	}
	if jc, ok := ready.verifier.(inbound.JSONChecker); !(ok && jc.ChecksJSON()) && !json.Valid(body) {
		writeError(w, http.StatusBadRequest, "invalid_body", "body is not valid JSON; hookshift forwards JSON events")
		return src.Kind, "invalid_body"
	}

	eventID := store.EventID(src.ID, ev.ID)
	// One round trip, shared with the requests that arrived together (group
	// commit, queue.IngestBatcher): the enqueue, the dedupe marker's check
	// beside it and, with durable acknowledgement, the replicas'
	// confirmation after it, on the same connection. A task still queued
	// refuses the enqueue; the marker answers for an event already fanned
	// out. When the marker is found, a task the enqueue made all the same is
	// a late duplicate that the fan-out drops (its receipt does not hold the
	// marker): answered as a duplicate either way. A duplicate waits for the
	// replicas too: its original may have been answered 503 not_replicated.
	res, qerr := s.ingestBatcher().Enqueue(ctx, queue.IngestPayload{
		Receipt: newReceipt(), EventID: eventID, TenantID: src.TenantID, SourceID: src.ID,
		ProviderID: ev.ID, Type: ev.Type, ReceivedAt: now.UTC(), Body: body,
	})
	if errors.Is(qerr, queue.ErrNotReplicated) {
		log.Warn().Str("event_id", eventID).Str("event_type", ev.Type).Err(qerr).Msg("webhook not acknowledged: replicas did not confirm")
		writeError(w, http.StatusServiceUnavailable, "not_replicated",
			"the event is not yet held by enough Redis replicas; retry later (a retry is answered as a duplicate if it was queued)")
		return src.Kind, "not_replicated"
	}
	if qerr != nil {
		log.Error().Str("event_id", eventID).Str("event_type", ev.Type).Err(qerr).Msg("receiver cannot enqueue")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "queue is unavailable; retry later")
		return src.Kind, "unavailable"
	}
	if res.SeenErr != nil {
		// The task is durable, so the answer is 2xx (a 503 would make the
		// platform retry an event already queued); only the duplicate flag
		// of a late repeat is lost, and the fan-out still drops that repeat.
		log.Warn().Str("event_id", eventID).Str("event_type", ev.Type).Err(res.SeenErr).Msg("receiver cannot check the dedupe marker; answering from the enqueue alone")
	}
	dup := res.Queued || res.Seen
	status := http.StatusAccepted
	if dup {
		status = http.StatusOK
	}
	log.Info().Str("event_id", eventID).Str("event_type", ev.Type).Bool("duplicate", dup).Msg("webhook accepted")
	writeJSON(w, status, receiveResponse{EventID: eventID, Duplicate: dup})
	if dup {
		return src.Kind, "duplicate"
	}
	return src.Kind, "accepted"
}

// receiveTimeout bounds the receiver's Redis work for one webhook.
func (s *Server) receiveTimeout() time.Duration {
	if s.ReceiveTimeout > 0 {
		return s.ReceiveTimeout
	}
	return 3 * time.Second
}

// bodyBuffer is a pooled buffer for one request's body; the handler puts it
// back when it returns (nothing keeps the body past that: the enqueue copies
// it into the task).
func (s *Server) bodyBuffer() *[]byte {
	if b, ok := s.bodies.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

// readBody reads r into buf's storage in one pass: sized up front by the
// declared Content-Length (up to max), so a body costs no allocation beyond
// its own bytes, and no growth-by-doubling copies. r is already capped at max.
func readBody(r io.Reader, contentLength, max int64, buf *[]byte) ([]byte, error) {
	b := (*buf)[:0]
	if want := int(min(contentLength, max)) + 1; contentLength >= 0 && cap(b) < want {
		b = make([]byte, 0, want) // +1: the read that sees EOF needs room
	} else if cap(b) == 0 {
		b = make([]byte, 0, 4096)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// maxLiveSecrets is the live-secret limit per source.
func (s *Server) maxLiveSecrets() int {
	if s.MaxLiveSecrets > 0 {
		return s.MaxLiveSecrets
	}
	return store.DefaultMaxLiveSecrets
}

// liveSecrets returns the source's secrets valid at now, newest first (the
// current one, then rotated-out ones by expiry), at most max of them: a
// source saved before the limit existed may hold more, and each one tried
// costs a pass over the body.
func liveSecrets(src store.Source, now time.Time, max int) []string {
	live := make([]store.Secret, 0, len(src.Secrets))
	for _, sec := range src.Secrets {
		if sec.ExpiresAt.IsZero() || now.Before(sec.ExpiresAt) {
			live = append(live, sec)
		}
	}
	slices.SortStableFunc(live, func(a, b store.Secret) int {
		switch {
		case a.ExpiresAt.IsZero() && b.ExpiresAt.IsZero():
			return 0
		case a.ExpiresAt.IsZero():
			return -1
		case b.ExpiresAt.IsZero():
			return 1
		}
		return b.ExpiresAt.Compare(a.ExpiresAt)
	})
	out := make([]string, 0, min(len(live), max))
	for _, sec := range live[:min(len(live), max)] {
		out = append(out, sec.Value)
	}
	return out
}

// maxProviderIDLen bounds a provider's event id, which is stored with the
// event; real ids are a few dozen characters.
const maxProviderIDLen = 256

func newReceipt() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func remoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}
