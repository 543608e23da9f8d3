package integrations_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
)

const closeKey = "api_4Xq7dTz9bH2mKp8wRv3nLs6YcJ1fGe5A"

// fakeClose answers like api.close.com's POST /api/v1/lead/: Basic auth
// with the API key as user name and an empty password; name a string,
// contacts a list of {name, emails: [{email}]}; errors as {"error": "..."}
// or {"errors": [], "field-errors": {...}}.
func fakeClose(t *testing.T) *fakeProvider {
	return newFakeProvider(t, func(r *http.Request, b map[string]any) providerReply {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/lead/" {
			return providerReply{status: 404, body: `{"error": "Not found"}`}
		}
		if u, p, ok := r.BasicAuth(); !ok || u != closeKey || p != "" {
			return providerReply{status: 401, body: `{"error": "The API key is invalid or has been revoked."}`}
		}
		if _, ok := b["name"].(string); !ok {
			return providerReply{status: 400, body: `{"errors": [], "field-errors": {"name": "This field is required."}}`}
		}
		contacts, _ := b["contacts"].([]any)
		for _, c := range contacts {
			cm, _ := c.(map[string]any)
			emails, _ := cm["emails"].([]any)
			for _, e := range emails {
				em, _ := e.(map[string]any)
				if s, _ := em["email"].(string); !strings.Contains(s, "@") {
					return providerReply{status: 400, body: `{"errors": [], "field-errors": {"contacts": {"0": {"emails": {"0": {"email": "Invalid email address."}}}}}}`}
				}
			}
		}
		return providerReply{status: 200, body: `{"id": "lead_IIDHIStmFDYQZTXzMyBOnDGtJVkBb1eLrCz4pmeJWJu", "display_name": "` + b["name"].(string) + `"}`}
	})
}

// A signed Dodo payment.succeeded in, a Close lead out.
func TestCloseEndToEnd(t *testing.T) {
	f := fakeClose(t)
	dest := catalogDestination(t, "close", f.URL+"/api/v1/lead/", map[string]string{"api_key": closeKey})
	ev := verifiedDodoEvent(t, "payment.succeeded.usd.json")

	expectOutcome(t, "lead", deliverOnce(t, f.Client(), dest, ev), outbound.Delivered, 200, "")
	b, _ := f.last(t)
	fieldsEqual(t, b, map[string]any{"name": mariaName})
	if d, _ := b["description"].(string); !strings.Contains(d, "Paid 29.99 USD (pay_2IjeQm4hqU6RA4Z4kwDee)") || !strings.Contains(d, mariaID) {
		t.Errorf("description = %q", d)
	}
	contact := b["contacts"].([]any)[0].(map[string]any)
	if contact["emails"].([]any)[0].(map[string]any)["email"] != maria || contact["phones"].([]any)[0].(map[string]any)["phone"] != "+34 612 345 678" {
		t.Errorf("contact = %v", contact)
	}
	if addr := b["addresses"].([]any)[0].(map[string]any); addr["country"] != "ES" || addr["city"] != "Madrid" {
		t.Errorf("address = %v", addr)
	}

	bad := dest
	bad.Config = map[string]string{"api_key": "api_revokedrevokedrevoked"}
	expectOutcome(t, "bad key", deliverOnce(t, f.Client(), bad, ev), outbound.Permanent, 401, "HTTP 401: The API key is invalid or has been revoked.")
	checkRetried(t, f, dest, ev,
		providerReply{status: 429, header: map[string]string{"Retry-After": "3", "RateLimit": "limit=40, remaining=0, reset=3"}, body: `{"error": {"rate_reset": 2.5, "message": "API call count exceeded for this period", "rate_limit_type": "key"}}`},
		providerReply{status: 503, body: `{"error": "Service unavailable"}`})

	// Close's field errors name the field.
	f.answerNext(providerReply{status: 400, body: `{"errors": [], "field-errors": {"name": "This field is required."}}`})
	expectOutcome(t, "field error", deliverOnce(t, f.Client(), dest, ev), outbound.Permanent, 400, "HTTP 400: name: This field is required.")
	spec, _ := integrations.Lookup("close")
	if got := spec.ErrorMessage([]byte(`{"error": {"rate_reset": 2.5, "message": "API call count exceeded for this period"}}`)); got != "API call count exceeded for this period" {
		t.Errorf("429 message = %q", got)
	}
}

func TestCloseTemplates(t *testing.T) {
	url := "https://api.close.com/api/v1/lead/"
	// A renewal's payment is not a new lead.
	for _, file := range []string{"payment.succeeded.renewal.json", "subscription.renewed.json", "refund.succeeded.json"} {
		if res := runOn(t, "close", "lead", "dodo", file, url, nil); !res.Cancel {
			t.Errorf("%s sent %s", file, res.Payload)
		}
	}
	b := body(t, runOn(t, "close", "lead", "dodo", "subscription.active.json", url, nil))
	if d, _ := b["description"].(string); !strings.HasPrefix(d, "Subscribed: 25.00 USD every month (sub_") {
		t.Errorf("description = %q", d)
	}
	b = body(t, runOn(t, "close", "lead", "dodo", "payment.succeeded.kwd.json", url, nil))
	if d, _ := b["description"].(string); !strings.HasPrefix(d, "Paid 12.500 KWD") {
		t.Errorf("description = %q", d)
	}
	b = body(t, runOn(t, "close", "stripe", "stripe", "payment_intent.succeeded.json", url, nil))
	if b["name"] != "jenny.rosen@example.com" || !strings.HasPrefix(b["description"].(string), "Paid ") {
		t.Errorf("stripe lead = %v", b)
	}
}

func TestCloseAuthAndValidate(t *testing.T) {
	spec, _ := integrations.Lookup("close")
	h := http.Header{}
	spec.Authorize(map[string]string{"api_key": closeKey}, h)
	req, _ := http.NewRequest("POST", "https://api.close.com/api/v1/lead/", nil)
	req.Header = h
	if u, p, ok := req.BasicAuth(); !ok || u != closeKey || p != "" {
		t.Errorf("BasicAuth = %q %q %v", u, p, ok)
	}
	if err := spec.Validate(map[string]string{"api_key": closeKey}); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"4Xq7dTz9bH2mKp8wRv3nLs6YcJ1fGe5A", "api_short", "api_4Xq7dTz9bH2mKp8w Rv3nLs6YcJ1fGe5A"} {
		err := spec.Validate(map[string]string{"api_key": bad})
		if err == nil || !strings.Contains(err.Error(), "config.api_key must be a Close API key: api_") || strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
