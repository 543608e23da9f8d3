// Package close is the Close CRM destination: a lead, with its contact and
// address, created for each new paying customer through POST
// /api/v1/lead/, authenticated with an API key as the HTTP Basic user name
// and an empty password.
package close

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is Close's lead endpoint (its trailing slash is part of the
// route).
const DefaultURL = "https://api.close.com/api/v1/lead/"

var (
	//go:embed templates/lead.js
	leadJS string
	//go:embed templates/stripe.js
	stripeJS string
)

// Spec is the Close integration.
var Spec = outbound.Spec{
	Name:            "close",
	DefaultTemplate: "lead",
	Title:           "Close",
	Description:     "Create a Close lead, with the customer as its contact, for each new subscription or one-time purchase.",
	DefaultURL:      DefaultURL,
	Auth:            "basic",
	Fields: []outbound.Field{
		{Name: "api_key", Label: "API key", Secret: true, Required: true, Description: "api_... from Close Settings → Developer → API Keys."},
	},
	DefaultEventTypes: leadEvents,
	Templates: []outbound.Template{
		{Name: "lead", Description: "Dodo Payments: POST /api/v1/lead/ for a new subscription (subscription.active) or a one-time payment.succeeded: the customer's name, a contact with email and phone, the billing address, and the purchase in the description; renewals are skipped.", EventTypes: leadEvents, Code: leadJS},
		{Name: "stripe", Description: "Stripe: POST /api/v1/lead/ for each payment_intent.succeeded with a receipt email: a contact with that email, the amount in the description.", EventTypes: []string{"payment_intent.succeeded"}, Code: stripeJS},
	},
	Authorize: Authorize,
	Validate: func(cfg map[string]string) error {
		if !keyShape.MatchString(cfg["api_key"]) {
			return errors.New("config.api_key must be a Close API key: api_ followed by letters and digits, from Settings → Developer → API Keys")
		}
		return nil
	},
	ErrorMessage: errorMessage,
}

var leadEvents = []string{"payment.succeeded", "subscription.active"}

// keyShape is a Close API key as Close issues them: api_ and a token.
var keyShape = regexp.MustCompile(`^api_[A-Za-z0-9._-]{16,}$`)

// Authorize sends the API key as the Basic-auth user name with an empty
// password, as Close's API expects.
func Authorize(cfg map[string]string, h http.Header) {
	if k := cfg["api_key"]; k != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(k+":")))
	}
}

// errorMessage reads Close's error bodies: {"error": "..."} (or an object
// with a message, as on a 429), {"errors": [...]} and
// {"field-errors": {"field": "problem"}}.
func errorMessage(body []byte) string {
	var e struct {
		Error       json.RawMessage   `json:"error"`
		Errors      []json.RawMessage `json:"errors"`
		FieldErrors map[string]any    `json:"field-errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	var parts []string
	var s string
	var obj struct {
		Message string `json:"message"`
	}
	switch {
	case json.Unmarshal(e.Error, &s) == nil && s != "":
		parts = append(parts, s)
	case json.Unmarshal(e.Error, &obj) == nil && obj.Message != "":
		parts = append(parts, obj.Message)
	}
	for _, raw := range e.Errors {
		if json.Unmarshal(raw, &s) == nil && s != "" {
			parts = append(parts, s)
		}
	}
	fields := make([]string, 0, len(e.FieldErrors))
	for k := range e.FieldErrors {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	for _, k := range fields {
		b, _ := json.Marshal(e.FieldErrors[k])
		parts = append(parts, k+": "+strings.Trim(string(b), `"`))
	}
	return strings.Join(parts, "; ")
}
