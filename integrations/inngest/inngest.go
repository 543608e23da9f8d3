// Package inngest is the Inngest destination: events sent to Inngest's
// event API, POST {base}/e/{event key}, which triggers the functions that
// listen for them. The event key is the credential and it is in the URL, so
// the URL is masked wherever it is shown (URLField), as a Slack URL is.
package inngest

import (
	_ "embed"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultBaseURL is Inngest Cloud's event API host.
const DefaultBaseURL = "https://inn.gs"

var (
	//go:embed templates/dodo.js
	dodoJS string
	//go:embed templates/stripe.js
	stripeJS string
	//go:embed templates/cryptomus.js
	cryptomusJS string
)

// Spec is the Inngest integration.
var Spec = outbound.Spec{
	Name:            "inngest",
	DefaultTemplate: "default",
	Title:           "Inngest",
	Description:     "Send each payment event to Inngest as an event (dodo/payment.succeeded, ...) that triggers your Inngest functions.",
	URLField:        "event_key",
	Auth:            "url",
	Fields: []outbound.Field{
		{Name: "event_key", Label: "Event key", Secret: true, Required: true, Description: "From Inngest → Manage → Event Keys (the key of the environment to send to)."},
		{Name: "base_url", Label: "Event API URL", Description: "https://inn.gs (default) for Inngest Cloud; your server's URL when self-hosting."},
	},
	Templates: []outbound.Template{
		{Name: "default", Description: "Dodo Payments: every event as \"dodo/<type>\" with the Dodo object as data plus amount_major (major units), user = customer id and email, id from the event for idempotency.", Code: dodoJS},
		{Name: "stripe", Description: "Stripe: every event as \"stripe/<type>\" with data.object as data plus amount_major, id = the Stripe event id.", Code: stripeJS},
		{Name: "cryptomus", Description: "Cryptomus: every callback as \"cryptomus/<status>\" with the callback (without sign) as data, id = uuid and status.", Code: cryptomusJS},
	},
	Validate:     validate,
	Endpoint:     endpoint,
	ErrorMessage: errorMessage,
}

func validate(cfg map[string]string) error {
	k := cfg["event_key"]
	if strings.ContainsAny(k, "/?#% \t\r\n") {
		return errors.New("event_key: expected the event key from Inngest → Event Keys (letters, digits, - and _), not a URL")
	}
	if b := cfg["base_url"]; b != "" {
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return errors.New("base_url: expected the event API's scheme and host, like https://inn.gs")
		}
	}
	return nil
}

func endpoint(cfg map[string]string) string {
	base := strings.TrimSuffix(cfg["base_url"], "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return base + "/e/" + url.PathEscape(cfg["event_key"])
}

// errorMessage reads Inngest's {"status": 401, "error": "Event key not
// found", "message": ""}.
func errorMessage(body []byte) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Error != "" {
		return e.Error
	}
	return e.Message
}
