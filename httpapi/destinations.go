package httpapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
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

const masked = "****"

// sensitiveHeader matches header names that carry credentials.
var sensitiveHeader = regexp.MustCompile(`(?i)auth|token|key|secret|signature|cookie|password`)

// maskHeaders hides the values of credential-bearing headers.
func maskHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if sensitiveHeader.MatchString(k) && !strings.EqualFold(k, "Idempotency-Key") {
			v = masked
		}
		out[k] = v
	}
	return out
}

// viewDestination is a destination as the API shows it: secret config
// fields, credential headers and secret URLs masked.
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
	env := d.Env
	if env == nil {
		env = map[string]string{}
	}
	types := d.EventTypes
	if types == nil {
		types = []string{}
	}
	return destinationView{ID: d.ID, SourceID: d.SourceID, Name: d.Name, Integration: d.Integration, URL: u,
		Config: cfg, Headers: maskHeaders(d.Headers), EventTypes: types, Env: env, Transform: d.Transform,
		RateLimitPerSecond: d.RateLimitPerSecond, Disabled: d.Disabled, DisabledReason: d.DisabledReason,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

type transformInput struct {
	Code    *string `json:"code"`
	Enabled *bool   `json:"enabled"`
}

type destinationInput struct {
	SourceID           *string            `json:"source_id"`
	Name               *string            `json:"name"`
	Integration        *string            `json:"integration"`
	URL                *string            `json:"url"`
	Config             map[string]*string `json:"config"`
	Headers            map[string]string  `json:"headers"`
	EventTypes         []string           `json:"event_types"`
	Env                map[string]string  `json:"env"`
	Transform          *transformInput    `json:"transform"`
	RateLimitPerSecond *float64           `json:"rate_limit_per_second"`
	Disabled           *bool              `json:"disabled"`
}

func (s *Server) createDestination(w http.ResponseWriter, r *http.Request, t store.Tenant) {
	var in destinationInput
	if !decode(w, r, &in) {
		return
	}
	if in.SourceID == nil || *in.SourceID == "" {
		writeFieldError(w, invalid("source_id", "is required"))
		return
	}
	if _, err := s.Store.GetSource(r.Context(), t.ID, *in.SourceID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeFieldError(w, invalid("source_id", "no source %q in this account", *in.SourceID))
		} else {
			storeError(w, err, "source")
		}
		return
	}
	if in.Integration == nil || *in.Integration == "" {
		writeFieldError(w, invalid("integration", "is required; one of %s", strings.Join(integrations.Names(), ", ")))
		return
	}
	now := s.now().UTC()
	d := store.Destination{ID: store.NewID("dst"), TenantID: t.ID, SourceID: *in.SourceID, Integration: *in.Integration,
		Config: map[string]string{}, CreatedAt: now}
	if err := s.applyDestination(r.Context(), &d, in, true); err != nil {
		writeInputError(w, err)
		return
	}
	if err := s.Store.SaveDestination(r.Context(), d); err != nil {
		storeError(w, err, "destination")
		return
	}
	writeJSON(w, http.StatusCreated, viewDestination(d))
}

