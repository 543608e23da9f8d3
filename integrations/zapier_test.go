package integrations_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
)

const zapierHookPath = "/hooks/catch/1234567/abc9xyz/"

// fakeZapier answers like hooks.zapier.com: the hook path is the
// credential, any JSON object is taken (the test also insists it is flat,
// which is what the templates promise), success is 200
// {"attempt","id","request_id","status":"success"}.
func fakeZapier(t *testing.T) *fakeProvider {
	return newFakeProvider(t, func(r *http.Request, b map[string]any) providerReply {
		if r.Method != http.MethodPost || r.URL.Path != zapierHookPath {
			return providerReply{status: 404, body: "Not Found"}
		}
		if b == nil {
			return providerReply{status: 400, body: `{"status":"error","message":"Body is not a JSON object"}`}
		}
		for k, v := range b {
			switch v.(type) {
			case map[string]any, []any:
				return providerReply{status: 400, body: `{"status":"error","message":"nested field ` + k + `"}`}
			}
		}
		return providerReply{status: 200, body: `{"attempt":"0193b8c2-7e1f-7c3a-9d2e-5f6a7b8c9d0e","id":"0193b8c2-7e1f-7c3a-9d2e-5f6a7b8c9d0e","request_id":"0193b8c2-7e1f-7c3a-9d2e-5f6a7b8c9d0f","status":"success"}`}
	})
}

// A signed Dodo payment.succeeded in, one flat object out at the Catch Hook.
func TestZapierEndToEnd(t *testing.T) {
	f := fakeZapier(t)
	url := f.URL + zapierHookPath
	dest := catalogDestination(t, "zapier", url, map[string]string{"webhook_url": url})
	ev := verifiedDodoEvent(t, "payment.succeeded.usd.json")

	expectOutcome(t, "success", deliverOnce(t, f.Client(), dest, ev), outbound.Delivered, 200, "")
	b, _ := f.last(t)
	fieldsEqual(t, b, map[string]any{
		"event_type": "payment.succeeded", "amount": 29.99, "amount_minor": 2999.0, "amount_formatted": "29.99 USD",
		"tax": 4.99, "currency": "USD", "payment_id": "pay_2IjeQm4hqU6RA4Z4kwDee", "customer_id": mariaID,
		"customer_email": maria, "customer_name": mariaName, "metadata_plan": "pro_monthly", "metadata_seats": 3.0,
		"metadata_trial": false, "subscription_id": nil, "error_message": nil,
	})

	// A hook that does not exist (deleted, or a mistyped URL): permanent.
	gone := dest
	gone.URL = f.URL + "/hooks/catch/1234567/deleted/"
	expectOutcome(t, "unknown hook", deliverOnce(t, f.Client(), gone, ev), outbound.Permanent, 404, "HTTP 404: Not Found")
	checkRetried(t, f, dest, ev,
		providerReply{status: 429, header: map[string]string{"Retry-After": "60"}, body: `{"status":"throttled","message":"Too many requests"}`},
		providerReply{status: 503, body: "Service Unavailable"})

	spec, _ := integrations.Lookup("zapier")
	if shown := spec.ShownURL(url); strings.Contains(shown, "abc9xyz") {
		t.Errorf("shown URL %q", shown)
	}
}

func TestZapierTemplates(t *testing.T) {
	cases := []struct {
		dir, file, tpl string
		want           map[string]any
	}{
		{"dodo", "payment.succeeded.jpy.json", "default", map[string]any{"amount": 4500.0, "currency": "JPY", "amount_formatted": "4,500 JPY"}},
		{"dodo", "payment.succeeded.kwd.json", "default", map[string]any{"amount": 12.5, "amount_minor": 12500.0}},
		{"dodo", "refund.succeeded.json", "default", map[string]any{"event_type": "refund.succeeded", "amount": 10.0, "is_partial": true, "refund_id": "ref_9LkJ7hG5fD3sA1pO9iU7y", "payment_id": "pay_2IjeQm4hqU6RA4Z4kwDee", "customer_email": maria}},
		{"dodo", "dispute.opened.json", "default", map[string]any{"amount": 29.99, "dispute_id": "dsp_2WsX4eD6rF8tG0yH2uJ4i"}},
		{"dodo", "subscription.renewed.json", "default", map[string]any{"recurring_amount": 25.0, "interval": "Month", "subscription_id": "sub_4rT6yU8iO0pQ2wE4rT6y", "customer_id": mariaID}},
		{"stripe", "payment_intent.succeeded.json", "stripe", map[string]any{"event_type": "payment_intent.succeeded", "currency": "USD", "object_id": "pi_3QxR2kLkdIwHu7ix0aB7cD9e"}},
		{"stripe", "refund.created.json", "stripe", map[string]any{"amount": 15.0, "amount_formatted": "15.00 USD"}},
		{"cryptomus", "paid.json", "cryptomus", map[string]any{"event_type": "cryptomus.paid", "amount": 15.0, "currency": "USD", "payer_currency": "USDT", "order_id": "ord-10482"}},
	}
	for _, tc := range cases {
		t.Run(tc.tpl+"/"+tc.file, func(t *testing.T) {
			res := runOn(t, "zapier", tc.tpl, tc.dir, tc.file, "https://hooks.zapier.com"+zapierHookPath, nil)
			b := body(t, res)
			for k, v := range b {
				switch v.(type) {
				case map[string]any, []any:
					t.Errorf("%s is nested: %v", k, v)
				}
			}
			fieldsEqual(t, b, tc.want)
		})
	}
}

func TestZapierValidate(t *testing.T) {
	spec, _ := integrations.Lookup("zapier")
	for _, ok := range []string{"https://hooks.zapier.com/hooks/catch/1234567/abc9xyz/", "https://hooks.zapier.com/hooks/catch/1234567/abc9xyz", "https://hooks.zapier.com/hooks/catch/1234567/abc9xyz/silent/"} {
		if err := spec.Validate(map[string]string{"webhook_url": ok}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://hooks.zapier.com/hooks/catch/1/leak/", "https://hooks.zapier.com.evil.example/hooks/catch/1/leak/", "https://hooks.zapier.com/hooks/standard/1/leak/", "leak"} {
		err := spec.Validate(map[string]string{"webhook_url": bad})
		if err == nil || !strings.Contains(err.Error(), "config.webhook_url must be a Zapier Catch Hook URL: https://hooks.zapier.com/hooks/catch/") || strings.Contains(err.Error(), "leak") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
