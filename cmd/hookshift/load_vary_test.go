package main

import (
	"os"
	"slices"
	"testing"

	"github.com/hookshift/hookshift/integrations/inbound"
)

// With --vary-search-keys each request's body keeps its length and its
// shape, and carries a customer id, e-mail and payment id no other request
// has; a body with nothing to vary is refused.
func TestLoadVariants(t *testing.T) {
	body, err := os.ReadFile("../../testdata/dodo/payment.succeeded.usd.json")
	if err != nil {
		t.Fatal(err)
	}
	lv, err := newLoadVariants(body)
	if err != nil {
		t.Fatal(err)
	}
	orig := inbound.SearchKeys(body)
	seen := map[string]int{}
	for _, i := range []int{0, 1, 35, 36, 1295, 99999} {
		b := lv.body(body, i)
		if len(b) != len(body) {
			t.Fatalf("request %d: %d bytes, want %d", i, len(b), len(body))
		}
		k := inbound.SearchKeys(b)
		if k.CustomerID == "" || k.Email == "" || len(k.PaymentIDs) == 0 {
			t.Fatalf("request %d lost a search key: %+v", i, k)
		}
		if i != 0 && (k.CustomerID == orig.CustomerID || k.Email == orig.Email || slices.Equal(k.PaymentIDs, orig.PaymentIDs)) {
			t.Fatalf("request %d kept a search key of the original: %+v", i, k)
		}
		for _, v := range append([]string{k.CustomerID, k.Email}, k.PaymentIDs...) {
			if j, dup := seen[v]; dup {
				t.Fatalf("requests %d and %d share %q", j, i, v)
			}
			seen[v] = i
		}
	}
	if _, err := newLoadVariants([]byte(`{"type":"x","data":{}}`)); err == nil {
		t.Fatal("a body without search keys was accepted")
	}
}
