// Package generic is the plain HTTP destination: the event (or the
// transform's output) posted as JSON to any public URL, with the
// destination's own headers.
package generic

import (
	"net/http"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// Spec is the "http" integration.
var Spec = outbound.Spec{
	Name:        "http",
	Title:       "HTTP endpoint",
	Description: "POST the event as JSON to your own URL, with an Idempotency-Key header per event and destination.",
	Auth:        "none",
	Fields: []outbound.Field{
		{Name: "bearer_token", Label: "Bearer token", Secret: true, Description: "Sent as Authorization: Bearer <token>, if set."},
	},
	Authorize: func(cfg map[string]string, h http.Header) {
		if t := cfg["bearer_token"]; t != "" {
			h.Set("Authorization", "Bearer "+t)
		}
	},
}
