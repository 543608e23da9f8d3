package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/queue"
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

// writeInputError answers a validation failure from applyDestination.
func writeInputError(w http.ResponseWriter, err error) {
	var tfe *transformFieldError
	if errors.As(err, &tfe) {
		writeTransformError(w, tfe.te)
		return
	}
	if !writeFieldError(w, err) {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
	}
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
	res, err := s.Engine.Run(r.Context(), transformer.Script{TenantID: t.ID, Code: in.Code}, transformer.Input{
		Method: http.MethodPost, URL: in.URL, EventType: in.EventType, Payload: in.Payload, Env: in.Env,
	})
	s.writeTransformResult(w, res, err)
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
	res, err := queue.BuildRequest(r.Context(), s.Engine, ev, d)
	if err == nil && !res.Cancel {
		spec, _ := integrations.Lookup(d.Integration)
		d.Headers = maskHeaders(d.Headers)
		h := queue.Headers(spec, d, res.Headers, ev.ID)
		res.Headers = maskHeaders(flatten(h))
		if res.URL == d.URL { // the URL may be the credential (Slack, Discord)
			res.URL = spec.ShownURL(res.URL)
		}
	}
	s.writeTransformResult(w, res, err)
}

func (s *Server) writeTransformResult(w http.ResponseWriter, res transformer.Result, err error) {
	var te *transformer.Error
	if errors.As(err, &te) {
		writeTransformError(w, te)
		return
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the transform could not run: "+err.Error())
		return
	}
	if res.Logs == nil {
		res.Logs = []string{}
	}
	if res.Headers == nil {
		res.Headers = map[string]string{}
	}
	writeJSON(w, http.StatusOK, res)
}

func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k := range h {
		out[k] = h.Get(k)
	}
	return out
}

// eventTypeOf reads the envelope's top-level "type".
func eventTypeOf(payload json.RawMessage) string {
	var env struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(payload, &env)
	return env.Type
}
