package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

type destinationView struct {
	ID                 string            `json:"id"`
	SourceID           string            `json:"source_id"`
	Name               string            `json:"name"`
	Integration        string            `json:"integration"`
	URL                string            `json:"url"`
	Config             map[string]string `json:"config"`
	Headers            map[string]string `json:"headers"`
	EventTypes         []string          `json:"event_types"`
	Env                map[string]string `json:"env"`
	SecretEnv          []string          `json:"secret_env"`
	Transform          *store.Transform  `json:"transform,omitempty"`
	RateLimitPerSecond float64           `json:"rate_limit_per_second,omitempty"`
	Disabled           bool              `json:"disabled"`
	DisabledReason     string            `json:"disabled_reason,omitempty"`
	Health             *healthView       `json:"health,omitempty"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
}

// healthView is a destination's endpoint health: its failure run and circuit.
type healthView struct {
	Circuit             string     `json:"circuit"` // closed, open or half_open
	ConsecutiveFailures int        `json:"consecutive_failures"`
	FailingSince        *time.Time `json:"failing_since,omitempty"`
	OpenUntil           *time.Time `json:"open_until,omitempty"`
}

// withHealth adds the destination's health to its view; a store failure
// leaves it out rather than failing the read.
func (s *Server) withHealth(ctx context.Context, v destinationView) destinationView {
	h, err := s.Store.GetHealth(ctx, v.ID)
	if err != nil {
		return v
	}
	hv := &healthView{Circuit: h.Circuit(s.now()), ConsecutiveFailures: h.ConsecutiveFailures}
	if !h.FailingSince.IsZero() {
		hv.FailingSince = &h.FailingSince
	}
	if !h.OpenUntil.IsZero() {
		hv.OpenUntil = &h.OpenUntil
	}
	v.Health = hv
	return v
}

const masked = rules.Masked

// maskHeaders hides every header value but the known-harmless ones.
func maskHeaders(h map[string]string) map[string]string { return outbound.MaskHeaders(h) }

// viewDestination is a destination as the API shows it: secret config
// fields, secret env values, credential headers and secret URLs masked.
func viewDestination(d store.Destination) destinationView {
	spec, _ := integrations.Lookup(d.Integration)
	secret := spec.SecretFields()
	cfg := make(map[string]string, len(d.Config))
	for k, v := range d.Config {
		if secret[k] {
			v = masked
		}
		cfg[k] = v
	}
	u := spec.ShownURL(d.URL)
	env := rules.MaskedEnv(d)
	types := d.EventTypes
	if types == nil {
		types = []string{}
	}
	return destinationView{ID: d.ID, SourceID: d.SourceID, Name: d.Name, Integration: d.Integration, URL: u,
		Config: cfg, Headers: maskHeaders(d.Headers), EventTypes: types, Env: env, SecretEnv: rules.SecretEnvNames(d), Transform: d.Transform,
		RateLimitPerSecond: d.RateLimitPerSecond, Disabled: d.Disabled, DisabledReason: d.DisabledReason,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// checker applies the destination rules with this server's egress policy,
// script engine, limits and clock.
func (s *Server) checker() *rules.Checker {
	return &rules.Checker{Egress: s.Egress, Engine: s.Engine, Limits: s.Limits, Now: s.now}
}

func (s *Server) createDestination(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	var in rules.DestinationInput
	if !decode(w, r, &in) {
		return
	}
	d, err := rules.NewDestination(t.ID, in, s.now())
	if err != nil {
		writeRuleError(w, err)
		return
	}
	if _, err := s.Store.GetSource(r.Context(), t.ID, d.SourceID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeFieldError(w, invalid("source_id", "no source %q in this account", d.SourceID))
		} else {
			storeError(w, err, "source")
		}
		return
	}
	if err := s.checker().ApplyDestination(r.Context(), &d, in, true); err != nil {
		writeRuleError(w, err)
		return
	}
	max := s.Limits.WithDefaults().MaxDestinations
	if err := s.Store.CreateDestination(r.Context(), d, max); err != nil {
		if errors.Is(err, store.ErrLimit) {
			writeRuleError(w, rules.TooMany("destinations", max))
			return
		}
		storeError(w, err, "destination")
		return
	}
	writeJSON(w, http.StatusCreated, viewDestination(d))
}

// writeRuleError answers a rule's refusal: a script that does not compile
// 422 with line and column, a limit or an unsendable value 422 with its code
// (limit_exceeded, invalid_field), other field errors 400 invalid_<field>.
func writeRuleError(w http.ResponseWriter, err error) {
	var te *transformer.Error
	if errors.As(err, &te) {
		writeTransformError(w, te)
		return
	}
	var fe *rules.FieldError
	if errors.As(err, &fe) {
		if fe.Code != "" {
			writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: errorDetail{Code: fe.Code, Message: fe.Error(), Field: fe.Field}})
			return
		}
		writeFieldError(w, invalid(fe.Field, "%s", fe.Msg))
		return
	}
	writeError(w, http.StatusBadRequest, "invalid", err.Error())
}

func (s *Server) listDestinations(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	ds, err := s.Store.ListDestinations(r.Context(), t.ID, r.URL.Query().Get("source_id"))
	if err != nil {
		storeError(w, err, "destinations")
		return
	}
	out := make([]destinationView, 0, len(ds))
	for _, d := range ds {
		out = append(out, s.withHealth(r.Context(), viewDestination(d)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (s *Server) getDestination(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	d, err := s.Store.GetDestination(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "destination")
		return
	}
	writeJSON(w, http.StatusOK, s.withHealth(r.Context(), viewDestination(d)))
}

func (s *Server) patchDestination(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	d, err := s.Store.GetDestination(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		storeError(w, err, "destination")
		return
	}
	var in rules.DestinationInput
	if !decode(w, r, &in) {
		return
	}
	if err := s.checker().ApplyDestination(r.Context(), &d, in, false); err != nil {
		writeRuleError(w, err)
		return
	}
	if err := s.Store.SaveDestination(r.Context(), d); err != nil {
		storeError(w, err, "destination")
		return
	}
	writeJSON(w, http.StatusOK, viewDestination(d))
}

func (s *Server) deleteDestination(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	if err := s.Store.DeleteDestination(r.Context(), t.ID, r.PathValue("id")); err != nil {
		storeError(w, err, "destination")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
