package rules

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/egress"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

// TransformInput is a destination's script as the API takes it.
type TransformInput struct {
	Code    *string `json:"code"`
	Enabled *bool   `json:"enabled"`
}

// DestinationInput is a destination as the API takes it, on create and on
// PATCH. A nil field is not given: on PATCH it keeps the stored value.
type DestinationInput struct {
	SourceID    *string            `json:"source_id"`
	Name        *string            `json:"name"`
	Integration *string            `json:"integration"`
	URL         *string            `json:"url"`
	Config      map[string]*string `json:"config"`
	Headers     map[string]string  `json:"headers"`
	EventTypes  []string           `json:"event_types"`
	Env         map[string]string  `json:"env"`
	// SecretEnv names env variables whose values are secrets: masked in every
	// response like secret config. Names that look like credentials (see
	// SecretEnvName) are secret without being listed.
	SecretEnv          []string        `json:"secret_env"`
	Transform          *TransformInput `json:"transform"`
	RateLimitPerSecond *float64        `json:"rate_limit_per_second"`
	Disabled           *bool           `json:"disabled"`
}

// Rate limits a destination may have: 0 is no limit; otherwise at least one
// request per 100 s (below that the throttle's wait overflows and a delivery
// would wait for ever) and at most 10,000 per second.
const (
	MinRatePerSecond = store.MinRatePerSecond
	MaxRatePerSecond = 10000
)

// Masked stands for a secret value in API output. Sent back unchanged in a
// PATCH of env, it keeps the stored secret.
const Masked = "****"

