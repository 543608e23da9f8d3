package rules

import (
	"testing"

	"github.com/hookshift/hookshift/store"
)

// Takes is the one event-type filter: the fan-out and a replay both ask it.
func TestTakes(t *testing.T) {
	for _, c := range []struct {
		filter   []string
		disabled bool
		typ      string
		want     bool
	}{
		{nil, false, "payment.succeeded", true},
		{[]string{}, false, "anything", true},
		{nil, true, "payment.succeeded", false},
		{[]string{"payment.succeeded"}, false, "payment.succeeded", true},
		{[]string{"payment.succeeded"}, false, "payment.failed", false},
		{[]string{"payment.*"}, false, "payment.failed", true},
		{[]string{"payment.*"}, false, "payment", false},
		{[]string{"payment.*"}, false, "paymentx.failed", false},
		{[]string{"*"}, false, "refund.succeeded", true},
		{[]string{"*"}, true, "refund.succeeded", false},
		{[]string{"refund.succeeded", "dispute.*"}, false, "dispute.opened", true},
	} {
		d := store.Destination{EventTypes: c.filter, Disabled: c.disabled}
		if got := Takes(d, c.typ); got != c.want {
			t.Errorf("filter %v disabled %v, %s: %v, want %v", c.filter, c.disabled, c.typ, got, c.want)
		}
	}
	ds := []store.Destination{{ID: "a"}, {ID: "b", Disabled: true}, {ID: "c", EventTypes: []string{"refund.*"}}, {ID: "d", EventTypes: []string{"payment.*"}}}
	got := Targets(ds, "payment.succeeded")
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "d" {
		t.Fatalf("targets %v", got)
	}
}

// Rates the throttle can keep: 0 or 0.01 to 10,000 per second.
func TestCheckRate(t *testing.T) {
	for v, ok := range map[float64]bool{0: true, 0.01: true, 1: true, 10000: true, 1e-300: false, 0.0099: false, -1: false, 10000.5: false} {
		if err := CheckRate(v); (err == nil) != ok {
			t.Errorf("CheckRate(%g) = %v", v, err)
		}
	}
}

// Which env values are secret: the listed ones and those named like a
// credential.
func TestIsSecretEnv(t *testing.T) {
	d := store.Destination{SecretEnv: []string{"SHOP_ID"}}
	for k, want := range map[string]bool{"SHOP_ID": true, "api_key": true, "DATAFAST_TOKEN": true, "webhookSecret": true,
		"password": true, "currency": false, "shop": false, "REGION": false} {
		if got := IsSecretEnv(d, k); got != want {
			t.Errorf("IsSecretEnv(%q) = %v, want %v", k, got, want)
		}
	}
}

// A zero limit takes its default; a set one is kept.
func TestLimitsDefaults(t *testing.T) {
	l := Limits{MaxSources: 3}.WithDefaults()
	if l.MaxSources != 3 || l.MaxDestinations != DefaultLimits().MaxDestinations || l.MaxURLBytes != 2048 {
		t.Fatalf("%+v", l)
	}
}
