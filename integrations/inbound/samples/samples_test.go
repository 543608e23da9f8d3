package samples_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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

// The embedded samples are copies of the repository's testdata (go:embed
// cannot reach a parent folder); they must not drift from what the
// receiver's tests verify. Every testdata event is offered, byte for byte.
func TestSamplesAreTheTestdata(t *testing.T) {
	dirs := map[string]string{"standard-webhooks": "dodo", "stripe": "stripe", "cryptomus": "cryptomus", "hmac": "hmac"}
	for kind, dir := range dirs {
		want, err := filepath.Glob(filepath.Join("..", "..", "..", "testdata", dir, "*.json"))
		if err != nil || len(want) == 0 {
			t.Fatalf("testdata/%s: %v (%d files)", dir, err, len(want))
		}
		got, err := filepath.Glob(filepath.Join(kind, "*.json"))
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s has %d samples, testdata/%s has %d events: copy the new ones (cp testdata/%s/*.json integrations/inbound/samples/%s/)",
				kind, len(got), dir, len(want), dir, kind)
		}
		for _, w := range want {
			a, _ := os.ReadFile(w)
			b, err := os.ReadFile(filepath.Join(kind, filepath.Base(w)))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s/%s differs from %s: copy it again", kind, filepath.Base(w), w)
			}
		}
	}
}
