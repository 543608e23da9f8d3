// Package discord is the Discord destination: messages posted to a channel
// webhook URL. The URL is the credential, so it lives in a secret config
// field and is masked wherever the destination is shown.
package discord

import (
	_ "embed"
	"encoding/json"

	"github.com/hookshift/hookshift/integrations/dodo"
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
	DefaultEventTypes: dodo.Events(),
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: payments succeeded and failed, refunds, disputes and subscription changes. Also renders hookshift's alerts (GET|PUT /v1/alerts).", EventTypes: dodo.Events(), Code: dodoJS},
	},
	ErrorMessage: errorMessage,
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
