// Package slack is the Slack destination: messages posted to an incoming
// webhook URL. The URL is the credential, so it lives in a secret config
// field and is masked wherever the destination is shown.
package slack

import (
	_ "embed"

	"github.com/hookshift/hookshift/integrations/dodo"
	"github.com/hookshift/hookshift/integrations/outbound"
)

var (
	//go:embed templates/dodo.js
	dodoJS string
	//go:embed templates/stripe.js
	stripeJS string
)

// Spec is the Slack integration.
var Spec = outbound.Spec{
	Name:            "slack",
	DefaultTemplate: "default",
	Title:           "Slack",
	Description:     "Post payments, refunds, disputes and subscription changes to a Slack channel through an incoming webhook.",
	URLField:        "webhook_url",
	Auth:            "url",
	Fields: []outbound.Field{
		{Name: "webhook_url", Label: "Incoming webhook URL", Secret: true, Required: true, Description: "https://hooks.slack.com/services/... from your Slack app's Incoming Webhooks page."},
	},
	DefaultEventTypes: dodo.Events(),
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: payments succeeded and failed, refunds, disputes and subscription changes. Also renders hookshift's alerts (GET|PUT /v1/alerts).", EventTypes: dodo.Events(), Code: dodoJS},
		{Name: "stripe", Description: "Stripe: refunds and disputes.", EventTypes: []string{"refund.created", "charge.dispute.created", "charge.dispute.closed"}, Code: stripeJS},
	},
	// Slack's errors are short plain-text bodies ("invalid_payload",
	// "no_service", "channel_is_archived"), kept as they are.
}
