// Package loops is the Loops destination: events sent to POST
// /api/v1/events/send with a Bearer API key, to start Loops workflows
// (receipts, onboarding, win-back emails) from payments and subscriptions.
// Each delivery carries the Idempotency-Key header (event id + destination
// id), which Loops remembers for 24 hours, so a retry never triggers a
// workflow twice.
package loops

import (
	_ "embed"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is Loops' send-event endpoint.
const DefaultURL = "https://app.loops.so/api/v1/events/send"

var (
	//go:embed templates/events.js
	eventsJS string
	//go:embed templates/stripe.js
	stripeJS string
)

// Spec is the Loops integration.
var Spec = outbound.Spec{
	Name:            "loops",
	DefaultTemplate: "events",
	Title:           "Loops",
	Description:     "Send payments, refunds and subscription changes to Loops as events that start your workflows, keyed on the customer's email.",
	DefaultURL:      DefaultURL,
	Auth:            "bearer",
	Fields: []outbound.Field{
		{Name: "api_key", Label: "API key", Secret: true, Required: true, Description: "From Loops Settings → API → Generate key."},
	},
	DefaultEventTypes: loopsEvents,
	Templates: []outbound.Template{
		{Name: "events", Description: "Dodo Payments: one event per payment, refund, dispute or subscription change (eventName paymentSucceeded, refundSucceeded, subscriptionCancelled...) with email and userId = customer_id, the customer's first and last name, and eventProperties: amount in major units, currency, amountFormatted and the ids.", EventTypes: loopsEvents, Code: eventsJS},
		{Name: "stripe", Description: "Stripe: paymentSucceeded and refundCreated events for PaymentIntents and refunds with a receipt email, amount in major units.", EventTypes: []string{"payment_intent.succeeded", "charge.refunded"}, Code: stripeJS},
	},
	Authorize: func(cfg map[string]string, h http.Header) {
		if k := cfg["api_key"]; k != "" {
			h.Set("Authorization", "Bearer "+k)
		}
	},
	Validate: func(cfg map[string]string) error {
		if !keyShape.MatchString(cfg["api_key"]) {
			return errors.New("config.api_key must be a Loops API key: 32 hexadecimal characters, from Settings → API")
		}
		return nil
	},
	ErrorMessage: errorMessage,
	Accepted:     Accepted,
}

var loopsEvents = []string{
	"payment.succeeded", "payment.failed",
	"refund.succeeded",
	"dispute.opened",
	"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
	"subscription.cancelled", "subscription.failed", "subscription.expired",
}

// keyShape is a Loops API key as Loops issues them.
var keyShape = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Accepted reports Loops' 409 to an Idempotency-Key it has seen in the last
// 24 hours: the event was sent by an earlier attempt whose answer was lost.
func Accepted(status int, _ []byte) bool {
	return status == http.StatusConflict
}

// errorMessage reads Loops' {"success": false, "message": "..."} (some
// answers use "error" instead).
func errorMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Message != "" {
		return e.Message
	}
	return e.Error
}
