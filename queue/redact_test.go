package queue

import (
	"strings"
	"testing"
)

func TestRedactPayloadMasksCustomerAndSecrets(t *testing.T) {
	in := `{"event_id":"evt_1","body":{"type":"payment.succeeded","data":{"payment_id":"pay_1","total_amount":2999,
	"customer":{"customer_id":"cus_1","email":"ann.lee@example.com","name":"Ann Lee","phone_number":"+15551234567"},
	"metadata":{"api_key":"sk_live_1","note":"ok"},"sign":"abc123"}}}`
	out := RedactPayload(TypeIngest, []byte(in))
	for _, leaked := range []string{"ann.lee@", "Ann Lee", "5551234567", "sk_live_1", "abc123"} {
		if strings.Contains(out, leaked) {
			t.Errorf("redacted payload still shows %q:\n%s", leaked, out)
		}
	}
	for _, kept := range []string{`"pay_1"`, "2999", `"cus_1"`, "a***@example.com", "A***", "***67", `"ok"`, "[redacted]"} {
		if !strings.Contains(out, kept) {
			t.Errorf("redacted payload lost %q:\n%s", kept, out)
		}
	}
	if got := RedactPayload(TypeIngest, []byte("not json")); strings.Contains(got, "not json") {
		t.Errorf("non-JSON payload shown: %q", got)
	}
}

// Masking goes by classes of key names (normalised substrings), and masks
// arrays under a masked key element by element.
func TestRedactPayloadKeyClasses(t *testing.T) {
	cases := []struct {
		name, in string
		leaked   []string
		kept     []string
	}{
		{"billing street and zipcode", `{"billing":{"street":"12 Rue Oberkampf","zipcode":"75011","city":"Paris","country":"FR"}}`,
			[]string{"Oberkampf", "75011"}, []string{"Paris", "FR"}},
		{"stripe address lines", `{"data":{"object":{"billing_details":{"address":{"line1":"510 Townsend St","line2":"Apt 4","postal_code":"94103","state":"CA"},"name":"Jenny Rosen"}}}}`,
			[]string{"Townsend", "Apt 4", "94103", "Rosen"}, []string{"J***"}},
		{"address as a string", `{"customer":{"address":"1 Main St, Springfield"}}`, []string{"Main St"}, nil},
		{"shopify names", `{"customer":{"first_name":"Bob","last_name":"Norman","id":207119551},"shipping_address":{"first_name":"Bob","address1":"Chestnut Street 92","zip":"40202","phone":"+1 555-555-5555"}}`,
			[]string{"Norman", "Chestnut", "40202", "555-555-55"}, []string{"207119551", "B***", "N***"}},
		{"emails array", `{"emails":["ann@example.com","bob@example.org"],"contact":{"email_addresses":[{"value":"cy@example.net"}]}}`,
			[]string{"ann@", "bob@", "cy@"}, []string{"a***@example.com", "b***@example.org"}},
		{"numeric zip and phone", `{"billing":{"zip":94103,"phone":15551234567}}`, []string{"94103", "15551234567"}, nil},
		{"secret key names", `{"headers":{"x-api-key":"k1secret","X-Auth-Token":"k2secret"},"private_key":"k3secret","credentials":{"user":"u","pass":"k4secret"},"pwd":"k5secret","auth":"k6secret","card_number":"4242424242424242","cvv":"123","ssn":"078-05-1120","clientSecret":"k7secret","AccessKeyId":"k8secret","session_id":"k9secret"}`,
			[]string{"k1secret", "k2secret", "k3secret", "k4secret", "k5secret", "k6secret", "4242424242424242", `"123"`, "078-05-1120", "k7secret", "k8secret", "k9secret"}, []string{"[redacted]"}},
		{"secret arrays", `{"api_keys":["k1secret","k2secret"],"tokens":[{"v":"k3secret"}]}`, []string{"k1secret", "k2secret", "k3secret"}, nil},
		{"harmless names stay", `{"product":{"name":"Pro plan"},"author":"docs team","currency":"USD","payment_id":"pay_1","customer_id":"cus_1","business_id":"bus_1"}`,
			nil, []string{"Pro plan", "docs team", "USD", "pay_1", "cus_1", "bus_1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := RedactPayload(TypeDelivery, []byte(c.in))
			for _, l := range c.leaked {
				if strings.Contains(out, l) {
					t.Errorf("shows %q:\n%s", l, out)
				}
			}
			for _, k := range c.kept {
				if !strings.Contains(out, k) {
					t.Errorf("lost %q:\n%s", k, out)
				}
			}
		})
	}
}

