package samples_test

import (
	"encoding/json"
	"testing"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/integrations/inbound/samples"
)

// Every registered source kind has samples, each a JSON object with a type,
// so the console's test pane never offers an empty list.
func TestEveryKindHasTypedSamples(t *testing.T) {
	for _, kind := range inbound.Kinds() {
		ss, ok := samples.For(kind)
		if !ok || len(ss) == 0 {
			t.Fatalf("kind %s has no samples", kind)
		}
		for _, s := range ss {
			var obj map[string]any
			if err := json.Unmarshal(s.Payload, &obj); err != nil {
				t.Errorf("%s/%s: payload is not a JSON object: %v", kind, s.Name, err)
			}
			if s.EventType == "" {
				t.Errorf("%s/%s: no event type", kind, s.Name)
			}
		}
	}
	if _, ok := samples.For("nope"); ok {
		t.Fatal("an unknown kind has samples")
	}
	if _, ok := samples.For("."); ok {
		t.Fatal(`"." is not a kind`)
	}
}

func TestDerivedEventTypes(t *testing.T) {
	want := map[string]map[string]string{
		"standard-webhooks": {"payment.succeeded.usd": "payment.succeeded"},
		"stripe":            {"refund.created": "refund.created"},
		"cryptomus":         {"paid": "cryptomus.paid"},
		"hmac":              {"shopify-orders-paid": "orders/paid"},
	}
	for kind, names := range want {
		ss, _ := samples.For(kind)
		for name, typ := range names {
			found := false
			for _, s := range ss {
				if s.Name == name {
					found = true
					if s.EventType != typ {
						t.Errorf("%s/%s: type %q, want %q", kind, name, s.EventType, typ)
					}
				}
			}
			if !found {
				t.Errorf("%s/%s: missing", kind, name)
			}
		}
	}
}
