// Package discord is the Discord destination: messages posted to a channel
// webhook URL. The URL is the credential, so it lives in a secret config
// field and is masked wherever the destination is shown.
package discord

import (
	_ "embed"
	"encoding/json"

	"github.com/hookshift/hookshift/integrations/outbound"
)

//go:embed templates/dodo.js
var dodoJS string

// Spec is the Discord integration.
var Spec = outbound.Spec{
	Name:            "discord",
	DefaultTemplate: "default",
	Title:           "Discord",
	Description:     "Post payments, refunds, disputes and subscription changes to a Discord channel through a channel webhook.",
	URLField:        "webhook_url",
	Auth:            "url",
	Fields: []outbound.Field{
		{Name: "webhook_url", Label: "Webhook URL", Secret: true, Required: true, Description: "https://discord.com/api/webhooks/... from the channel's Integrations settings."},
	},
	DefaultEventTypes: dodoEvents,
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: payments succeeded and failed, refunds, disputes and subscription changes.", EventTypes: dodoEvents, Code: dodoJS},
	},
	ErrorMessage: errorMessage,
}

var dodoEvents = []string{
	"payment.succeeded", "payment.failed",
	"refund.succeeded", "refund.failed",
	"dispute.opened", "dispute.won", "dispute.lost",
	"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
	"subscription.cancelled", "subscription.failed", "subscription.expired",
}

// errorMessage reads Discord's {"message": "...", "code": 50006}.
func errorMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Message
}
