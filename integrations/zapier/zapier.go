// Package zapier is the Zapier destination: flat JSON posted to a Zap's
// "Webhooks by Zapier" Catch Hook URL. The URL holds the hook's secret path,
// so it is the credential: it lives in a secret config field and is masked
// wherever the destination is shown.
package zapier

import (
	_ "embed"
	"errors"
	"net/url"
	"regexp"

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

// Spec is the Zapier integration.
var Spec = outbound.Spec{
	Name:            "zapier",
	DefaultTemplate: "default",
	Title:           "Zapier",
	Description:     "Start a Zap on every payment, refund, dispute or subscription change: flat JSON posted to a Webhooks by Zapier Catch Hook.",
	URLField:        "webhook_url",
	Auth:            "url",
	Fields: []outbound.Field{
		{Name: "webhook_url", Label: "Catch Hook URL", Secret: true, Required: true, Description: "https://hooks.zapier.com/hooks/catch/<account>/<hook>/ from the trigger step of a Zap using Webhooks by Zapier → Catch Hook."},
	},
	DefaultEventTypes: dodoEvents,
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: one flat object per event (event_type, amount in major units, amount_minor, currency, customer_id, customer_email, customer_name, the payment/refund/dispute/subscription ids, metadata_* fields), ready for Zap fields.", EventTypes: dodoEvents, Code: dodoJS},
		{Name: "stripe", Description: "Stripe: payments, refunds and disputes as one flat object each (amount in major units, currency upper case, customer, ids, metadata_* fields).", EventTypes: []string{"payment_intent.succeeded", "refund.created", "charge.dispute.created", "charge.dispute.closed"}, Code: stripeJS},
		{Name: "cryptomus", Description: "Cryptomus: invoice status changes as one flat object each (order_id, amount, currency, payer amount and currency, network, txid).", EventTypes: []string{"cryptomus.paid", "cryptomus.paid_over", "cryptomus.wrong_amount", "cryptomus.fail", "cryptomus.cancel", "cryptomus.refund_paid"}, Code: cryptomusJS},
	},
	Validate: validate,
	// Catch Hooks answer {"status":"success","id":...,"request_id":...};
	// errors are short bodies, kept as they are.
}

var dodoEvents = []string{
	"payment.succeeded", "payment.failed",
	"refund.succeeded", "refund.failed",
	"dispute.opened", "dispute.won", "dispute.lost",
	"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
	"subscription.cancelled", "subscription.failed", "subscription.expired",
}

// catchPath is a Catch Hook path: /hooks/catch/<account id>/<hook id>/,
// optionally with Zapier's silent/ suffix (an empty answer). Legacy hooks
// have no account id.
var catchPath = regexp.MustCompile(`^/hooks/catch/(\d+/)?[A-Za-z0-9]+/?(silent/?)?$`)

func validate(cfg map[string]string) error {
	u, err := url.Parse(cfg["webhook_url"])
	if err != nil || u.Scheme != "https" || u.Host != "hooks.zapier.com" || u.User != nil || !catchPath.MatchString(u.Path) {
		// Never quote the URL: it is the credential.
		return errors.New("config.webhook_url must be a Zapier Catch Hook URL: https://hooks.zapier.com/hooks/catch/<account>/<hook>/")
	}
	return nil
}
