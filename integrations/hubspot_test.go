package integrations_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
)

const hubspotToken = "pat-na1-2b8f4c1d-6e3a-4f7b-9c2d-1a0e5f6b7c8d"

// fakeHubSpot answers like api.hubapi.com's CRM v3 batch upsert: Bearer
// private app token, {"inputs":[{idProperty, id, properties}]} where
// idProperty must be a unique-value property of the object (contacts:
// email; deals: the merchant's dodo_payment_id), property values strings or
// numbers; errors are {"status":"error","message","correlationId","category"}.
func fakeHubSpot(t *testing.T) *fakeProvider {
	unique := map[string]string{"contacts": "email", "deals": "dodo_payment_id"}
	return newFakeProvider(t, func(r *http.Request, b map[string]any) providerReply {
		fail := func(status int, category, msg string) providerReply {
			return providerReply{status: status, body: `{"status":"error","message":"` + msg + `","correlationId":"8c0b4f3e-1d2a-4b5c-9e8f-7a6b5c4d3e2f","category":"` + category + `"}`}
		}
		object := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/crm/v3/objects/"), "/batch/upsert")
		if r.Method != http.MethodPost || unique[object] == "" || !strings.HasSuffix(r.URL.Path, "/batch/upsert") {
			return fail(404, "OBJECT_NOT_FOUND", "Unable to infer object type from: "+r.URL.Path)
		}
		if !bearer(r, hubspotToken) {
			return fail(401, "INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
		}
		inputs, _ := b["inputs"].([]any)
		if len(inputs) == 0 || len(inputs) > 100 {
			return fail(400, "VALIDATION_ERROR", "inputs must hold 1 to 100 records")
		}
		for _, in := range inputs {
			m, _ := in.(map[string]any)
			id, _ := m["id"].(string)
			props, okP := m["properties"].(map[string]any)
			if m["idProperty"] != unique[object] || id == "" || !okP {
				return fail(400, "VALIDATION_ERROR", "Property \\\"idProperty\\\" must be a unique value property of "+object)
			}
			for k, v := range props {
				switch v.(type) {
				case string, float64:
				default:
					return fail(400, "VALIDATION_ERROR", "Property values were not valid: "+k)
				}
			}
		}
		return providerReply{status: 200, body: `{"status":"COMPLETE","results":[{"id":"51","new":true,"properties":{}}],"startedAt":"2025-03-14T09:26:54Z","completedAt":"2025-03-14T09:26:54Z"}`}
	})
}

// A signed Dodo payment.succeeded in, a contact upsert keyed on email out.
func TestHubSpotEndToEnd(t *testing.T) {
	f := fakeHubSpot(t)
	dest := catalogDestination(t, "hubspot", f.URL+"/crm/v3/objects/contacts/batch/upsert", map[string]string{"access_token": hubspotToken})
	ev := verifiedDodoEvent(t, "payment.succeeded.usd.json")

	expectOutcome(t, "contact", deliverOnce(t, f.Client(), dest, ev), outbound.Delivered, 200, "")
	b, _ := f.last(t)
	in := b["inputs"].([]any)[0].(map[string]any)
	fieldsEqual(t, in, map[string]any{"idProperty": "email", "id": maria})
	fieldsEqual(t, in["properties"].(map[string]any), map[string]any{"email": maria, "firstname": "María", "lastname": "López", "phone": "+34 612 345 678", "city": "Madrid", "zip": "28014", "country": "ES"})

	// The deal template: the payment as a closed-won deal, amount in major units.
	expectOutcome(t, "deal", deliverOnce(t, f.Client(), withTemplate(t, dest, "deal"), verifiedDodoEvent(t, "payment.succeeded.kwd.json")), outbound.Delivered, 200, "")
	b, _ = f.last(t)
	in = b["inputs"].([]any)[0].(map[string]any)
	fieldsEqual(t, in, map[string]any{"idProperty": "dodo_payment_id", "id": "pay_3ZxC5vB7nM9aS1dF3gH5j"})
	fieldsEqual(t, in["properties"].(map[string]any), map[string]any{"amount": 12.5, "deal_currency_code": "KWD", "dealstage": "closedwon", "pipeline": "default", "dodo_payment_id": "pay_3ZxC5vB7nM9aS1dF3gH5j", "dealname": "María López: 12.500 KWD", "closedate": "2025-03-15T08:40:10.774Z"})

	// A revoked token: permanent, HubSpot's category and message kept.
	bad := dest
	bad.Config = map[string]string{"access_token": "pat-na1-00000000-0000-4000-8000-000000000000"}
	expectOutcome(t, "bad token", deliverOnce(t, f.Client(), bad, ev), outbound.Permanent, 401, "HTTP 401: INVALID_AUTHENTICATION: Authentication credentials not found.")
	checkRetried(t, f, dest, ev,
		providerReply{status: 429, header: map[string]string{"Retry-After": "10"}, body: `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c1","policyName":"TEN_SECONDLY_ROLLING"}`},
		providerReply{status: 502, body: `{"status":"error","message":"Bad gateway","correlationId":"c2","category":"INTERNAL_ERROR"}`})
	// HubSpot's 429 reads errorType, not category.
	spec, _ := integrations.Lookup("hubspot")
	if got := spec.ErrorMessage([]byte(`{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT"}`)); got != "RATE_LIMIT: You have reached your secondly limit." {
		t.Errorf("429 message = %q", got)
	}
}

func TestHubSpotTemplates(t *testing.T) {
	url := "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert"
	for _, file := range []string{"license_key.created.json", "credit.added.json"} {
		if res := runOn(t, "hubspot", "contact", "dodo", file, url, nil); !res.Cancel {
			t.Errorf("contact on %s sent %s", file, res.Payload)
		}
	}
	res := runOn(t, "hubspot", "deal", "dodo", "payment.succeeded.jpy.json", url, nil)
	if res.URL != "https://api.hubapi.com/crm/v3/objects/deals/batch/upsert" {
		t.Errorf("deal URL = %q", res.URL)
	}
	props := body(t, res)["inputs"].([]any)[0].(map[string]any)["properties"].(map[string]any)
	fieldsEqual(t, props, map[string]any{"amount": 4500.0, "deal_currency_code": "JPY"})
	if res := runOn(t, "hubspot", "deal", "dodo", "refund.succeeded.json", url, nil); !res.Cancel {
		t.Errorf("deal on a refund sent %s", res.Payload)
	}
	in := body(t, runOn(t, "hubspot", "stripe", "stripe", "charge.refunded.json", url, nil))["inputs"].([]any)[0].(map[string]any)
	fieldsEqual(t, in, map[string]any{"idProperty": "email", "id": "jenny.rosen@example.com"})
	fieldsEqual(t, in["properties"].(map[string]any), map[string]any{"firstname": "Jenny", "lastname": "Rosen"})
}

// A token that is not a private app token is refused with the expected
// form, and the refusal never quotes what was pasted.
func TestHubSpotValidate(t *testing.T) {
	spec, _ := integrations.Lookup("hubspot")
	for _, ok := range []string{hubspotToken, "pat-eu1-2b8f4c1d-6e3a-4f7b-9c2d-1a0e5f6b7c8d", "pat-na2-2b8f4c1d-6e3a-4f7b-9c2d-1a0e5f6b7c8d"} {
		if err := spec.Validate(map[string]string{"access_token": ok}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"2b8f4c1d-6e3a-4f7b-9c2d-1a0e5f6b7c8d",                                // a legacy developer API key
		"CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKmlwHjX7OIpuIFEavB2-qYAGQsF4", // an OAuth access token
		"pat-na1-2b8f4c1d",
		"pat-na1-2b8f4c1d-6e3a-4f7b-9c2d-1a0e5f6b7c8d ",
	} {
		err := spec.Validate(map[string]string{"access_token": bad})
		if err == nil || !strings.Contains(err.Error(), "config.access_token must be a HubSpot private app access token: pat-<region>-<uuid>") || strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
