package integrations_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations/outbound"
)

const sgKey = "SG.aBcDeFgHiJkLmNoPqRsTuV.wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012"

// fakeSendGrid answers like SendGrid's v3 Mail Send: Bearer key, body with
// personalizations[].to[].email, from.email, subject and content[] (text/plain
// first), 202 with an empty body, errors as {"errors": [{"message", "field",
// "help"}]}.
func fakeSendGrid(t *testing.T) *fakeAPI {
	f := &fakeAPI{}
	f.handle = func(w http.ResponseWriter, r *http.Request, raw []byte) {
		fail := func(status int, field any, msg string) {
			writeJSONStatus(w, status, map[string]any{"errors": []map[string]any{{"message": msg, "field": field, "help": nil}}})
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v3/mail/send" {
			fail(404, nil, "Not Found")
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+sgKey {
			fail(401, nil, "The provided authorization grant is invalid, expired, or revoked")
			return
		}
		b := f.lastLocked(t, raw)
		ps, _ := b["personalizations"].([]any)
		okTo := len(ps) > 0
		for _, p := range ps {
			to, _ := p.(map[string]any)["to"].([]any)
			okTo = okTo && len(to) > 0
			for _, x := range to {
				e, _ := x.(map[string]any)["email"].(string)
				okTo = okTo && strings.Contains(e, "@")
			}
		}
		from, _ := b["from"].(map[string]any)
		fromEmail, _ := from["email"].(string)
		subject, _ := b["subject"].(string)
		content, _ := b["content"].([]any)
		first, _ := func() (string, bool) {
			if len(content) == 0 {
				return "", false
			}
			s, ok := content[0].(map[string]any)["type"].(string)
			return s, ok
		}()
		switch {
		case !okTo:
			fail(400, "personalizations.0.to", "The to array is required for all personalization objects, and must have at least one email object with a valid email address.")
		case !strings.Contains(fromEmail, "@"):
			fail(400, "from", "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.")
		case subject == "":
			fail(400, "subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.")
		case first != "text/plain":
			fail(400, "content", "If present, text/plain content must be first, followed by any other content.")
		default:
			w.Header().Set("X-Message-Id", "q1Xk2mP3TQ2vN4oR5sT6uA")
			w.WriteHeader(http.StatusAccepted)
		}
	}
	return f
}

func TestSendGridAgainstFakeAPI(t *testing.T) {
	f := fakeSendGrid(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	dest := templateDest(t, "sendgrid", srv.URL+"/v3/mail/send", map[string]string{
		"api_key": sgKey, "from": "Billing <billing@shop.example>", "to": "team@shop.example, founder@shop.example",
	})

	ev := signedDodoEvent(t, "payment.succeeded.usd.json")
	wantOutcome(t, "payment", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 202, "")
	b := f.last(t)
	fieldsEqual(t, b, map[string]any{"subject": "Payment received: 29.99 USD from María López"})
	from, _ := b["from"].(map[string]any)
	fieldsEqual(t, from, map[string]any{"email": "billing@shop.example", "name": "Billing"})
	to := b["personalizations"].([]any)[0].(map[string]any)["to"].([]any)
	if len(to) != 2 || to[1].(map[string]any)["email"] != "founder@shop.example" {
		t.Errorf("to = %v", to)
	}
	content := b["content"].([]any)
	text := content[0].(map[string]any)["value"].(string)
	for _, want := range []string{"pay_2IjeQm4hqU6RA4Z4kwDee", "29.99 USD", maria, mariaID} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q: %s", want, text)
		}
	}
	html := content[1].(map[string]any)["value"].(string)
	if !strings.Contains(html, "&lt;"+maria+"&gt;") {
		t.Errorf("customer text not escaped in the HTML part: %s", html)
	}
	args, _ := b["custom_args"].(map[string]any)
	fieldsEqual(t, args, map[string]any{"customer_id": mariaID, "customer_email": maria})

	for _, name := range []string{"payment.succeeded.jpy.json", "payment.succeeded.kwd.json", "refund.succeeded.json", "dispute.opened.json", "subscription.renewed.json"} {
		wantOutcome(t, name, deliverOnce(t, srv.Client(), dest, signedDodoEvent(t, name)), outbound.Delivered, 202, "")
	}
	if s := f.last(t)["subject"]; s != "Subscription renewed: sub_4rT6yU8iO0pQ2wE4rT6y" {
		t.Errorf("subject = %v", s)
	}

	bad := dest
	bad.Config = map[string]string{"api_key": "SG.revokedrevoked12.revokedrevokedrevokedrevoked00", "from": dest.Config["from"], "to": dest.Config["to"]}
	wantOutcome(t, "bad key", deliverOnce(t, srv.Client(), bad, ev), outbound.Permanent, 401,
		"HTTP 401: The provided authorization grant is invalid, expired, or revoked", bad.Config["api_key"])

	checkRetries(t, f, srv.Client(), dest, ev,
		`{"errors":[{"field":null,"message":"too many requests"}]}`,
		`{"errors":[{"field":null,"message":"service unavailable"}]}`)
}

func TestSendGridStripeTemplate(t *testing.T) {
	for name, want := range map[string]string{
		"payment_intent.succeeded.json": "Payment received: ",
		"refund.created.json":           "Refund issued: ",
		"charge.dispute.created.json":   "Dispute opened: ",
	} {
		res := mustRun(t, "sendgrid", "stripe", "stripe", fixture(t, "stripe", name))
		if res.Cancel {
			t.Errorf("%s cancelled", name)
			continue
		}
		if s, _ := body(t, res)["subject"].(string); !strings.HasPrefix(s, want) {
			t.Errorf("%s: subject %q, want %q...", name, s, want)
		}
	}
	if res := mustRun(t, "sendgrid", "stripe", "stripe", fixture(t, "stripe", "charge.refunded.json")); !res.Cancel {
		t.Errorf("charge.refunded sent (refund.created covers it): %s", res.Payload)
	}
}