// applyDestination validates input and applies it to d. On create every
// required field must be present; on PATCH only the given ones change.
func (s *Server) applyDestination(ctx context.Context, d *store.Destination, in destinationInput, create bool) error {
	if !create && in.SourceID != nil && *in.SourceID != d.SourceID {
		return invalid("source_id", "cannot be changed; create a destination on the other source")
	}
	if !create && in.Integration != nil && *in.Integration != d.Integration {
		return invalid("integration", "cannot be changed; create a new destination")
	}
	spec, ok := integrations.Lookup(d.Integration)
	if !ok {
		return invalid("integration", "%q is not supported; one of %s", d.Integration, strings.Join(integrations.Names(), ", "))
	}
	if in.Name != nil || create {
		if in.Name == nil || strings.TrimSpace(*in.Name) == "" || len(*in.Name) > 200 {
			return invalid("name", "is required, 1 to 200 characters")
		}
		d.Name = *in.Name
	}
	for k, v := range in.Config {
		if !knownField(spec, k) {
			return invalid("config."+k, "is not a config field of %s; expected %s", spec.Name, fieldNames(spec))
		}
		if v == nil || *v == "" {
			delete(d.Config, k)
		} else {
			d.Config[k] = *v
		}
	}
	for _, f := range spec.Fields {
		if f.Required && d.Config[f.Name] == "" {
			return invalid("config."+f.Name, "is required for %s (%s)", spec.Name, f.Label)
		}
	}
	if spec.Validate != nil {
		if err := spec.Validate(d.Config); err != nil {
			return invalid("config", "%v", err)
		}
	}
	if err := s.applyURL(ctx, d, spec, in.URL, create); err != nil {
		return err
	}
	if in.Headers != nil {
		for k := range in.Headers {
			if !validHeaderName(k) {
				return invalid("headers", "%q is not a valid header name", k)
			}
			if reservedHeader(k) {
				return invalid("headers", "%q is set by hookshift and cannot be overridden", k)
			}
		}
		d.Headers = in.Headers
	}
	if in.EventTypes != nil {
		for _, et := range in.EventTypes {
			if strings.TrimSpace(et) == "" || len(et) > 200 {
				return invalid("event_types", "entries must be event types like payment.succeeded (or payment.* for a family)")
			}
		}
		d.EventTypes = in.EventTypes
	} else if create && len(spec.DefaultEventTypes) > 0 {
		d.EventTypes = append([]string(nil), spec.DefaultEventTypes...)
	}
	if in.Env != nil {
		d.Env = in.Env
	}
	if in.Transform == nil && create && spec.DefaultTemplate != "" {
		if tpl, ok := spec.Template(spec.DefaultTemplate); ok {
			code, on := tpl.Code, true
			in.Transform = &transformInput{Code: &code, Enabled: &on}
		}
	}
	if in.Transform != nil {
		if err := s.applyTransform(d, in.Transform); err != nil {
			return err
		}
	}
	if in.RateLimitPerSecond != nil {
		v := *in.RateLimitPerSecond
		if v < 0 || math.IsNaN(v) || v > 10000 {
			return invalid("rate_limit_per_second", "must be between 0 (no limit) and 10000")
		}
		d.RateLimitPerSecond = v
	}
	if in.Disabled != nil {
		d.Disabled = *in.Disabled
		if !d.Disabled {
			d.DisabledReason = ""
		} else if d.DisabledReason == "" {
			d.DisabledReason = "disabled by the merchant"
		}
	}
	d.UpdatedAt = s.now().UTC()
	return nil
}

// applyURL settles the destination URL: from the config field that holds it
// (Slack, Discord), the given url, or the integration's default; then checks
// it against the egress policy.
func (s *Server) applyURL(ctx context.Context, d *store.Destination, spec outbound.Spec, given *string, create bool) error {
	field := "url"
	switch {
	case spec.Endpoint != nil: // built from the config (region, workspace, a key in the path)
		d.URL = spec.URLFor(d.Config)
	case spec.URLField != "":
		field = "config." + spec.URLField
		d.URL = d.Config[spec.URLField]
	case given != nil && *given != "":
		d.URL = *given
	case create || (given != nil && *given == ""):
		d.URL = spec.DefaultURL
	}
	if d.URL == "" {
		return invalid(field, "is required for %s: the https URL to deliver to", spec.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Egress.CheckURL(ctx, d.URL); err != nil {
		return invalid(field, "%v", err)
	}
	return nil
}

func (s *Server) applyTransform(d *store.Destination, in *transformInput) error {
	tr := store.Transform{Enabled: true}
	if d.Transform != nil {
		tr = *d.Transform
	}
	if in.Code != nil {
		tr.Code = *in.Code
	}
	if in.Enabled != nil {
		tr.Enabled = *in.Enabled
	}
	if tr.Code != "" {
		if err := s.Engine.Check(tr.Code); err != nil {
			var te *transformer.Error
			if errors.As(err, &te) {
				return &transformFieldError{te: te}
			}
			return invalid("transform.code", "%v", err)
		}
	} else if tr.Enabled {
		return invalid("transform.code", "is required when the transform is enabled")
	}
	tr.UpdatedAt = s.now().UTC()
	d.Transform = &tr
	return nil
}

// transformFieldError is a script refused at save time: 422 with line and
// column.
type transformFieldError struct{ te *transformer.Error }

func (e *transformFieldError) Error() string { return e.te.Error() }

func knownField(spec outbound.Spec, name string) bool {
	for _, f := range spec.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func fieldNames(spec outbound.Spec) string {
	names := make([]string, 0, len(spec.Fields))
	for _, f := range spec.Fields {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "no config fields"
	}
	return strings.Join(names, ", ")
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > 256 {
		return false
	}
	for _, c := range k {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func reservedHeader(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Host", "Content-Length", "Idempotency-Key", "Transfer-Encoding", "Connection":
		return true
	}
	return false
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
	var in destinationInput
	if !decode(w, r, &in) {
		return
	}
	if d.Config == nil {
		d.Config = map[string]string{}
	}
	if err := s.applyDestination(r.Context(), &d, in, false); err != nil {
		writeInputError(w, err)
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
