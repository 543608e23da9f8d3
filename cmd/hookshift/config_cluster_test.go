package main

import (
	"strings"
	"testing"
)

// --delivery-shards (HOOKSHIFT_DELIVERY_SHARDS): default 1, the variable
// and the flag are read, and a count outside 1..256 is refused by name.
func TestDeliveryShardsFlag(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil || c.DeliveryShards != 1 {
		t.Fatalf("default: %d, %v", c.DeliveryShards, err)
	}
	t.Setenv("HOOKSHIFT_DELIVERY_SHARDS", "4")
	if c, _, err = parseServeFlags(nil); err != nil || c.DeliveryShards != 4 {
		t.Fatalf("from the environment: %d, %v", c.DeliveryShards, err)
	}
	if c, _, err = parseServeFlags([]string{"--delivery-shards", "6"}); err != nil || c.DeliveryShards != 6 {
		t.Fatalf("flag over the environment: %d, %v", c.DeliveryShards, err)
	}
	for _, bad := range []string{"0", "257"} {
		_, _, err := parseServeFlags([]string{"--delivery-shards", bad})
		if err == nil || !strings.Contains(err.Error(), "HOOKSHIFT_DELIVERY_SHARDS") || !strings.Contains(err.Error(), "1 to 256") {
			t.Errorf("--delivery-shards %s: %v", bad, err)
		}
	}
}
