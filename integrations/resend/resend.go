// Package resend is the Resend email destination: POST /emails with a
// Bearer API key, for team notifications and customer receipts. Every
// delivery carries the Idempotency-Key header (event id + destination id),
// which Resend honours for 24 hours, so a retry never sends an email twice.
package resend

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"strings"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is Resend's send-email endpoint.
const DefaultURL = "https://api.resend.com/emails"

// maxRecipients is Resend's limit on the to field.
const maxRecipients = 50

var (
	//go:embed templates/notify.js
	notifyJS string
	//go:embed templates/receipt.js
	receiptJS string
	//go:embed templates/stripe.js
	stripeJS string
)

// Spec is the Resend integration.
var Spec = outbound.Spec{
	Name:            "resend",
	DefaultTemplate: "notify",
	Title:           "Resend",
	Description:     "Email your team about payments, refunds, disputes and subscription changes, or email customers a receipt, through Resend.",
	DefaultURL:      DefaultURL,
	Auth:            "bearer",
	Fields: []outbound.Field{
		{Name: "api_key", Label: "API key", Secret: true, Required: true, Description: "re_... from resend.com/api-keys, with sending access."},
		{Name: "from", Label: "From", Required: true, Description: "The sender, on a domain verified in Resend: billing@example.com or \"Acme Billing <billing@example.com>\"."},
		{Name: "to", Label: "To", Required: true, Description: "Who gets the team notifications: one address or several separated by commas (at most 50). The receipt template writes to the customer instead."},
	},
	DefaultEventTypes: notifyEvents,
	Templates: []outbound.Template{
		{Name: "notify", Description: "Dodo Payments: one email to config.to per payment succeeded or failed, refund, dispute or subscription change: subject \"Payment succeeded: 29.99 USD from María López\", an HTML and a text body with the amount, customer and ids. Also renders hookshift's alerts (GET|PUT /v1/alerts) as an email.", EventTypes: notifyEvents, Code: notifyJS},
		{Name: "receipt", Description: "Dodo Payments: a receipt emailed to the customer for each payment.succeeded: subject \"Your receipt: 29.99 USD\", the amount, tax, payment id and date.", EventTypes: []string{"payment.succeeded"}, Code: receiptJS},
		{Name: "stripe", Description: "Stripe: one email to config.to per payment, refund and dispute opened or closed.", EventTypes: []string{"payment_intent.succeeded", "refund.created", "charge.dispute.created", "charge.dispute.closed"}, Code: stripeJS},
	},
	Authorize: func(cfg map[string]string, h http.Header) {
		if k := cfg["api_key"]; k != "" {
			h.Set("Authorization", "Bearer "+k)
		}
	},
	// from and to reach the templates as webhook.env.from and .to; the API
	// key never does.
	ScriptEnv: func(cfg map[string]string) map[string]string {
		return map[string]string{"from": cfg["from"], "to": cfg["to"]}
	},
	Validate:     validate,
	ErrorMessage: errorMessage,
	Transient:    inProgress,
}

var notifyEvents = []string{
	"payment.succeeded", "payment.failed",
	"refund.succeeded", "refund.failed",
	"dispute.opened", "dispute.won", "dispute.lost",
	"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
	"subscription.cancelled", "subscription.failed", "subscription.expired",
}

var keyShape = regexp.MustCompile(`^re_[A-Za-z0-9_]{8,}$`)

func validate(cfg map[string]string) error {
	if !keyShape.MatchString(cfg["api_key"]) {
		return fmt.Errorf("config.api_key must be a Resend API key: re_ followed by letters, digits and underscores")
	}
	if _, err := mail.ParseAddress(cfg["from"]); err != nil {
		return fmt.Errorf("config.from must be one sender address on a domain verified in Resend, like billing@example.com or \"Acme <billing@example.com>\": %q is not", cfg["from"])
	}
	to := strings.Split(cfg["to"], ",")
	if len(to) > maxRecipients {
		return fmt.Errorf("config.to holds %d addresses; Resend takes at most %d", len(to), maxRecipients)
	}
	for _, a := range to {
		if _, err := mail.ParseAddress(strings.TrimSpace(a)); err != nil {
			return fmt.Errorf("config.to must be email addresses separated by commas, like team@example.com, ops@example.com: %q is not an address", strings.TrimSpace(a))
		}
	}
	return nil
}

// errorMessage reads Resend's {"statusCode", "name", "message"}.
func errorMessage(body []byte) string {
	var e struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return ""
	}
	if e.Name != "" {
		return e.Name + ": " + e.Message
	}
	return e.Message
}

// inProgress reports Resend's 409 concurrent_idempotent_requests: a request
// with the same Idempotency-Key is still being processed, so this one is
// retried later (its answer will then be the first request's). Resend's other
// 409, invalid_idempotent_request (same key, another body), stays permanent.
func inProgress(status int, body []byte) bool {
	if status != 409 {
		return false
	}
	var e struct {
		Name string `json:"name"`
	}
	return json.Unmarshal(body, &e) == nil && e.Name == "concurrent_idempotent_requests"
}