// Checker applies the destination rules; its zero Limits take the defaults.
type Checker struct {
	Egress egress.Policy
	Engine *transformer.Engine
	Limits Limits
	Now    func() time.Time
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// NewDestination starts a destination of tenantID from a create request:
// the fields that cannot change later. ApplyDestination does the rest.
func NewDestination(tenantID string, in DestinationInput, now time.Time) (store.Destination, error) {
	if in.SourceID == nil || *in.SourceID == "" {
		return store.Destination{}, Invalid("source_id", "is required")
	}
	if in.Integration == nil || *in.Integration == "" {
		return store.Destination{}, Invalid("integration", "is required; one of %s", strings.Join(integrations.Names(), ", "))
	}
	return store.Destination{ID: store.NewID("dst"), TenantID: tenantID, SourceID: *in.SourceID,
		Integration: *in.Integration, Config: map[string]string{}, CreatedAt: now.UTC()}, nil
}

// ApplyDestination validates in and applies it to d, filling in the
// integration's defaults (URL, event types, template) on create. On create
// every required field must be present; on PATCH only the given ones change.
// Nothing is applied partly: on error d must be thrown away. A script that
// does not compile comes back as a *transformer.Error, everything else as a
// *FieldError.
func (c *Checker) ApplyDestination(ctx context.Context, d *store.Destination, in DestinationInput, create bool) error {
	lim := c.Limits.WithDefaults()
	if !create && in.SourceID != nil && *in.SourceID != d.SourceID {
		return Invalid("source_id", "cannot be changed; create a destination on the other source")
	}
	if !create && in.Integration != nil && *in.Integration != d.Integration {
		return Invalid("integration", "cannot be changed; create a new destination")
	}
	spec, ok := integrations.Lookup(d.Integration)
	if !ok {
		return Invalid("integration", "%q is not supported; one of %s", d.Integration, strings.Join(integrations.Names(), ", "))
	}
	if err := lim.Name(in.Name, create); err != nil {
		return err
	}
	if in.Name != nil {
		d.Name = *in.Name
	}
	if d.Config == nil {
		d.Config = map[string]string{}
	}
	if err := applyConfig(d, spec, in.Config, lim); err != nil {
		return err
	}
	if err := c.applyURL(ctx, d, spec, in.URL, create, lim); err != nil {
		return err
	}
	if in.Headers != nil {
		if err := checkHeaders(in.Headers, lim); err != nil {
			return err
		}
		d.Headers = in.Headers
	}
	if err := applyEventTypes(d, spec, in.EventTypes, create, lim); err != nil {
		return err
	}
	if err := applyEnv(d, in.Env, in.SecretEnv, lim); err != nil {
		return err
	}
	tr := in.Transform
	if tr == nil && create && spec.DefaultTemplate != "" {
		if tpl, ok := spec.Template(spec.DefaultTemplate); ok {
			code, on := tpl.Code, true
			tr = &TransformInput{Code: &code, Enabled: &on}
		}
	}
	if tr != nil {
		if err := c.applyTransform(d, tr); err != nil {
			return err
		}
	}
	if in.RateLimitPerSecond != nil {
		if err := CheckRate(*in.RateLimitPerSecond); err != nil {
			return err
		}
		d.RateLimitPerSecond = *in.RateLimitPerSecond
	}
	if in.Disabled != nil {
		d.Disabled = *in.Disabled
		if !d.Disabled {
			d.DisabledReason = ""
		} else if d.DisabledReason == "" {
			d.DisabledReason = "disabled by the merchant"
		}
	}
	d.UpdatedAt = c.now()
	return nil
}

// CheckRate refuses a rate limit the throttle cannot keep: 0 (no limit) or
// MinRatePerSecond to MaxRatePerSecond.
func CheckRate(v float64) error {
	if v == 0 {
		return nil
	}
	if math.IsNaN(v) || v < MinRatePerSecond || v > MaxRatePerSecond {
		return unsendable("rate_limit_per_second", "is %g; must be 0 (no limit) or from %g to %d requests per second", v, MinRatePerSecond, MaxRatePerSecond)
	}
	return nil
}

func applyConfig(d *store.Destination, spec outbound.Spec, in map[string]*string, lim Limits) error {
	for k, v := range in {
		if !knownField(spec, k) {
			return Invalid("config."+k, "is not a config field of %s; expected %s", spec.Name, fieldNames(spec))
		}
		if v == nil || *v == "" {
			delete(d.Config, k)
		} else {
			d.Config[k] = *v
		}
	}
	size := 0
	for k, v := range d.Config {
		size += len(k) + len(v)
		if strings.ContainsFunc(v, isControl) {
			return unsendable("config."+k, "contains a control character (a line break?); paste the value alone")
		}
	}
	if size > lim.MaxConfigBytes {
		return overLimit("config", "is %d bytes, over the limit of %d bytes per config", size, lim.MaxConfigBytes)
	}
	for _, f := range spec.Fields {
		if f.Required && d.Config[f.Name] == "" {
			return &FieldError{Field: "config." + f.Name, Code: CodeInvalidConfig, Msg: fmt.Sprintf("is required for %s (%s)", spec.Name, f.Label)}
		}
	}
	if spec.Validate != nil {
		if err := spec.Validate(d.Config); err != nil {
			// Well-formed JSON whose values the provider cannot take: 422,
			// naming the field and the expected form (the message says both).
			return &FieldError{Field: "config", Code: CodeInvalidConfig, Msg: err.Error()}
		}
	}
	return nil
}

// applyURL settles the destination URL: from the config field that holds it
// (Slack, Discord), the given url, or the integration's default; then checks
// its length and the egress policy (no private addresses, numeric host
// forms or credentials in the URL).
func (c *Checker) applyURL(ctx context.Context, d *store.Destination, spec outbound.Spec, given *string, create bool, lim Limits) error {
	field := "url"
	switch {
	case spec.Endpoint != nil: // built from the config (a region, a workspace, a key in the path)
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
		return Invalid(field, "is required for %s: the https URL to deliver to", spec.Name)
	}
	if len(d.URL) > lim.MaxURLBytes {
		return overLimit(field, "is %d bytes, over the limit of %d bytes per URL", len(d.URL), lim.MaxURLBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Egress.CheckURL(ctx, d.URL); err != nil {
		return Invalid(field, "%v", err)
	}
	return nil
}

// checkHeaders applies the one header rule (transformer.CheckHeader) to every
// header, refuses those hookshift sets itself, and bounds count and size.
func checkHeaders(h map[string]string, lim Limits) error {
	if len(h) > lim.MaxHeaders {
		return overLimit("headers", "has %d headers, over the limit of %d per destination", len(h), lim.MaxHeaders)
	}
	size := 0
	for _, k := range sortedKeys(h) {
		v := h[k]
		size += len(k) + len(v)
		if err := transformer.CheckHeader(k, v); err != nil {
			return unsendable("headers."+k, "%v", err)
		}
		if reservedHeader(k) {
			return Invalid("headers", "%q is set by hookshift and cannot be overridden", k)
		}
	}
	if size > lim.MaxHeaderBytes {
		return overLimit("headers", "are %d bytes, over the limit of %d bytes of names and values per destination", size, lim.MaxHeaderBytes)
	}
	return nil
}

func applyEventTypes(d *store.Destination, spec outbound.Spec, in []string, create bool, lim Limits) error {
	if in == nil {
		if create && len(spec.DefaultEventTypes) > 0 {
			d.EventTypes = append([]string(nil), spec.DefaultEventTypes...)
		}
		return nil
	}
	if len(in) > lim.MaxEventTypes {
		return overLimit("event_types", "has %d entries, over the limit of %d", len(in), lim.MaxEventTypes)
	}
	for _, et := range in {
		if isBlank(et) || len(et) > 200 || strings.ContainsFunc(et, isControl) {
			return Invalid("event_types", "entries must be event types like payment.succeeded (or payment.* for a family), at most 200 characters")
		}
	}
	d.EventTypes = in
	return nil
}

// applyEnv sets the script's variables and which of them are secret. A
// secret value sent back masked (Masked) keeps what is stored, so a client
// may PATCH what it read. A secret is never revealed by taking it off
// secret_env: its value must then be sent anew (or dropped from env).
func applyEnv(d *store.Destination, env map[string]string, secret []string, lim Limits) error {
	was := store.Destination{SecretEnv: d.SecretEnv} // the secrets before this change
	if secret != nil {
		for _, k := range secret {
			if k == "" || len(k) > 200 {
				return Invalid("secret_env", "entries must be env variable names")
			}
		}
		d.SecretEnv = dedupe(secret)
	}
	for k := range d.Env {
		if !IsSecretEnv(was, k) || IsSecretEnv(*d, k) {
			continue
		}
		if v, given := env[k]; env == nil || (given && v == Masked) {
			return Invalid("secret_env", "leaving out %q would show its secret value; send its new value in env as well, or remove it from env", k)
		}
	}
	if env == nil {
		return nil
	}
	if len(env) > lim.MaxEnv {
		return overLimit("env", "has %d variables, over the limit of %d per destination", len(env), lim.MaxEnv)
	}
	out := make(map[string]string, len(env))
	size := 0
	for k, v := range env {
		if k == "" {
			return Invalid("env", "variable names must not be empty")
		}
		if v == Masked && IsSecretEnv(was, k) {
			old, ok := d.Env[k]
			if !ok {
				return Invalid("env."+k, "is %q, the mask of a secret, but no value is stored; send the value", Masked)
			}
			v = old
		}
		size += len(k) + len(v)
		out[k] = v
	}
	if size > lim.MaxEnvBytes {
		return overLimit("env", "is %d bytes, over the limit of %d bytes of names and values per destination", size, lim.MaxEnvBytes)
	}
	d.Env = out
	return nil
}

func (c *Checker) applyTransform(d *store.Destination, in *TransformInput) error {
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
		if err := c.Engine.Check(tr.Code); err != nil {
			var te *transformer.Error
			if errors.As(err, &te) {
				return te
			}
			return Invalid("transform.code", "%v", err)
		}
	} else if tr.Enabled {
		return Invalid("transform.code", "is required when the transform is enabled")
	}
	tr.UpdatedAt = c.now()
	d.Transform = &tr
	return nil
}

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

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dedupe(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
