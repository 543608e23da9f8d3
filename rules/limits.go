// Package rules holds the domain rules of a tenant's configuration: what a
// valid source or destination is (validation, defaults, size limits), which
// headers can be sent, and which destinations take an event. The admin API
// and the queue's fan-out both call it, so a rule is written once.
package rules

import (
	"fmt"
	"net/http"
)

// Limits bound what one tenant can store. Every limit has a default (see
// DefaultLimits) and a `hookshift serve` flag; a zero field takes the
// default. They keep one tenant from filling Redis for everyone: a
// destination is at most a few tens of KiB whatever its input.
type Limits struct {
	MaxSources      int // sources per tenant
	MaxDestinations int // destinations per tenant
	MaxNameChars    int // a source's or destination's name
	MaxURLBytes     int // a destination URL
	MaxHeaders      int // headers per destination
	MaxHeaderBytes  int // all header names and values of a destination together
	MaxEnv          int // env variables per destination
	MaxEnvBytes     int // all env names and values of a destination together
	MaxConfigBytes  int // a destination's config values together, or a source's config JSON
	MaxEventTypes   int // entries of a destination's event_types filter
}

// DefaultLimits are generous for every real destination (a DataFast or Slack
// destination uses well under 1 KiB) and small next to Redis memory.
func DefaultLimits() Limits {
	return Limits{
		MaxSources: 100, MaxDestinations: 200, MaxNameChars: 200, MaxURLBytes: 2048,
		MaxHeaders: 50, MaxHeaderBytes: 8 << 10, MaxEnv: 50, MaxEnvBytes: 16 << 10,
		MaxConfigBytes: 4 << 10, MaxEventTypes: 100,
	}
}

// WithDefaults returns l with every zero (or negative) field set to its default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	for _, p := range []struct{ v, def *int }{
		{&l.MaxSources, &d.MaxSources}, {&l.MaxDestinations, &d.MaxDestinations}, {&l.MaxNameChars, &d.MaxNameChars},
		{&l.MaxURLBytes, &d.MaxURLBytes}, {&l.MaxHeaders, &d.MaxHeaders}, {&l.MaxHeaderBytes, &d.MaxHeaderBytes},
		{&l.MaxEnv, &d.MaxEnv}, {&l.MaxEnvBytes, &d.MaxEnvBytes}, {&l.MaxConfigBytes, &d.MaxConfigBytes},
		{&l.MaxEventTypes, &d.MaxEventTypes},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return l
}

// Error codes of a FieldError the API answers with 422.
const (
	CodeLimitExceeded = "limit_exceeded" // a size or count limit; the message names it
	CodeInvalidField  = "invalid_field"  // a value that could never be sent
	CodeInvalidConfig = "invalid_config" // config the integration cannot use (wrong key shape, unknown region)
)

// FieldError is input refused by a rule: the field, what was wrong and what
// is expected. Code "" is a plain validation failure (the API's 400
// invalid_<field>); CodeLimitExceeded, CodeInvalidField and CodeInvalidConfig answer 422.
type FieldError struct {
	Field string
	Code  string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Invalid is a plain validation failure of field.
func Invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func unsendable(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Code: CodeInvalidField, Msg: fmt.Sprintf(format, args...)}
}

func overLimit(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Code: CodeLimitExceeded, Msg: fmt.Sprintf(format, args...)}
}

// Name checks a source's or destination's name: required, at most
// MaxNameChars characters.
func (l Limits) Name(name *string, required bool) error {
	if name == nil {
		if required {
			return Invalid("name", "is required, 1 to %d characters", l.MaxNameChars)
		}
		return nil
	}
	if n := len([]rune(*name)); n > l.MaxNameChars {
		return overLimit("name", "is %d characters, over the limit of %d (MaxNameChars)", n, l.MaxNameChars)
	}
	if isBlank(*name) {
		return Invalid("name", "is required, 1 to %d characters", l.MaxNameChars)
	}
	return nil
}

// SourceConfig checks the size of a source's config JSON.
func (l Limits) SourceConfig(raw []byte) error {
	if len(raw) > l.MaxConfigBytes {
		return overLimit("config", "is %d bytes, over the limit of %d bytes per config", len(raw), l.MaxConfigBytes)
	}
	return nil
}

// TooMany is the refusal of a create beyond a per-tenant count limit.
func TooMany(what string, max int) *FieldError {
	return overLimit(what, "this account already has %d %s, the limit per tenant; delete one first or ask the operator to raise the limit", max, what)
}

func isBlank(s string) bool {
	for _, c := range s {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// reservedHeaders are set by hookshift or by the HTTP client; a destination
// may not override them.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Idempotency-Key": true, "Transfer-Encoding": true, "Connection": true,
}

// reservedHeader reports whether hookshift sets this header itself.
func reservedHeader(name string) bool { return reservedHeaders[http.CanonicalHeaderKey(name)] }
