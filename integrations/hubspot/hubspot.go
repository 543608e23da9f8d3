// Package hubspot is the HubSpot CRM destination: contacts (and, with one
// custom property, deals) upserted through the CRM v3 batch upsert API,
// authenticated with a private app's access token as a Bearer token.
// Upserts are keyed on a unique property (the contact's email, the deal's
// payment id), so a retry or replay updates the same record, never a twin.
package hubspot

import (
	_ "embed"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is the contacts batch upsert endpoint. api.hubapi.com serves
// accounts in every data center (the token names its region).
const DefaultURL = "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert"

var (
	//go:embed templates/contact.js
	contactJS string
	//go:embed templates/deal.js
	dealJS string
	//go:embed templates/stripe.js
	stripeJS string
)

// Spec is the HubSpot integration.
var Spec = outbound.Spec{
	Name:            "hubspot",
	DefaultTemplate: "contact",
	Title:           "HubSpot",
	Description:     "Keep HubSpot contacts current from payments and subscriptions, and record each payment as a closed-won deal.",
	DefaultURL:      DefaultURL,
	Auth:            "bearer",
	Fields: []outbound.Field{
		{Name: "access_token", Label: "Private app access token", Secret: true, Required: true, Description: "pat-<region>-<uuid> from Settings → Integrations → Private Apps (Legacy apps) → your app → Auth; needs the crm.objects.contacts.write scope (and crm.objects.deals.write for the deal template)."},
	},
	DefaultEventTypes: contactEvents,
	Templates: []outbound.Template{
		{Name: "contact", Description: "Dodo Payments: upsert the customer as a contact keyed on email (POST /crm/v3/objects/contacts/batch/upsert, idProperty email) with firstname, lastname, phone and billing address; events without an email are skipped.", EventTypes: contactEvents, Code: contactJS},
		{Name: "deal", Description: "Dodo Payments: upsert each successful payment as a closed-won deal (POST /crm/v3/objects/deals/batch/upsert keyed on the unique deal property dodo_payment_id, which you create once) with dealname, amount in major units, deal_currency_code and closedate.", EventTypes: []string{"payment.succeeded"}, Code: dealJS},
		{Name: "stripe", Description: "Stripe: upsert the paying customer as a contact keyed on email, from payment_intent.succeeded (receipt_email) or charge.refunded (billing details).", EventTypes: []string{"payment_intent.succeeded", "charge.refunded"}, Code: stripeJS},
	},
	Authorize: func(cfg map[string]string, h http.Header) {
		if k := cfg["access_token"]; k != "" {
			h.Set("Authorization", "Bearer "+k)
		}
	},
	Validate:     validate,
	ErrorMessage: errorMessage,
}

var contactEvents = []string{"payment.succeeded", "subscription.active", "subscription.updated", "subscription.renewed"}

// tokenShape is a private app access token: pat-<region>-<uuid>, the region
// being the account's data center (na1, na2, eu1, ap1...).
var tokenShape = regexp.MustCompile(`^pat-[a-z]{2,4}[0-9]{1,2}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func validate(cfg map[string]string) error {
	if !tokenShape.MatchString(cfg["access_token"]) {
		// Never quote the value: it may be a real credential of another kind.
		return errors.New("config.access_token must be a HubSpot private app access token: pat-<region>-<uuid>, e.g. pat-na1-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (developer API keys and OAuth tokens do not work here)")
	}
	return nil
}

// errorMessage reads HubSpot's {"status":"error","message","category"} (or
// "errorType" on a 429), plus the first detailed error of a validation
// failure, which names the property at fault.
func errorMessage(body []byte) string {
	var e struct {
		Message   string `json:"message"`
		Category  string `json:"category"`
		ErrorType string `json:"errorType"`
		Errors    []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return ""
	}
	msg := e.Message
	if len(e.Errors) > 0 && e.Errors[0].Message != "" && e.Errors[0].Message != e.Message {
		msg += " (" + e.Errors[0].Message + ")"
	}
	switch {
	case e.Category != "":
		return e.Category + ": " + msg
	case e.ErrorType != "":
		return e.ErrorType + ": " + msg
	}
	return msg
}
