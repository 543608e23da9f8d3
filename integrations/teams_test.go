package integrations_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
)

const teamsWorkflowPath = "/workflows/5d1c0a9e2b7f4c3d8e6a1b0c9d8e7f6a/triggers/manual/paths/invoke"

// fakeTeams answers like a Teams workflow's HTTP trigger: the sig query
// parameter is the credential, the body must be a message whose attachments
// hold an Adaptive Card, success is 202 with no body, errors are Azure's
// {"error":{"code","message"}}.
func fakeTeams(t *testing.T, sig string) *fakeProvider {
	return newFakeProvider(t, func(r *http.Request, b map[string]any) providerReply {
		azure := func(status int, code, msg string) providerReply {
			return providerReply{status: status, body: `{"error":{"code":"` + code + `","message":"` + msg + `"}}`}
		}
		if r.Method != http.MethodPost || r.URL.Path != teamsWorkflowPath {
			return azure(404, "TriggerNotFound", "The workflow trigger could not be found.")
		}
		if r.URL.Query().Get("sig") != sig {
			return azure(401, "DirectApiInvalidAuthorizationSignature", "The provided authorization signature is invalid.")
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			return azure(415, "UnsupportedMediaType", "The content type is not supported.")
		}
		atts, _ := b["attachments"].([]any)
		if b["type"] != "message" || len(atts) != 1 {
			return azure(400, "InvalidRequestContent", "The request must be a message with one attachment.")
		}
		att, _ := atts[0].(map[string]any)
		card, _ := att["content"].(map[string]any)
		body, _ := card["body"].([]any)
		if att["contentType"] != "application/vnd.microsoft.card.adaptive" || card["type"] != "AdaptiveCard" || card["version"] == nil || len(body) == 0 {
			return azure(400, "InvalidRequestContent", "The attachment is not an Adaptive Card.")
		}
		return providerReply{status: http.StatusAccepted}
	})
}

// teamsCard returns the card's text blocks and facts.
func teamsCard(t *testing.T, b map[string]any) (texts []string, facts map[string]string) {
	t.Helper()
	card := b["attachments"].([]any)[0].(map[string]any)["content"].(map[string]any)
	facts = map[string]string{}
	for _, el := range card["body"].([]any) {
		m := el.(map[string]any)
		switch m["type"] {
		case "TextBlock":
			texts = append(texts, m["text"].(string))
		case "FactSet":
			for _, f := range m["facts"].([]any) {
				fm := f.(map[string]any)
				facts[fm["title"].(string)] = fm["value"].(string)
			}
		}
	}
	return texts, facts
}

// A signed Dodo payment.succeeded in, the Teams workflow's request out:
// an Adaptive Card with the amount from the currency table.
func TestTeamsEndToEnd(t *testing.T) {
	f := fakeTeams(t, "s3cr3tSig")
	url := f.URL + teamsWorkflowPath + "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s3cr3tSig"
	dest := catalogDestination(t, "teams", url, map[string]string{"webhook_url": url})
	ev := verifiedDodoEvent(t, "payment.succeeded.usd.json")

	expectOutcome(t, "success", deliverOnce(t, f.Client(), dest, ev), outbound.Delivered, 202, "")
	b, _ := f.last(t)
	texts, facts := teamsCard(t, b)
	if texts[0] != "Payment succeeded" || texts[1] != "María López paid **29.99 USD**" {
		t.Errorf("texts = %q", texts)
	}
	if facts["ID"] != "pay_2IjeQm4hqU6RA4Z4kwDee" || facts["Customer"] != maria || facts["Event"] != "payment.succeeded" {
		t.Errorf("facts = %v", facts)
	}

	// A wrong signature: permanent, the workflow's message kept.
	bad := dest
	bad.URL = strings.Replace(url, "s3cr3tSig", "wrong", 1)
	expectOutcome(t, "bad sig", deliverOnce(t, f.Client(), bad, ev), outbound.Permanent, 401,
		"HTTP 401: DirectApiInvalidAuthorizationSignature: The provided authorization signature is invalid.")
	checkRetried(t, f, dest, ev,
		providerReply{status: 429, header: map[string]string{"Retry-After": "30"}, body: `{"error":{"code":"WorkflowRequestsThrottled","message":"Number of requests exceeded the limit."}}`},
		providerReply{status: 502, body: `{"error":{"code":"BadGateway","message":"The service is unavailable."}}`})

	// The URL is the credential: it is shown masked.
	spec, _ := integrations.Lookup("teams")
	if shown := spec.ShownURL(url); strings.Contains(shown, "s3cr3tSig") || strings.Contains(shown, "workflows") {
		t.Errorf("shown URL %q", shown)
	}
}

