// Package datafast is the DataFast revenue-analytics destination: payments
// posted to /api/v1/payments with a Bearer API key. DataFast is idempotent on
// transaction_id, so retries and replays never count a payment twice.
package datafast

import (
	_ "embed"
	"encoding/json"
	"net/http"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is DataFast's payments endpoint.
const DefaultURL = "https://datafa.st/api/v1/payments"

// Spec is the DataFast integration.
var Spec = outbound.Spec{
	Name:            "datafast",
	DefaultTemplate: "default",
	Title:           "DataFast",
	Description:     "Revenue attribution: send each payment to DataFast with the visitor id from checkout.",
	DefaultURL:      DefaultURL,
	Auth:            "bearer",
	Fields: []outbound.Field{
		{Name: "api_key", Label: "API key", Secret: true, Required: true, Description: "DataFast API key (Settings → API)."},
	},
	DefaultEventTypes: []string{"payment.succeeded", "subscription.active", "subscription.renewed", "refund.succeeded"},
	Templates: []outbound.Template{
		{
			Name:        "default",
			Description: "Dodo Payments: one-time payments, first subscription charges, renewals (renewal: true) and refunds (refunded: true). Payments without a datafast_visitor_id are not sent.",
			EventTypes:  []string{"payment.succeeded", "subscription.active", "subscription.renewed", "refund.succeeded"},
			Code:        defaultJS,
		},
		{
			Name:        "payments",
			Description: "Dodo Payments: every successful payment at its tax-inclusive total, without the renewal flag.",
			EventTypes:  []string{"payment.succeeded"},
			Code:        paymentsJS,
		},
		{
			Name:        "refunds",
			Description: "Dodo Payments: refunds, with refunded: true and the refunded amount.",
			EventTypes:  []string{"refund.succeeded"},
			Code:        refundsJS,
		},
		{
			Name:        "stripe",
			Description: "Stripe: payments, refunds (refund.created or charge.refunded, counted once) and lost disputes.",
			EventTypes:  []string{"payment_intent.succeeded", "refund.created", "charge.refunded", "charge.dispute.closed"},
			Code:        stripeJS,
		},
		{
			Name:        "cryptomus",
			Description: "Cryptomus: paid and paid_over invoices, with the visitor id from additional_data.",
			EventTypes:  []string{"cryptomus.paid", "cryptomus.paid_over"},
			Code:        cryptomusJS,
		},
	},
	Authorize: func(cfg map[string]string, h http.Header) {
		if k := cfg["api_key"]; k != "" {
			h.Set("Authorization", "Bearer "+k)
		}
	},
	ErrorMessage: errorMessage,
}

// The templates are plain JavaScript files, so they read (and can be copied)
// as merchants see them.
var (
	//go:embed templates/default.js
	defaultJS string
	//go:embed templates/payments.js
	paymentsJS string
	//go:embed templates/refunds.js
	refundsJS string
	//go:embed templates/stripe.js
	stripeJS string
	//go:embed templates/cryptomus.js
	cryptomusJS string
)

// errorMessage reads DataFast's {"status":"error","error":{"code","message"}}.
func errorMessage(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		return ""
	}
	if e.Error.Code != "" {
		return e.Error.Code + ": " + e.Error.Message
	}
	return e.Error.Message
}
