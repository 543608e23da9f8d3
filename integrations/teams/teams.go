// Package teams is the Microsoft Teams destination: an Adaptive Card posted
// to a channel's Workflows webhook ("Post to a channel when a webhook request
// is received") or a legacy Incoming Webhook. The URL carries its own
// signature (sig=...), so it is the credential: it lives in a secret config
// field and is masked wherever the destination is shown.
package teams

import (
	_ "embed"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/hookshift/hookshift/integrations/outbound"
)

var (
	//go:embed templates/dodo.js
	dodoJS string
	//go:embed templates/stripe.js
	stripeJS string
	//go:embed templates/cryptomus.js
	cryptomusJS string
)

// Spec is the Microsoft Teams integration.
var Spec = outbound.Spec{
	Name:            "teams",
	DefaultTemplate: "default",
	Title:           "Microsoft Teams",
	Description:     "Post payments, refunds, disputes and subscription changes to a Teams channel as Adaptive Cards, through a Workflows webhook or an Incoming Webhook.",
	URLField:        "webhook_url",
	Auth:            "url",
	Fields: []outbound.Field{
		{Name: "webhook_url", Label: "Webhook URL", Secret: true, Required: true, Description: "The HTTP POST URL of a Teams workflow \"Post to a channel when a webhook request is received\" (…logic.azure.com/… or …environment.api.powerplatform.com/…), or a legacy Incoming Webhook URL (…webhook.office.com/webhookb2/…)."},
	},
	DefaultEventTypes: dodoEvents,
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: one Adaptive Card per payment succeeded or failed, refund, dispute and subscription change, with the amount, customer and ids as facts. Also renders hookshift's alerts (GET|PUT /v1/alerts).", EventTypes: dodoEvents, Code: dodoJS},
		{Name: "stripe", Description: "Stripe: one Adaptive Card per refund (refund.created) and dispute opened or closed.", EventTypes: []string{"refund.created", "charge.dispute.created", "charge.dispute.closed"}, Code: stripeJS},
		{Name: "cryptomus", Description: "Cryptomus: one Adaptive Card per paid, overpaid, underpaid or failed invoice.", EventTypes: []string{"cryptomus.paid", "cryptomus.paid_over", "cryptomus.wrong_amount", "cryptomus.fail", "cryptomus.cancel"}, Code: cryptomusJS},
	},
	Validate:     validate,
	ErrorMessage: errorMessage,
}

var dodoEvents = []string{
	"payment.succeeded", "payment.failed",
	"refund.succeeded", "refund.failed",
	"dispute.opened", "dispute.won", "dispute.lost",
	"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
	"subscription.cancelled", "subscription.failed", "subscription.expired",
}

// hostSuffixes are where Teams webhooks live: Power Automate workflows (the
// replacement for Office 365 connectors) on Logic Apps or Power Platform
// hosts, and legacy connector webhooks on webhook.office.com.
var hostSuffixes = []string{".logic.azure.com", ".environment.api.powerplatform.com", ".webhook.office.com"}

// errExpected is the form a webhook_url must have; it never quotes the URL,
// which is the credential.
var errExpected = errors.New("config.webhook_url must be a Teams webhook URL: https://…logic.azure.com/workflows/…, https://…environment.api.powerplatform.com/powerautomate/…, or https://…webhook.office.com/webhookb2/…")

func validate(cfg map[string]string) error {
	u, err := url.Parse(cfg["webhook_url"])
	if err != nil || u.Scheme != "https" || u.User != nil {
		return errExpected
	}
	host := strings.ToLower(u.Hostname())
	for _, s := range hostSuffixes {
		if strings.HasSuffix(host, s) && len(u.Path) > 1 {
			return nil
		}
	}
	return errExpected
}

// sigParam matches the signature a workflow URL carries, in case an error
// message quotes the request URL.
var sigParam = regexp.MustCompile(`(?i)(sig=)[^&\s"']+`)

// errorMessage reads a workflow's Azure-style {"error":{"code","message"}};
// a legacy Incoming Webhook answers plain text, kept as it is. Either way a
// URL signature is masked, because the URL is the credential.
func errorMessage(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := strings.Join(strings.Fields(string(body)), " ")
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
		if e.Error.Code != "" {
			msg = e.Error.Code + ": " + msg
		}
	}
	return sigParam.ReplaceAllString(msg, "${1}****")
}
