// Package outbound defines what every destination integration provides (its
// Spec) and the one place where an HTTP response becomes a delivery Outcome.
// Integrations live in their own packages and fill in a Spec; the catalog in
// package integrations lists them.
package outbound

import (
	"net/http"
	"time"
)

// Field describes one config field of an integration.
type Field struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	Secret      bool   `json:"secret"`
	Required    bool   `json:"required"`
	Description string `json:"description,omitempty"`
}

// Template is a ready-made transform script for an integration.
type Template struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types,omitempty"`
	Code        string   `json:"code"`
}

// Spec is one destination integration: its config, where it sends by default,
// how credentials become request headers, and how its error bodies read.
type Spec struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	DefaultURL  string `json:"default_url,omitempty"`
	// URLField names the config field whose value is the destination URL when
	// the URL is itself the credential (Slack and Discord incoming webhooks).
	URLField string `json:"url_field,omitempty"`
	// Auth says how credentials are sent: "bearer", "basic", "url", "body"
	// (a key in the JSON body, e.g. PostHog) or "none".
	Auth              string     `json:"auth"`
	Fields            []Field    `json:"config_fields"`
	DefaultEventTypes []string   `json:"default_event_types,omitempty"`
	Templates         []Template `json:"templates"`
	// DefaultTemplate names the template a new destination gets when it is
	// created without a transform, so the required config alone makes a
	// working destination; "" sends the event as received.
	DefaultTemplate string `json:"default_template,omitempty"`

	// Authorize adds the integration's credentials to an outgoing request.
	Authorize func(config map[string]string, h http.Header) `json:"-"`
	// ErrorMessage extracts a readable message from an error response body;
	// nil or "" means the body snippet is kept as it is.
	ErrorMessage func(body []byte) string `json:"-"`
	// Accepted, when set, reports a non-2xx answer that means the provider
	// already took this very request (Loops answers 409 to a reused
	// Idempotency-Key), so Classify counts it as delivered, not failed.
	Accepted func(status int, body []byte) bool `json:"-"`
	// Transient, when set, reports a 4xx answer the provider documents as
	// worth retrying (Resend answers 409 concurrent_idempotent_requests while
	// the first request with the same Idempotency-Key is still in progress),
	// so Classify retries it instead of failing it permanently.
	Transient func(status int, body []byte) bool `json:"-"`
	// Validate, when set, checks a destination's config beyond Required
	// (e.g. that a signing secret decodes), so a bad value is refused when
	// it is saved rather than failing every delivery.
	Validate func(config map[string]string) error `json:"-"`
	// Sign, when set, signs the request as sent: it is called once headers
	// and body are final (after Authorize and the script's headers), with
	// msgID the delivery's idempotency key and ts the send time, and may add
	// headers. An error means the request cannot be sent as configured.
	Sign func(config map[string]string, msgID string, ts time.Time, body []byte, h http.Header) error `json:"-"`

	// Endpoint, when set, builds the destination URL from the config (a
	// region's host, a workspace and script path, a key in the path) and is
	// used instead of DefaultURL when the destination is saved (URLFor).
	// With URLField also set, that field is the credential in the URL, and
	// the URL is masked wherever shown, as a Slack URL is.
	Endpoint func(config map[string]string) string `json:"-"`
	// ScriptEnv, when set, gives the integration's templates config values
	// they put in the body (a sender address, a key the provider wants in
	// the body) as webhook.env entries, under the destination's own env
	// (ScriptEnvFor).
	ScriptEnv func(config map[string]string) map[string]string `json:"-"`
}

// Template returns the template with this name.
func (s Spec) Template(name string) (Template, bool) {
	for _, t := range s.Templates {
		if t.Name == name {
			return t, true
		}
	}
	return Template{}, false
}

// SecretFields returns the names of the config fields that are secret.
func (s Spec) SecretFields() map[string]bool {
	out := map[string]bool{}
	for _, f := range s.Fields {
		if f.Secret {
			out[f.Name] = true
		}
	}
	return out
}
