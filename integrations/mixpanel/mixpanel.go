// Package mixpanel is the Mixpanel destination: events sent to the Import
// API (/import?strict=1) with the project token as the Basic-auth user name,
// as Mixpanel's HTTP API guide does. /import validates each event and says
// which field is wrong, takes events of any age (a replay days later still
// counts, where /track drops events older than five days), and dedupes on
// $insert_id.
package mixpanel

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is the Import API of Mixpanel's US data residency.
const DefaultURL = "https://api.mixpanel.com/import?strict=1"

// hosts are Mixpanel's data-residency API hosts.
var hosts = map[string]string{"us": "https://api.mixpanel.com", "eu": "https://api-eu.mixpanel.com", "in": "https://api-in.mixpanel.com"}

var (
	//go:embed templates/dodo.js
	dodoJS string
	//go:embed templates/stripe.js
	stripeJS string
	//go:embed templates/cryptomus.js
	cryptomusJS string
)

// Spec is the Mixpanel integration.
var Spec = outbound.Spec{
	Name:            "mixpanel",
	DefaultTemplate: "default",
	Title:           "Mixpanel",
	Description:     "Send payments (Purchase, with revenue), refunds and subscription changes to Mixpanel as events of the customer.",
	DefaultURL:      DefaultURL,
	Auth:            "basic",
	Fields: []outbound.Field{
		{Name: "project_token", Label: "Project token", Secret: true, Required: true, Description: "32 hex characters, from Project Settings → Overview → Access Keys → Project Token."},
		{Name: "region", Label: "Data residency", Description: "us (default, api.mixpanel.com), eu (api-eu.mixpanel.com) or in (api-in.mixpanel.com)."},
	},
	DefaultEventTypes: dodoEvents,
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: \"Purchase\" (revenue in major units), \"Payment Failed\", \"Refund\" (negative revenue), \"Subscription Active\"/\"Renewed\"/\"Cancelled\"/...; distinct_id = customer_id (or email), time and $insert_id from the event.", EventTypes: dodoEvents, Code: dodoJS},
		{Name: "stripe", Description: "Stripe: payment_intent.succeeded as \"Purchase\" and refund.created as \"Refund\", distinct_id = Stripe customer (or receipt email).", EventTypes: []string{"payment_intent.succeeded", "refund.created"}, Code: stripeJS},
		{Name: "cryptomus", Description: "Cryptomus: paid and paid_over invoices as \"Purchase\" (revenue = the invoice amount), distinct_id = customer_id or email from additional_data JSON; others not sent.", EventTypes: []string{"cryptomus.paid", "cryptomus.paid_over"}, Code: cryptomusJS},
	},
	Authorize:    Authorize,
	Validate:     validate,
	Endpoint:     endpoint,
	ErrorMessage: errorMessage,
}

var dodoEvents = []string{
	"payment.succeeded", "payment.failed", "refund.succeeded",
	"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
	"subscription.cancelled", "subscription.failed", "subscription.expired",
}

// Authorize sends the project token as the Basic-auth user name with an
// empty password.
func Authorize(cfg map[string]string, h http.Header) {
	if t := cfg["project_token"]; t != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(t+":")))
	}
}

var tokenForm = regexp.MustCompile(`^[0-9a-f]{32}$`)

func validate(cfg map[string]string) error {
	if !tokenForm.MatchString(cfg["project_token"]) {
		return errors.New("project_token: expected a Mixpanel project token, 32 hexadecimal characters (0-9, a-f), from Project Settings → Access Keys")
	}
	_, err := outbound.Choice(cfg, "region", "us", "us", "eu", "in")
	return err
}

func endpoint(cfg map[string]string) string {
	region, err := outbound.Choice(cfg, "region", "us", "us", "eu", "in")
	if err != nil {
		region = "us"
	}
	return hosts[region] + "/import?strict=1"
}

// errorMessage reads the Import API's error body, {"code": 400, "error":
// "...", "failed_records": [{"index", "$insert_id", "field", "message"}]},
// keeping the first failed record's message, which names the field.
func errorMessage(body []byte) string {
	var e struct {
		Error  string `json:"error"`
		Failed []struct {
			Message string `json:"message"`
		} `json:"failed_records"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	if len(e.Failed) > 0 && e.Failed[0].Message != "" {
		return e.Error + ": " + e.Failed[0].Message
	}
	return e.Error
}
