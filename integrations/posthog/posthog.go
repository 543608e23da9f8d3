// Package posthog is the PostHog destination: analytics events captured
// through PostHog's public /i/v0/e/ endpoint. PostHog takes the project API
// key (phc_...) in the JSON body, not in a header, so the templates put it
// there from webhook.env (Spec.ScriptEnv).
package posthog

import (
	_ "embed"
	"encoding/json"
	"errors"
	"strings"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is the capture endpoint of PostHog's US cloud.
const DefaultURL = "https://us.i.posthog.com/i/v0/e/"

// hosts are PostHog's cloud regions' ingestion hosts.
var hosts = map[string]string{"us": "https://us.i.posthog.com", "eu": "https://eu.i.posthog.com"}

var (
	//go:embed templates/dodo.js
	dodoJS string
	//go:embed templates/stripe.js
	stripeJS string
	//go:embed templates/cryptomus.js
	cryptomusJS string
)

// Spec is the PostHog integration.
var Spec = outbound.Spec{
	Name:            "posthog",
	DefaultTemplate: "default",
	Title:           "PostHog",
	Description:     "Capture payments (purchase, with revenue), refunds and subscription changes as PostHog events on the customer's person.",
	DefaultURL:      DefaultURL,
	Auth:            "body",
	Fields: []outbound.Field{
		{Name: "api_key", Label: "Project API key", Secret: true, Required: true, Description: "phc_... from Project settings → Project API key (not a personal phx_ key)."},
		{Name: "region", Label: "Region", Description: "us (default, us.i.posthog.com) or eu (eu.i.posthog.com)."},
	},
	DefaultEventTypes: dodoEvents,
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: \"purchase\" (revenue in major units), \"payment_failed\", \"refund\" (negative revenue), \"subscription_active\"/\"_renewed\"/\"_cancelled\"/...; distinct_id = customer_id (or email), $set email and name.", EventTypes: dodoEvents, Code: dodoJS},
		{Name: "stripe", Description: "Stripe: payment_intent.succeeded as \"purchase\" and refund.created as \"refund\", distinct_id = Stripe customer (or receipt email).", EventTypes: []string{"payment_intent.succeeded", "refund.created"}, Code: stripeJS},
		{Name: "cryptomus", Description: "Cryptomus: paid and paid_over invoices as \"purchase\" (revenue = the invoice amount), distinct_id = customer_id or email from additional_data JSON; others not sent.", EventTypes: []string{"cryptomus.paid", "cryptomus.paid_over"}, Code: cryptomusJS},
	},
	Validate: validate,
	Endpoint: endpoint,
	ScriptEnv: func(cfg map[string]string) map[string]string {
		return map[string]string{"posthog_api_key": cfg["api_key"]}
	},
	ErrorMessage: errorMessage,
}

var dodoEvents = []string{
	"payment.succeeded", "payment.failed", "refund.succeeded",
	"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
	"subscription.cancelled", "subscription.failed", "subscription.expired",
}

func validate(cfg map[string]string) error {
	key := cfg["api_key"]
	switch {
	case strings.HasPrefix(key, "phx_"):
		return errors.New("api_key: a personal API key (phx_...) cannot capture events; paste the project API key (phc_...) from Project settings")
	case !strings.HasPrefix(key, "phc_") || len(key) < 20 || strings.ContainsAny(key, " \t\r\n"):
		return errors.New("api_key: expected a PostHog project API key, phc_ followed by letters and digits, from Project settings")
	}
	_, err := outbound.Choice(cfg, "region", "us", "us", "eu")
	return err
}

func endpoint(cfg map[string]string) string {
	region, err := outbound.Choice(cfg, "region", "us", "us", "eu")
	if err != nil {
		region = "us"
	}
	return hosts[region] + "/i/v0/e/"
}

// errorMessage reads PostHog's error body, {"type": "...", "code": "...",
// "detail": "..."}, e.g. code "invalid_api_key" with 401.
func errorMessage(body []byte) string {
	var e struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
		Error  string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := e.Detail
	if msg == "" {
		msg = e.Error
	}
	if msg == "" {
		return ""
	}
	if e.Code != "" {
		return e.Code + ": " + msg
	}
	return msg
}
