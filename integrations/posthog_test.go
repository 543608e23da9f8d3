package integrations_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/hookshift/hookshift/integrations/outbound"
)

const phKey = "phc_3fG7hJ9kL1mN3pQ5rS7tV9wX1yZ"

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// fakePostHog answers like PostHog's capture endpoint (/i/v0/e/): the
// project API key in the body, event and distinct_id required, errors as
// {"type", "code", "detail"}; a uuid seen before is stored once.
func fakePostHog(t *testing.T) (*fakeAPI, map[string]map[string]any) {
	stored := map[string]map[string]any{}
	f := &fakeAPI{}
	f.handle = func(w http.ResponseWriter, r *http.Request, raw []byte) {
		fail := func(status int, typ, code, detail string) {
			writeJSONStatus(w, status, map[string]any{"type": typ, "code": code, "detail": detail, "attr": nil})
		}
		if r.Method != http.MethodPost || r.URL.Path != "/i/v0/e/" {
			fail(404, "invalid_request", "not_found", "Not found.")
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			fail(400, "validation_error", "invalid_payload", "Content-Type must be application/json.")
			return
		}
		b := f.lastLocked(t, raw)
		if b["api_key"] != phKey {
			fail(401, "authentication_error", "invalid_api_key", "Project API key invalid. You can find your project API key in PostHog project settings.")
			return
		}
		event, _ := b["event"].(string)
		distinct, _ := b["distinct_id"].(string)
		_, propsOK := b["properties"].(map[string]any)
		ts, _ := b["timestamp"].(string)
		uuid, _ := b["uuid"].(string)
		if _, err := time.Parse(time.RFC3339Nano, ts); event == "" || distinct == "" || !propsOK || err != nil || !uuidRe.MatchString(uuid) {
			fail(400, "validation_error", "invalid_payload", "event, distinct_id, properties, timestamp (ISO 8601) and uuid must be valid.")
			return
		}
		stored[uuid] = b
		writeJSONStatus(w, 200, map[string]any{"status": "Ok"})
	}
	return f, stored
}

func TestPostHogAgainstFakeAPI(t *testing.T) {
	f, stored := fakePostHog(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	dest := templateDest(t, "posthog", srv.URL+"/i/v0/e/", map[string]string{"api_key": phKey})

	// End to end: a signed Dodo payment.succeeded in, PostHog's capture out.
	ev := signedDodoEvent(t, "payment.succeeded.usd.json")
	wantOutcome(t, "payment", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 200, "")
	b := f.last(t)
	fieldsEqual(t, b, map[string]any{"event": "purchase", "distinct_id": mariaID, "timestamp": "2025-03-14T09:26:53.412718Z"})
	props, _ := b["properties"].(map[string]any)
	fieldsEqual(t, props, map[string]any{"revenue": 29.99, "currency": "USD", "payment_id": "pay_2IjeQm4hqU6RA4Z4kwDee"})
	set, _ := props["$set"].(map[string]any)
	fieldsEqual(t, set, map[string]any{"email": maria, "name": mariaName})

	// A retry sends the same uuid: PostHog keeps one event.
	wantOutcome(t, "retry", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 200, "")
	if len(stored) != 1 {
		t.Errorf("stored %d events, want 1", len(stored))
	}
	for _, name := range []string{"payment.succeeded.jpy.json", "payment.succeeded.kwd.json", "refund.succeeded.json", "subscription.renewed.json"} {
		wantOutcome(t, name, deliverOnce(t, srv.Client(), dest, signedDodoEvent(t, name)), outbound.Delivered, 200, "")
	}
	if len(stored) != 5 {
		t.Errorf("stored %d events, want 5", len(stored))
	}

	// A wrong key: permanent, PostHog's message kept, the key nowhere.
	bad := dest
	bad.Config = map[string]string{"api_key": "phc_wrongwrongwrongwrong123"}
	wantOutcome(t, "bad key", deliverOnce(t, srv.Client(), bad, ev), outbound.Permanent, 401,
		"HTTP 401: invalid_api_key: Project API key invalid. You can find your project API key in PostHog project settings.", bad.Config["api_key"])

	checkRetries(t, f, srv.Client(), dest, ev,
		`{"type":"throttled","code":"rate_limited","detail":"Request was throttled."}`,
		`{"type":"server_error","code":"error","detail":"A server error occurred."}`)
}
