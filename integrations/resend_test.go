package integrations_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/store"
)

const resendKey = "re_123456789_AbCdEfGhIjKlMnOpQrStUvWxYz"

// fakeResend answers like api.resend.com's POST /emails: Bearer re_ key;
// from, to (a string or up to 50 strings), subject, and html or text
// required; the Idempotency-Key header (at most 256 characters) replays the
// first answer for the same body and refuses another body with 409;
// success is {"id"}, errors {"statusCode","name","message"}.
func fakeResend(t *testing.T) *fakeProvider {
	seen := map[string]string{} // idempotency key → subject
	return newFakeProvider(t, func(r *http.Request, b map[string]any) providerReply {
		fail := func(status int, name, msg string) providerReply {
			return providerReply{status: status, body: `{"statusCode":` + strconv.Itoa(status) + `,"name":"` + name + `","message":"` + msg + `"}`}
		}
		if r.Method != http.MethodPost || r.URL.Path != "/emails" {
			return fail(404, "not_found", "The requested endpoint does not exist.")
		}
		switch auth := r.Header.Get("Authorization"); {
		case auth == "":
			return fail(401, "missing_api_key", "Missing API key in the authorization header.")
		case !bearer(r, resendKey):
			return fail(403, "invalid_api_key", "API key is invalid")
		}
		from, _ := b["from"].(string)
		subject, _ := b["subject"].(string)
		html, _ := b["html"].(string)
		text, _ := b["text"].(string)
		var to []any
		switch v := b["to"].(type) {
		case string:
			to = []any{v}
		case []any:
			to = v
		}
		switch {
		case from == "":
			return fail(422, "missing_required_field", "Missing `from` field.")
		case len(to) == 0 || len(to) > 50:
			return fail(422, "validation_error", "The `to` field must have between 1 and 50 recipients.")
		case subject == "":
			return fail(422, "missing_required_field", "Missing `subject` field.")
		case html == "" && text == "":
			return fail(422, "missing_required_field", "Missing `html` or `text` field.")
		}
		for _, a := range to {
			if s, _ := a.(string); !strings.Contains(s, "@") {
				return fail(422, "validation_error", "Invalid `to` field.")
			}
		}
		if key := r.Header.Get("Idempotency-Key"); key != "" {
			if len(key) > 256 {
				return fail(400, "invalid_idempotency_key", "The key must be between 1-256 chars.")
			}
			if prev, ok := seen[key]; ok && prev != subject {
				return fail(409, "invalid_idempotent_request", "Same idempotency key used with a different request payload.")
			}
			seen[key] = subject
		}
		return providerReply{status: 200, body: `{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}`}
	})
}

// resendDestination is a Resend destination from its required config; the
// worker hands its from and to to the template (Spec.ScriptEnv).
func resendDestination(t *testing.T, url string, cfg map[string]string) store.Destination {
	return catalogDestination(t, "resend", url, cfg)
}

// A signed Dodo payment.succeeded in, one team notification email out.
func TestResendEndToEnd(t *testing.T) {
	f := fakeResend(t)
	cfg := map[string]string{"api_key": resendKey, "from": "Acme Billing <billing@acme.example>", "to": "team@acme.example, ops@acme.example"}
	dest := resendDestination(t, f.URL+"/emails", cfg)
	ev := verifiedDodoEvent(t, "payment.succeeded.usd.json")

	expectOutcome(t, "notify", deliverOnce(t, f.Client(), dest, ev), outbound.Delivered, 200, "")
	b, h := f.last(t)
	fieldsEqual(t, b, map[string]any{"from": "Acme Billing <billing@acme.example>", "subject": "Payment succeeded: 29.99 USD from María López"})
	if to := b["to"].([]any); len(to) != 2 || to[0] != "team@acme.example" || to[1] != "ops@acme.example" {
		t.Errorf("to = %v", to)
	}
	if html := b["html"].(string); !strings.Contains(html, "María López paid 29.99 USD.") || !strings.Contains(html, "pay_2IjeQm4hqU6RA4Z4kwDee") {
		t.Errorf("html = %s", html)
	}
	if h.Get("Idempotency-Key") == "" {
		t.Error("no Idempotency-Key: a retry could send the email twice")
	}
	// A retry (same idempotency key, same email) is answered as the first.
	expectOutcome(t, "retry", deliverOnce(t, f.Client(), dest, ev), outbound.Delivered, 200, "")

	// The receipt template writes to the customer.
	expectOutcome(t, "receipt", deliverOnce(t, f.Client(), withTemplate(t, dest, "receipt"), verifiedDodoEvent(t, "payment.succeeded.jpy.json")), outbound.Delivered, 200, "")
	b, _ = f.last(t)
	fieldsEqual(t, b, map[string]any{"subject": "Your receipt: 4,500 JPY"})
	if to := b["to"].([]any); len(to) != 1 || to[0] != maria {
		t.Errorf("receipt to = %v", to)
	}

	bad := dest
	bad.Config = map[string]string{"api_key": "re_revoked_key_000000", "from": cfg["from"], "to": cfg["to"]}
	expectOutcome(t, "bad key", deliverOnce(t, f.Client(), bad, ev), outbound.Permanent, 403, "HTTP 403: invalid_api_key: API key is invalid")
	checkRetried(t, f, dest, ev,
		providerReply{status: 429, header: map[string]string{"Retry-After": "1", "ratelimit-limit": "5", "ratelimit-remaining": "0", "ratelimit-reset": "1"}, body: `{"statusCode":429,"name":"rate_limit_exceeded","message":"Too many requests. You can only make 5 requests per second."}`},
		providerReply{status: 500, body: `{"statusCode":500,"name":"application_error","message":"An unexpected error occurred."}`})
	// The first request with this Idempotency-Key is still in progress:
	// Resend says to retry, and the retry gets the first one's answer.
	f.answerNext(providerReply{status: 409, body: `{"statusCode":409,"name":"concurrent_idempotent_requests","message":"Same idempotency key used while original request is still in progress."}`})
	if o := deliverOnce(t, f.Client(), dest, ev); o.Kind != outbound.Retry || o.StatusCode != 409 {
		t.Errorf("409 concurrent_idempotent_requests: %+v, want a retry", o)
	}
	// The same key with another body: permanent.
	f.answerNext(providerReply{status: 409, body: `{"statusCode":409,"name":"invalid_idempotent_request","message":"Same idempotency key used with a different request payload."}`})
	expectOutcome(t, "key reused", deliverOnce(t, f.Client(), dest, ev), outbound.Permanent, 409, "invalid_idempotent_request")
	// A sender on an unverified domain: permanent, Resend's words kept.
	f.answerNext(providerReply{status: 403, body: `{"statusCode":403,"name":"validation_error","message":"The acme.example domain is not verified. Please, add and verify your domain on https://resend.com/domains"}`})
	expectOutcome(t, "unverified", deliverOnce(t, f.Client(), dest, ev), outbound.Permanent, 403, "validation_error: The acme.example domain is not verified.")
}

