// Package segment is the Segment destination: Track and Identify calls to
// Segment's HTTP Tracking API, authenticated with the source's write key as
// the Basic-auth user name and an empty password.
package segment

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/hookshift/hookshift/integrations/dodo"
	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is Segment's Track endpoint (US region). EU workspaces use
// https://events.eu1.segmentapis.com/v1/track instead.
const DefaultURL = "https://api.segment.io/v1/track"

var (
	//go:embed templates/track.js
	trackJS string
	//go:embed templates/identify.js
	identifyJS string
)

// Spec is the Segment integration.
var Spec = outbound.Spec{
	Name:            "segment",
	DefaultTemplate: "track",
	Title:           "Segment",
	Description:     "Send payments, refunds, disputes and subscription changes to Segment as Track events, or customers as Identify calls.",
	DefaultURL:      DefaultURL,
	Auth:            "basic",
	Fields: []outbound.Field{
		{Name: "write_key", Label: "Write key", Secret: true, Required: true, Description: "The write key of a Segment HTTP API source."},
	},
	DefaultEventTypes: dodo.Events(),
	Templates: []outbound.Template{
		{Name: "track", Description: "Track: \"Payment Succeeded\" (with revenue), \"Payment Failed\", \"Refund Succeeded\", \"Dispute Opened\", \"Subscription Renewed\" and so on, with userId = customer_id.", EventTypes: dodo.Events(), Code: trackJS},
		{Name: "identify", Description: "Identify: the customer's email and name, from any event that carries the customer.", EventTypes: []string{"payment.succeeded", "subscription.active", "subscription.updated"}, Code: identifyJS},
	},
	Authorize:    Authorize,
	ErrorMessage: errorMessage,
}

// Authorize sends the write key as HTTP Basic user name with an empty
// password, as Segment's HTTP API expects.
func Authorize(cfg map[string]string, h http.Header) {
	if k := cfg["write_key"]; k != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(k+":")))
	}
}

// errorMessage reads Segment's {"code": "...", "message": "..."}.
func errorMessage(body []byte) string {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return ""
	}
	if e.Code != "" {
		return e.Code + ": " + e.Message
	}
	return e.Message
}
