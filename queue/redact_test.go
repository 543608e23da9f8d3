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