func TestResendTemplates(t *testing.T) {
	env := map[string]string{"from": "billing@acme.example", "to": "team@acme.example"}
	url := "https://api.resend.com/emails"
	for file, subject := range map[string]string{
		"payment.failed.json":         "Payment failed: 29.99 USD from María López",
		"refund.succeeded.json":       "Refunded 10.00 USD to María López",
		"dispute.opened.json":         "Dispute opened: 29.99 USD from María López",
		"subscription.cancelled.json": "Subscription cancelled: María López, 25.00 USD every month",
		"payment.succeeded.kwd.json":  "Payment succeeded: 12.500 KWD from María López",
	} {
		b := body(t, runOn(t, "resend", "notify", "dodo", file, url, env))
		if b["subject"] != subject {
			t.Errorf("%s: subject %q, want %q", file, b["subject"], subject)
		}
	}
	if res := runOn(t, "resend", "notify", "dodo", "credit.added.json", url, env); !res.Cancel {
		t.Errorf("credit.added sent %s", res.Payload)
	}
	// Event text is escaped in the HTML body.
	raw := patch(t, fixture(t, "dodo", "payment.succeeded.usd.json"), func(m map[string]any) {
		m["data"].(map[string]any)["customer"].(map[string]any)["name"] = `<img src=x onerror="alert(1)">`
	})
	_, tpl := template(t, "resend", "notify")
	res, err := engine.Run(t.Context(), scriptOf(tpl.Code), inputOf(raw, url, env))
	if err != nil {
		t.Fatal(err)
	}
	if html := body(t, res)["html"].(string); strings.Contains(html, "<img") || !strings.Contains(html, "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") {
		t.Errorf("html = %s", html)
	}
	// Without from and to (config missing from the env) the run fails
	// with the fix, rather than sending an email Resend refuses.
	if _, err := engine.Run(t.Context(), scriptOf(tpl.Code), inputOf(fixture(t, "dodo", "payment.succeeded.usd.json"), url, nil)); err == nil || !strings.Contains(err.Error(), "set config.from and config.to") {
		t.Errorf("no env: %v", err)
	}
	b := body(t, runOn(t, "resend", "stripe", "stripe", "charge.dispute.created.json", url, env))
	if b["subject"] != "Dispute opened: 49.00 USD (fraudulent)" {
		t.Errorf("stripe subject = %q", b["subject"])
	}
}

func TestResendValidate(t *testing.T) {
	spec, _ := integrations.Lookup("resend")
	good := map[string]string{"api_key": resendKey, "from": "Acme <billing@acme.example>", "to": "a@acme.example,b@acme.example"}
	if err := spec.Validate(good); err != nil {
		t.Fatal(err)
	}
	for field, c := range map[string]struct{ value, want string }{
		"api_key": {"sk_live_leak", "config.api_key must be a Resend API key: re_"},
		"from":    {"billing at acme", "config.from must be one sender address"},
		"to":      {"a@acme.example, nobody", "config.to must be email addresses separated by commas"},
	} {
		cfg := map[string]string{}
		for k, v := range good {
			cfg[k] = v
		}
		cfg[field] = c.value
		err := spec.Validate(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "leak") {
			t.Errorf("%s=%q: %v", field, c.value, err)
		}
	}
}

// Config reaches a Resend script as from and to, never the API key, and
// the destination's own env wins.
func TestResendScriptEnv(t *testing.T) {
	spec, _ := integrations.Lookup("resend")
	env := spec.ScriptEnvFor(map[string]string{"api_key": resendKey, "from": "a@x.example", "to": "b@x.example"}, map[string]string{"to": "c@x.example", "LOCAL": "1"})
	if len(env) != 3 || env["from"] != "a@x.example" || env["to"] != "c@x.example" || env["LOCAL"] != "1" {
		t.Errorf("env = %v", env)
	}
	for k, v := range env {
		if v == resendKey {
			t.Errorf("the API key reached the script as %s", k)
		}
	}
}
