package integrations_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
)

const loopsKey = "d2d561f5ff80136f69b4b5a31b9fb3c9"

// fakeLoops answers like app.loops.so's POST /api/v1/events/send: Bearer
// API key; eventName (no colon) and email or userId required;
// eventProperties values strings, numbers or booleans; an Idempotency-Key
// (at most 100 characters) seen in the last 24 hours gets 409; success is
// {"success": true}, errors {"success": false, "message"}.
func fakeLoops(t *testing.T) *fakeProvider {
	seen := map[string]bool{}
	return newFakeProvider(t, func(r *http.Request, b map[string]any) providerReply {
		fail := func(status int, msg string) providerReply {
			return providerReply{status: status, body: `{"success":false,"message":"` + msg + `"}`}
		}
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/events/send" {
			return fail(404, "Not found")
		}
		if !bearer(r, loopsKey) {
			return fail(401, "Invalid API key")
		}
		name, _ := b["eventName"].(string)
		email, _ := b["email"].(string)
		userID, _ := b["userId"].(string)
		if name == "" || strings.Contains(name, ":") {
			return fail(400, "eventName is required and cannot contain colons")
		}
		if email == "" && userID == "" {
			return fail(400, "An email or userId is required")
		}
		if props, ok := b["eventProperties"]; ok {
			pm, isMap := props.(map[string]any)
			if !isMap {
				return fail(400, "eventProperties must be an object")
			}
			for k, v := range pm {
				switch v.(type) {
				case string, float64, bool:
				default:
					return fail(400, "Invalid event property type for "+k)
				}
			}
		}
		key := r.Header.Get("Idempotency-Key")
		if len(key) > 100 {
			return fail(400, "Idempotency-Key must be 100 characters or fewer")
		}
		if key != "" {
			if seen[key] {
				return fail(409, "Idempotency key has already been used in the last 24 hours")
			}
			seen[key] = true
		}
		return providerReply{status: 200, body: `{"success":true}`}
	})
}

// A signed Dodo payment.succeeded in, a paymentSucceeded event out.
func TestLoopsEndToEnd(t *testing.T) {
	f := fakeLoops(t)
	dest := catalogDestination(t, "loops", f.URL+"/api/v1/events/send", map[string]string{"api_key": loopsKey})
	ev := verifiedDodoEvent(t, "payment.succeeded.usd.json")

	expectOutcome(t, "event", deliverOnce(t, f.Client(), dest, ev), outbound.Delivered, 200, "")
	b, h := f.last(t)
	fieldsEqual(t, b, map[string]any{"email": maria, "userId": mariaID, "eventName": "paymentSucceeded", "firstName": "María", "lastName": "López"})
	fieldsEqual(t, b["eventProperties"].(map[string]any), map[string]any{"amount": 29.99, "amountFormatted": "29.99 USD", "currency": "USD", "paymentId": "pay_2IjeQm4hqU6RA4Z4kwDee", "subscriptionId": nil, "errorMessage": nil, "occurredAt": "2025-03-14T09:26:53.412Z"})
	if k := h.Get("Idempotency-Key"); k == "" || len(k) > 100 {
		t.Errorf("Idempotency-Key %q: Loops takes 1 to 100 characters", k)
	}

	// The same delivery again: Loops refuses the reused key with 409,
	// which Spec.Accepted reads as "already sent".
	f.answerNext(providerReply{status: 409, body: `{"success":false,"message":"Idempotency key has already been used in the last 24 hours"}`})
	o := deliverOnce(t, f.Client(), dest, ev)
	spec, _ := integrations.Lookup("loops")
	if o.StatusCode != 409 || !spec.Accepted(o.StatusCode, nil) {
		t.Errorf("replay: %+v; Accepted(409) = %v", o, spec.Accepted(409, nil))
	}
	if spec.Accepted(400, nil) || spec.Accepted(401, nil) {
		t.Error("Accepted must only take 409")
	}

	bad := dest
	bad.Config = map[string]string{"api_key": "00000000000000000000000000000000"}
	expectOutcome(t, "bad key", deliverOnce(t, f.Client(), bad, verifiedDodoEvent(t, "payment.succeeded.jpy.json")), outbound.Permanent, 401, "HTTP 401: Invalid API key")
	checkRetried(t, f, dest, ev,
		providerReply{status: 429, header: map[string]string{"Retry-After": "1", "x-ratelimit-limit": "10", "x-ratelimit-remaining": "0"}, body: `{"success":false,"message":"Rate limit exceeded."}`},
		providerReply{status: 500, body: `{"success":false,"message":"Internal server error"}`})
}

func TestLoopsTemplates(t *testing.T) {
	url := "https://app.loops.so/api/v1/events/send"
	cases := []struct {
		dir, file, tpl, event string
		props                 map[string]any
	}{
		{"dodo", "payment.succeeded.kwd.json", "events", "paymentSucceeded", map[string]any{"amount": 12.5, "amountFormatted": "12.500 KWD"}},
		{"dodo", "payment.failed.json", "events", "paymentFailed", map[string]any{"errorMessage": "Your card was declined."}},
		{"dodo", "refund.succeeded.json", "events", "refundSucceeded", map[string]any{"amount": 10.0, "isPartial": true, "refundId": "ref_9LkJ7hG5fD3sA1pO9iU7y"}},
		{"dodo", "subscription.cancelled.json", "events", "subscriptionCancelled", map[string]any{"amount": 25.0, "interval": "Month"}},
		{"stripe", "payment_intent.succeeded.json", "stripe", "paymentSucceeded", map[string]any{"currency": "USD"}},
		{"stripe", "charge.refunded.json", "stripe", "refundCreated", map[string]any{"amount": 15.0}},
	}
	for _, tc := range cases {
		b := body(t, runOn(t, "loops", tc.tpl, tc.dir, tc.file, url, nil))
		if b["eventName"] != tc.event {
			t.Errorf("%s: eventName %v, want %s", tc.file, b["eventName"], tc.event)
		}
		props := b["eventProperties"].(map[string]any)
		for k, v := range props {
			switch v.(type) {
			case string, float64, bool:
			default:
				t.Errorf("%s: property %s is a %T; Loops takes strings, numbers and booleans", tc.file, k, v)
			}
		}
		fieldsEqual(t, props, tc.props)
	}
	for _, file := range []string{"license_key.created.json", "credit.added.json"} {
		if res := runOn(t, "loops", "events", "dodo", file, url, nil); !res.Cancel {
			t.Errorf("%s sent %s", file, res.Payload)
		}
	}
}

func TestLoopsValidate(t *testing.T) {
	spec, _ := integrations.Lookup("loops")
	if err := spec.Validate(map[string]string{"api_key": loopsKey}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"re_123456789abcdef", "D2D561F5FF80136F69B4B5A31B9FB3C9X", "d2d561f5"} {
		err := spec.Validate(map[string]string{"api_key": bad})
		if err == nil || !strings.Contains(err.Error(), "config.api_key must be a Loops API key: 32 hexadecimal characters") || strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
