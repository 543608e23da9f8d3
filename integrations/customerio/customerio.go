// Package customerio is the Customer.io destination: person events and
// identifies through the Track API v2 (/api/v2/entity), authenticated with
// the workspace's site id and Track API key as HTTP Basic credentials.
package customerio

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is the Track API v2 entity endpoint of the US region.
const DefaultURL = "https://track.customer.io/api/v2/entity"

// hosts are Customer.io's Track API hosts per data-center region.
var hosts = map[string]string{"us": "https://track.customer.io", "eu": "https://track-eu.customer.io"}

var (
	//go:embed templates/event.js
	eventJS string
	//go:embed templates/identify.js
	identifyJS string
)

// Spec is the Customer.io integration.
var Spec = outbound.Spec{
	Name:            "customerio",
	DefaultTemplate: "event",
	Title:           "Customer.io",
	Description:     "Send payments, refunds and subscription changes to Customer.io as person events that can trigger campaigns, or identify customers.",
	DefaultURL:      DefaultURL,
	Auth:            "basic",
	Fields: []outbound.Field{
		{Name: "site_id", Label: "Site ID", Required: true, Description: "Workspace Settings → API and webhook credentials → Track API keys: the Site ID."},
		{Name: "api_key", Label: "Track API key", Secret: true, Required: true, Description: "The API key next to that Site ID (a Track API key, not an App API key)."},
		{Name: "region", Label: "Region", Description: "us (default, track.customer.io) or eu (track-eu.customer.io), as on your account's privacy page."},
	},
	DefaultEventTypes: eventTypes,
	Templates: []outbound.Template{
		{Name: "event", Description: "Dodo Payments: person events \"purchase\" (revenue in major units), \"payment_failed\", \"refund\", \"subscription_active\"/\"_renewed\"/\"_cancelled\"/..., identified by customer_id (or email), with a ULID id so retries trigger once.", EventTypes: eventTypes, Code: eventJS},
		{Name: "identify", Description: "Dodo Payments: identify the customer (id = customer_id) with email and name.", EventTypes: []string{"payment.succeeded", "subscription.active", "subscription.updated"}, Code: identifyJS},
	},
	Authorize:    Authorize,
	Validate:     validate,
	Endpoint:     endpoint,
	ErrorMessage: errorMessage,
}

var eventTypes = []string{
	"payment.succeeded", "payment.failed", "refund.succeeded",
	"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
	"subscription.cancelled", "subscription.failed", "subscription.expired",
}

// Authorize sends site id and API key as HTTP Basic user and password.
func Authorize(cfg map[string]string, h http.Header) {
	if cfg["site_id"] != "" && cfg["api_key"] != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cfg["site_id"]+":"+cfg["api_key"])))
	}
}

func validate(cfg map[string]string) error {
	if strings.ContainsAny(cfg["site_id"], ": \t\r\n") {
		return errors.New("site_id: expected the Site ID from Track API keys, letters and digits without spaces or colons")
	}
	if strings.ContainsAny(cfg["api_key"], " \t\r\n") {
		return errors.New("api_key: expected the Track API key, letters and digits without spaces")
	}
	_, err := outbound.Choice(cfg, "region", "us", "us", "eu")
	return err
}

func endpoint(cfg map[string]string) string {
	region, err := outbound.Choice(cfg, "region", "us", "us", "eu")
	if err != nil {
		region = "us"
	}
	return hosts[region] + "/api/v2/entity"
}

// errorMessage reads the Track API's errors: v2's {"errors": [{"reason",
// "field", "message"}]} and the {"meta": {"error": "..."}} of an
// unauthorized request.
func errorMessage(body []byte) string {
	var e struct {
		Errors []struct {
			Reason  string `json:"reason"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
		Meta struct {
			Error string `json:"error"`
		} `json:"meta"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Meta.Error != "" {
		return e.Meta.Error
	}
	msgs := make([]string, 0, len(e.Errors))
	for _, x := range e.Errors {
		m := x.Message
		if x.Field != "" {
			m = x.Field + ": " + m
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}
