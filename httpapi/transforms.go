package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/queue/dispatch"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

type transformErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Kind    string `json:"kind"`
		Message string `json:"message"`
		Line    int    `json:"line,omitempty"`
		Column  int    `json:"column,omitempty"`
	} `json:"error"`
	Logs []string `json:"logs"`
}

// writeTransformError answers 422 with the script's message, line and logs.
func writeTransformError(w http.ResponseWriter, te *transformer.Error) {
	var b transformErrorBody
	b.Error.Code, b.Error.Kind, b.Error.Message = "transform_error", te.Kind, te.Message
	b.Error.Line, b.Error.Column = te.Line, te.Column
	b.Logs = te.Logs
	if b.Logs == nil {
		b.Logs = []string{}
	}
	writeJSON(w, http.StatusUnprocessableEntity, b)
}

type transformTestInput struct {
	Code      string            `json:"code"`
	Payload   json.RawMessage   `json:"payload"`
	EventType string            `json:"event_type"`
	URL       string            `json:"url"`
	Env       map[string]string `json:"env"`
	EventID   string            `json:"event_id"` // a stored event of the tenant, in place of payload
}

// testTransform runs a script against a sample payload and returns the
// request it would make, sending nothing.
func (s *Server) testTransform(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	var in transformTestInput
	if !decode(w, r, &in) {
		return
	}
	if in.Code == "" {
		writeFieldError(w, invalid("code", "is required: a script defining function handler(webhook)"))
		return
	}
	if in.EventID != "" { // the console's "test on a stored event"
		if len(in.Payload) != 0 {
			writeFieldError(w, invalid("event_id", "and payload are exclusive: give one"))
			return
		}
		ev, err := s.Store.GetEvent(r.Context(), t.ID, in.EventID)
		if err != nil {
			storeError(w, err, "event")
			return
		}
		in.Payload = ev.Payload
		if in.EventType == "" {
			in.EventType = ev.Type
		}
	}
	if len(in.Payload) == 0 || in.Payload[0] != '{' {
		writeFieldError(w, invalid("payload", "is required (or event_id of a stored event): the sample event as a JSON object"))
		return
	}
	if in.EventType == "" {
		in.EventType = eventTypeOf(in.Payload)
	}
	if in.URL == "" {
		in.URL = "https://example.com/webhook"
	}
	// A script test is a preview for a plain HTTP destination with this
	// script, URL and env: the same dispatch unit as a delivery.
	dest := store.Destination{ID: "dst_test", TenantID: t.ID, Integration: "http", URL: in.URL, Env: in.Env,
		Transform: &store.Transform{Code: in.Code, Enabled: true}}
	s.writePreview(w, r, store.Event{ID: "evt_test", TenantID: t.ID, Type: in.EventType, Payload: in.Payload}, dest)
}

// testDestination runs a destination's own script, URL, env and headers
// against a sample payload, the same way a delivery would, sending nothing.
func (s *Server) testDestination(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	d, err := s.Store.GetDestination(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "destination")
		return
	}
	var in struct {
		Payload   json.RawMessage `json:"payload"`
		EventType string          `json:"event_type"`
		EventID   string          `json:"event_id"`
		// The console editor's unsaved script and env, run in place of the
		// saved ones so a test goes through the delivery's own path.
		Code *string           `json:"code"`
		Env  map[string]string `json:"env"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Code != nil {
		if *in.Code == "" {
			writeFieldError(w, invalid("code", "must not be empty: a script defining function handler(webhook), or leave code out to run the saved one"))
			return
		}
		d.Transform = &store.Transform{Code: *in.Code, Enabled: true}
	}
	if in.Env != nil {
		d.Env = in.Env
	}
	// The preview is answered to the caller: the script sees secret env
	// values masked, as the API shows them, or it could echo them back.
	d.Env = rules.MaskedEnv(d)
	ev := store.Event{ID: "evt_test", Type: in.EventType, Payload: in.Payload}
	if in.EventID != "" {
		if ev, err = s.Store.GetEvent(r.Context(), t.ID, in.EventID); err != nil {
			storeError(w, err, "event")
			return
		}
	} else if len(in.Payload) == 0 || in.Payload[0] != '{' {
		writeFieldError(w, invalid("payload", "is required (or event_id of a stored event): the sample event as a JSON object"))
		return
	}
	if ev.Type == "" {
		ev.Type = eventTypeOf(ev.Payload)
	}
	s.writePreview(w, r, ev, d)
}

// writePreview prepares the delivery of ev to dest exactly as the worker
// does (transform, headers, credentials, signature) and answers with it
// masked, sending nothing.
func (s *Server) writePreview(w http.ResponseWriter, r *http.Request, ev store.Event, dest store.Destination) {
	p, err := (&dispatch.Sender{Engine: s.Engine, Now: s.Now, Preview: true}).Prepare(transformer.AsPreview(r.Context()), ev, dest)
	var de *dispatch.Error
	switch {
	case errors.As(err, &de) && de.Script != nil:
		writeTransformError(w, de.Script)
	case errors.As(err, &de) && de.Outcome.Kind == outbound.Permanent:
		writeError(w, http.StatusUnprocessableEntity, "not_sendable", de.Error())
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		writeJSON(w, http.StatusOK, p.Display())
	}
}

// eventTypeOf reads the envelope's top-level "type".
func eventTypeOf(payload json.RawMessage) string {
	var env struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(payload, &env)
	return env.Type
}
