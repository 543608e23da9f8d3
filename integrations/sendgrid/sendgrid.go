// Package sendgrid is the SendGrid destination: an email per event through
// the v3 Mail Send API, with a Bearer API key (SG.…). The sender and the
// recipients come from the destination's config; the templates read them
// from webhook.env (Spec.ScriptEnv).
package sendgrid

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

// DefaultURL is SendGrid's Mail Send endpoint (global region).
const DefaultURL = "https://api.sendgrid.com/v3/mail/send"

// hosts are SendGrid's API hosts: EU-regional subusers send through
// api.eu.sendgrid.com.
var hosts = map[string]string{"global": "https://api.sendgrid.com", "eu": "https://api.eu.sendgrid.com"}

var (
	//go:embed templates/dodo.js
	dodoJS string
	//go:embed templates/stripe.js
	stripeJS string
)

// Spec is the SendGrid integration.
var Spec = outbound.Spec{
	Name:            "sendgrid",
	DefaultTemplate: "default",
	Title:           "SendGrid",
	Description:     "Email your team about payments, refunds, disputes and subscription changes through SendGrid's Mail Send API.",
	DefaultURL:      DefaultURL,
	Auth:            "bearer",
	Fields: []outbound.Field{
		{Name: "api_key", Label: "API key", Secret: true, Required: true, Description: "SG.… from Settings → API Keys, with the Mail Send permission."},
		{Name: "from", Label: "From", Required: true, Description: "A verified sender: billing@example.com or \"Billing <billing@example.com>\"."},
		{Name: "to", Label: "To", Required: true, Description: "Recipients, comma-separated: team@example.com, founder@example.com."},
		{Name: "region", Label: "Region", Description: "global (default, api.sendgrid.com) or eu (api.eu.sendgrid.com, for EU-regional subusers)."},
	},
	DefaultEventTypes: dodoEvents,
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: one email per payment (succeeded or failed), refund, dispute or subscription change, with the amount from the currency table and the customer's name, email and id; text and HTML parts. Also renders hookshift's alerts (GET|PUT /v1/alerts).", EventTypes: dodoEvents, Code: dodoJS},
		{Name: "stripe", Description: "Stripe: one email per payment intent succeeded or failed, refund, and dispute opened or closed, with the amount from the currency table.", EventTypes: []string{"payment_intent.succeeded", "payment_intent.payment_failed", "refund.created", "charge.dispute.created", "charge.dispute.closed"}, Code: stripeJS},
	},
	Authorize: func(cfg map[string]string, h http.Header) {
		if k := cfg["api_key"]; k != "" {
			h.Set("Authorization", "Bearer "+k)
		}
	},
	Validate:     validate,
	Endpoint:     endpoint,
	ScriptEnv:    scriptEnv,
	ErrorMessage: errorMessage,
}

var dodoEvents = []string{
	"payment.succeeded", "payment.failed",
	"refund.succeeded", "refund.failed",
	"dispute.opened", "dispute.won", "dispute.lost",
	"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
	"subscription.cancelled", "subscription.failed", "subscription.expired",
}

// keyForm is a SendGrid API key: SG., an id, a dot and the secret.
var keyForm = regexp.MustCompile(`^SG\.[A-Za-z0-9_-]{10,40}\.[A-Za-z0-9_-]{20,80}$`)

func validate(cfg map[string]string) error {
	if !keyForm.MatchString(cfg["api_key"]) {
		return fmt.Errorf("api_key: expected a SendGrid API key, SG.<id>.<secret>, from Settings → API Keys")
	}
	if _, err := mail.ParseAddress(cfg["from"]); err != nil {
		return fmt.Errorf("from: expected one email address, billing@example.com or \"Billing <billing@example.com>\": %v", err)
	}
	if _, err := mail.ParseAddressList(cfg["to"]); err != nil {
		return fmt.Errorf("to: expected email addresses separated by commas: %v", err)
	}
	_, err := outbound.Choice(cfg, "region", "global", "global", "eu")
	return err
}

func endpoint(cfg map[string]string) string {
	region, err := outbound.Choice(cfg, "region", "global", "global", "eu")
	if err != nil {
		region = "global"
	}
	return hosts[region] + "/v3/mail/send"
}

// scriptEnv gives the template the sender and recipients, parsed.
func scriptEnv(cfg map[string]string) map[string]string {
	env := map[string]string{}
	if a, err := mail.ParseAddress(cfg["from"]); err == nil {
		env["sendgrid_from_email"], env["sendgrid_from_name"] = a.Address, a.Name
	}
	if list, err := mail.ParseAddressList(cfg["to"]); err == nil {
		to := make([]string, len(list))
		for i, a := range list {
			to[i] = a.Address
		}
		env["sendgrid_to"] = strings.Join(to, ",")
	}
	return env
}

// errorMessage reads SendGrid's {"errors": [{"message", "field", "help"}]},
// joining the messages (with their field when there is one).
func errorMessage(body []byte) string {
	var e struct {
		Errors []struct {
			Message string  `json:"message"`
			Field   *string `json:"field"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	msgs := make([]string, 0, len(e.Errors))
	for _, x := range e.Errors {
		if x.Field != nil && *x.Field != "" {
			msgs = append(msgs, *x.Field+": "+x.Message)
		} else {
			msgs = append(msgs, x.Message)
		}
	}
	return strings.Join(msgs, "; ")
}