// Error texts shown to operators lose personal data and credentials, and
// keep what says why.
func TestRedactText(t *testing.T) {
	cases := []struct {
		in     string
		leaked []string
		kept   []string
	}{
		{`HTTP 400: {"error":"customer ann.lee@example.com is not on this plan"}`, []string{"ann.lee@"}, []string{"HTTP 400", "a***@example.com", "not on this plan"}},
		{`HTTP 422: {"email":"x@y.io","first_name":"Zoë","phone":"0612345678","street":"Main St 1","code":"invalid"}`,
			[]string{"x@y.io", "Zoë", "0612345678", "Main St"}, []string{"HTTP 422", `"code":"invalid"`, "Z***"}},
		{`HTTP 400: {"name":"Ann Lee","status":"error"}`, []string{"Ann Lee"}, []string{`"status":"error"`, "A***"}},
		{`call +44 20 7946 0958 or (555) 123-4567`, []string{"7946 0958", "123-4567"}, []string{"***58", "***67"}},
		{`Post "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX": dial tcp: i/o timeout`, []string{"XXXXsecretXXXX", "T000/B000"}, []string{"hooks.slack.com/services/***", "i/o timeout"}},
		{`Post "https://discord.com/api/webhooks/123/abcTOKEN": EOF`, []string{"abcTOKEN"}, []string{"discord.com/api/webhooks/***"}},
		{`Post "https://user:hunter2@api.example.com/x?api_key=k_live_1&q=1": refused`, []string{"hunter2", "k_live_1"}, []string{"https://***@api.example.com", "q=1"}},
		{`HTTP 401: invalid Authorization: Bearer sk_live_51Habcdefghijklmnop`, []string{"sk_live_51Habcdefghijklmnop", "51Habc"}, []string{"HTTP 401"}},
		{`HTTP 401: api_key=abc123def456 rejected; token: zzzyyyxxx`, []string{"abc123def456", "zzzyyyxxx"}, []string{"HTTP 401", "rejected"}},
		{`signature mismatch for whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, []string{"signature mismatch"}},
		{`HTTP 403: key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 revoked`, []string{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}, []string{"revoked"}},
		{`HTTP 503: service_unavailable at 2026-11-23T09:30:41Z for evt_d7gjjbztpjbsbs76amiilcka pay_2IjeQm4hqU6RA4Z4kwDee`, nil,
			[]string{"HTTP 503: service_unavailable at 2026-11-23T09:30:41Z for evt_d7gjjbztpjbsbs76amiilcka pay_2IjeQm4hqU6RA4Z4kwDee"}},
		{`transform runtime error at line 3:40: TypeError: Cannot read property 'toLowerCase' of undefined`, nil,
			[]string{`transform runtime error at line 3:40: TypeError: Cannot read property 'toLowerCase' of undefined`}},
	}
	for _, c := range cases {
		out := RedactText(c.in)
		for _, l := range c.leaked {
			if strings.Contains(out, l) {
				t.Errorf("RedactText(%q) = %q, still shows %q", c.in, out, l)
			}
		}
		for _, k := range c.kept {
			if !strings.Contains(out, k) {
				t.Errorf("RedactText(%q) = %q, lost %q", c.in, out, k)
			}
		}
	}
}
