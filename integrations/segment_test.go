package integrations_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
)

func TestSegmentTrackTemplate(t *testing.T) {
	cases := []struct {
		event string
		name  string
		props map[string]any
	}{
		{"payment.succeeded.usd.json", "Payment Succeeded", map[string]any{"revenue": 29.99, "amount": 29.99, "tax": 4.99, "currency": "USD", "payment_id": "pay_2IjeQm4hqU6RA4Z4kwDee", "subscription_id": nil}},
		{"payment.succeeded.jpy.json", "Payment Succeeded", map[string]any{"revenue": 4500.0, "currency": "JPY"}},
		{"payment.succeeded.kwd.json", "Payment Succeeded", map[string]any{"revenue": 12.5, "currency": "KWD"}},
		{"payment.succeeded.renewal.json", "Payment Succeeded", map[string]any{"revenue": 29.99, "subscription_id": "sub_4rT6yU8iO0pQ2wE4rT6y"}},
		{"payment.failed.json", "Payment Failed", map[string]any{"revenue": nil, "amount": 29.99, "error": "Your card was declined."}},
		{"refund.succeeded.json", "Refund Succeeded", map[string]any{"revenue": nil, "amount": 10.0, "refund_id": "ref_9LkJ7hG5fD3sA1pO9iU7y", "is_partial": true}},
		{"dispute.opened.json", "Dispute Opened", map[string]any{"amount": 29.99, "dispute_id": "dsp_2WsX4eD6rF8tG0yH2uJ4i"}},
		{"subscription.renewed.json", "Subscription Renewed", map[string]any{"recurring_amount": 25.0, "interval": "Month", "subscription_id": "sub_4rT6yU8iO0pQ2wE4rT6y"}},
		{"credit.added.json", "Credit Added", map[string]any{"amount": 50.0, "id": "cle_5TgB7yH9nJ1mK3lP5oI7u"}},
		{"license_key.created.json", "License Key Created", nil},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.event, func(t *testing.T) {
			raw := fixture(t, "dodo", tc.event)
			res := mustRun(t, "segment", "track", "dodo", raw)
			if res.Cancel {
				t.Fatal("cancelled")
			}
			if res.URL != "https://api.segment.io/v1/track" {
				t.Errorf("URL = %q", res.URL)
			}
			b := body(t, res)
			fieldsEqual(t, b, map[string]any{"userId": mariaID, "event": tc.name})
			if ts, _ := b["timestamp"].(string); ts == "" {
				t.Errorf("no timestamp: %s", res.Payload)
			}
			id, _ := b["messageId"].(string)
			if id == "" || len(id) > 100 {
				t.Errorf("messageId = %q", id)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("messageId %q also used by %s", id, prev)
			}
			seen[id] = tc.event
			// Same event again (a retry or replay): same messageId.
			if again := body(t, mustRun(t, "segment", "track", "dodo", raw)); again["messageId"] != id {
				t.Errorf("messageId not stable: %v then %v", id, again["messageId"])
			}
			props, _ := b["properties"].(map[string]any)
			fieldsEqual(t, props, tc.props)
		})
	}
	noCustomer := patch(t, fixture(t, "dodo", "payment.succeeded.usd.json"), func(m map[string]any) { delete(m["data"].(map[string]any), "customer") })
	if res := mustRun(t, "segment", "track", "dodo", noCustomer); !res.Cancel {
		t.Errorf("sent without a userId: %s", res.Payload)
	}
}

func TestSegmentIdentifyTemplate(t *testing.T) {
	res := mustRun(t, "segment", "identify", "dodo", fixture(t, "dodo", "subscription.active.json"))
	if res.URL != "https://api.segment.io/v1/identify" {
		t.Errorf("URL = %q", res.URL)
	}
	b := body(t, res)
	fieldsEqual(t, b, map[string]any{"userId": mariaID, "timestamp": "2025-03-14T09:26:54.118203Z"})
	traits, _ := b["traits"].(map[string]any)
	fieldsEqual(t, traits, map[string]any{"email": maria, "name": mariaName})
	if id, _ := b["messageId"].(string); !strings.HasPrefix(id, "identify:"+mariaID+":") {
		t.Errorf("messageId = %q", id)
	}
	// No customer object (a license key): nothing to identify.
	if res := mustRun(t, "segment", "identify", "dodo", fixture(t, "dodo", "license_key.created.json")); !res.Cancel {
		t.Errorf("identify sent %s", res.Payload)
	}
}

// The write key is the Basic-auth user name with an empty password.
func TestSegmentAuthorize(t *testing.T) {
	spec, _ := integrations.Lookup("segment")
	h := http.Header{}
	spec.Authorize(map[string]string{"write_key": "wk_123"}, h)
	auth := h.Get("Authorization")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic "))
	if !strings.HasPrefix(auth, "Basic ") || err != nil || string(raw) != "wk_123:" {
		t.Fatalf("Authorization = %q (%q)", auth, raw)
	}
	req, _ := http.NewRequest("POST", "https://api.segment.io/v1/track", nil)
	req.Header = h
	if u, p, ok := req.BasicAuth(); !ok || u != "wk_123" || p != "" {
		t.Errorf("BasicAuth = %q %q %v", u, p, ok)
	}
}
