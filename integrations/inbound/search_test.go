package inbound

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/store"
)

func TestSearchKeysOfProviderBodies(t *testing.T) {
	const (
		maria = "cus_3xK8pQw2ZrV6mN1tY9bL"
		jenny = "cus_RqT5mN2bVx8YzA"
		pi    = "pi_3QxR2kLkdIwHu7ix0aB7cD9e"
		ch    = "ch_3QxR2kLkdIwHu7ix0Lq1dE5s"
	)
	cases := []struct {
		file string
		want store.SearchKeys
	}{
		{"dodo/payment.succeeded.usd.json", keys(maria, "maria.lopez@example.com", []string{"pay_2IjeQm4hqU6RA4Z4kwDee"})},
		{"dodo/payment.failed.json", keys(maria, "maria.lopez@example.com", []string{"pay_1AsD3fG5hJ7kL9zX1cV3b"})},
		{"dodo/refund.succeeded.json", keys(maria, "maria.lopez@example.com", []string{"pay_2IjeQm4hqU6RA4Z4kwDee"})},
		{"dodo/dispute.opened.json", keys(maria, "maria.lopez@example.com", []string{"pay_2IjeQm4hqU6RA4Z4kwDee"})},
		{"dodo/subscription.renewed.json", keys(maria, "maria.lopez@example.com", nil)},
		{"dodo/credit.added.json", keys(maria, "", nil)},
		{"dodo/license_key.created.json", keys(maria, "", []string{"pay_2IjeQm4hqU6RA4Z4kwDee"})},
		{"stripe/payment_intent.succeeded.json", keys(jenny, "jenny.rosen@example.com", []string{pi})},
		{"stripe/charge.refunded.json", keys(jenny, "jenny.rosen@example.com", []string{pi, ch})},
		{"stripe/refund.created.json", keys("", "", []string{pi, ch})},
		{"stripe/charge.dispute.created.json", keys("", "", []string{"pi_3QxP7tLkdIwHu7ix1Fg4Hi5J", "ch_3QxP7tLkdIwHu7ix1Ab2Cd3E"})},
		{"cryptomus/paid.json", keys("", "", []string{"62f88b36-a9d5-4fa6-aa26-e040c3dbf26d", "ord-10482"})},
		{"cryptomus/cancel.json", keys("", "", []string{"0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a", "ord-10533"})},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("..", "..", "testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := SearchKeys(body); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("SearchKeys = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestSearchKeysOfOddBodies(t *testing.T) {
	long := make([]byte, 201)
	for i := range long {
		long[i] = 'a'
	}
	cases := []struct {
		name, body string
		want       store.SearchKeys
	}{
		{"not json", `nope`, store.SearchKeys{}},
		{"array", `[1,2]`, store.SearchKeys{}},
		{"wrong types", `{"data":{"payment_id":7,"customer":{"customer_id":{"x":1},"email":true}}}`, store.SearchKeys{}},
		{"null customer", `{"data":{"customer":null,"payment_id":"pay_1"}}`, store.SearchKeys{PaymentIDs: []string{"pay_1"}}},
		{"email upper case", `{"data":{"customer":{"customer_id":"c","email":" Ann@Example.COM "}}}`, store.SearchKeys{CustomerID: "c", Email: "ann@example.com"}},
		{"overlong id ignored", `{"data":{"payment_id":"` + string(long) + `"}}`, store.SearchKeys{}},
		{"stripe expanded customer", `{"data":{"object":{"object":"checkout.session","customer":{"id":"cus_x"},"customer_details":{"email":"B@x.io"},"payment_intent":"pi_1"}}}`,
			store.SearchKeys{CustomerID: "cus_x", Email: "b@x.io", PaymentIDs: []string{"pi_1"}}},
		{"stripe invoice email", `{"data":{"object":{"object":"invoice","id":"in_1","customer":"cus_y","customer_email":"c@x.io"}}}`,
			store.SearchKeys{CustomerID: "cus_y", Email: "c@x.io"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := SearchKeys([]byte(c.body)); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("SearchKeys = %+v, want %+v", got, c.want)
			}
		})
	}
}

// SearchKeys takes any body without panicking and keeps to its bounds.
func FuzzSearchKeys(f *testing.F) {
	for _, dir := range []string{"dodo", "stripe", "cryptomus"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", dir, "*.json"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"uuid":"u1","data":` + strings.Repeat(`{"data":`, MaxDepthCeiling) + `}`))
	f.Add([]byte(`{"data":{"object":{"customer":{"id":"cus_1"},"billing_details":{"email":" A@B.C "}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > fuzzMaxBody {
			return
		}
		k := SearchKeys(body)
		if len(k.CustomerID) > maxKeyLen || len(k.Email) > maxKeyLen || len(k.PaymentIDs) > maxPaymentIDs {
			t.Fatalf("keys out of bounds: %+v", k)
		}
		if k.Email != NormalizeEmail(k.Email) {
			t.Fatalf("email %q is not normalised", k.Email)
		}
		for _, p := range k.PaymentIDs {
			if p == "" || len(p) > maxKeyLen {
				t.Fatalf("payment id %q out of bounds", p)
			}
		}
	})
}

// keys is a table row's expected search keys.
func keys(customerID, email string, paymentIDs []string) store.SearchKeys {
	return store.SearchKeys{CustomerID: customerID, Email: email, PaymentIDs: paymentIDs}
}