func TestTeamsTemplates(t *testing.T) {
	cases := []struct {
		dir, file, tpl string
		texts          []string // title and text; nil means cancelled
		facts          map[string]string
	}{
		{"dodo", "payment.succeeded.jpy.json", "default", []string{"Payment succeeded", "María López paid **4,500 JPY**"}, nil},
		{"dodo", "payment.succeeded.kwd.json", "default", []string{"Payment succeeded", "María López paid **12.500 KWD**"}, nil},
		{"dodo", "payment.failed.json", "default", []string{"Payment failed", "Payment of **29.99 USD** by María López failed"}, map[string]string{"Reason": "Your card was declined."}},
		{"dodo", "refund.succeeded.json", "default", []string{"Refund (partial)", "Refunded **10.00 USD** to María López"}, map[string]string{"Payment": "pay_2IjeQm4hqU6RA4Z4kwDee"}},
		{"dodo", "dispute.opened.json", "default", []string{"Dispute opened", "Dispute for **29.99 USD** from María López"}, nil},
		{"dodo", "subscription.renewed.json", "default", []string{"Subscription renewed", "María López: **25.00 USD** every month"}, map[string]string{"Next billing": "2025-05-14"}},
		{"dodo", "credit.added.json", "default", nil, nil},
		{"stripe", "charge.dispute.created.json", "stripe", []string{"Dispute opened", "Dispute for **49.00 USD**: fraudulent"}, map[string]string{"Evidence due": "2026-01-10"}},
		{"stripe", "refund.created.json", "stripe", []string{"Refund", "Refunded **15.00 USD**"}, nil},
		{"stripe", "payment_intent.succeeded.json", "stripe", nil, nil},
		{"cryptomus", "paid.json", "cryptomus", []string{"Invoice paid", "**15.00 USD**"}, map[string]string{"Order": "ord-10482", "Payer sent": "15.00 USDT"}},
	}
	for _, tc := range cases {
		t.Run(tc.tpl+"/"+tc.file, func(t *testing.T) {
			res := runOn(t, "teams", tc.tpl, tc.dir, tc.file, "https://prod-00.westus.logic.azure.com/workflows/x", nil)
			if tc.texts == nil {
				if !res.Cancel {
					t.Fatalf("sent %s", res.Payload)
				}
				return
			}
			texts, facts := teamsCard(t, body(t, res))
			if len(texts) < 2 || texts[0] != tc.texts[0] || texts[1] != tc.texts[1] {
				t.Errorf("texts = %q, want %q", texts, tc.texts)
			}
			for k, v := range tc.facts {
				if facts[k] != v {
					t.Errorf("fact %s = %q, want %q (all %v)", k, facts[k], v, facts)
				}
			}
		})
	}
	// A customer name cannot inject Markdown into the card.
	raw := patch(t, fixture(t, "dodo", "payment.succeeded.usd.json"), func(m map[string]any) {
		m["data"].(map[string]any)["customer"].(map[string]any)["name"] = "[click](https://evil.example) *Bob*"
	})
	_, tpl := template(t, "teams", "default")
	res := mustRunCode(t, tpl.Code, "dodo", raw)
	if texts, _ := teamsCard(t, body(t, res)); texts[1] != `\[click\]\(https://evil.example\) \*Bob\* paid **29.99 USD**` {
		t.Errorf("text = %q", texts[1])
	}
}

// A URL that is not a Teams webhook is refused with the expected form, and
// the refusal never quotes the URL (the credential).
func TestTeamsValidate(t *testing.T) {
	spec, _ := integrations.Lookup("teams")
	for _, ok := range []string{
		"https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=x",
		"https://default0123.ab.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?sig=x",
		"https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456",
	} {
		if err := spec.Validate(map[string]string{"webhook_url": ok}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"http://prod-12.westus.logic.azure.com/workflows/abc?sig=leak",
		"https://hooks.slack.com/services/T/B/leak",
		"https://evil.example/?x=.logic.azure.com&sig=leak",
		"https://prod-12.westus.logic.azure.com",
		"not a url leak",
	} {
		err := spec.Validate(map[string]string{"webhook_url": bad})
		if err == nil || !strings.Contains(err.Error(), "config.webhook_url must be a Teams webhook URL: https://") || strings.Contains(err.Error(), "leak") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// An error message that quotes the webhook URL keeps no signature.
func TestTeamsErrorMessageMasksSignature(t *testing.T) {
	spec, _ := integrations.Lookup("teams")
	got := spec.ErrorMessage([]byte(`{"error":{"code":"DirectApiInvalidAuthorizationSignature","message":"The signature in 'https://x.logic.azure.com/workflows/a?sp=run&sig=AbC123_-x&sv=1' is invalid"}}`))
	if strings.Contains(got, "AbC123") || !strings.Contains(got, "sig=****") {
		t.Errorf("message = %q", got)
	}
	if got := spec.ErrorMessage([]byte("Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413")); got != "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413" {
		t.Errorf("plain text = %q", got)
	}
}
