package integrations_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
)

const inngestKey = "Xk2_mP3TQ2vN4oR5sT6uAy7zB8cD9eF0gH1iJ2kL3mN4oP5qR6sT7uV8wX9yZ0aB1cD2eF3gH"

// fakeInngest answers like Inngest's event API: POST /e/<event key>, an
// event object (or an array of them) with a string name and an object data;
// 200 {"ids": [...], "status": 200}; errors as {"status", "message",
// "error"}. Functions start once per event id.
func fakeInngest(t *testing.T) (*fakeAPI, map[string]map[string]any) {
	seen := map[string]map[string]any{}
	f := &fakeAPI{}
	f.handle = func(w http.ResponseWriter, r *http.Request, raw []byte) {
		fail := func(status int, msg string) {
			writeJSONStatus(w, status, map[string]any{"status": status, "message": "", "error": msg})
		}
		key, ok := strings.CutPrefix(r.URL.Path, "/e/")
		if r.Method != http.MethodPost || !ok {
			fail(404, "not found")
			return
		}
		if key != inngestKey {
			fail(401, "Event key not found")
			return
		}
		b := f.lastLocked(t, raw)
		name, _ := b["name"].(string)
		_, dataOK := b["data"].(map[string]any)
		if name == "" || !dataOK {
			fail(400, "event name is required and data must be an object")
			return
		}
		if ts, ok := b["ts"]; ok {
			if n, isNum := ts.(float64); !isNum || n != float64(int64(n)) {
				fail(400, "ts must be an integer timestamp in milliseconds")
				return
			}
		}
		id, _ := b["id"].(string)
		seen[id] = b
		writeJSONStatus(w, 200, map[string]any{"ids": []string{"01HQ8XN3V4ZJ4WQ8C9QJ9Y6B2A"}, "status": 200})
	}
	return f, seen
}

func TestInngestAgainstFakeAPI(t *testing.T) {
	f, seen := fakeInngest(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	spec, _ := integrations.Lookup("inngest")
	cfg := map[string]string{"event_key": inngestKey, "base_url": srv.URL}
	url := spec.URLFor(cfg)
	if url != srv.URL+"/e/"+inngestKey {
		t.Fatalf("URL = %s", url)
	}
	// The key is in the URL: it is never shown.
	if shown := spec.ShownURL(url); strings.Contains(shown, inngestKey) {
		t.Errorf("shown URL %q carries the key", shown)
	}
	dest := templateDest(t, "inngest", url, cfg)

	ev := signedDodoEvent(t, "payment.succeeded.usd.json")
	wantOutcome(t, "payment", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 200, "")
	b := f.last(t)
	fieldsEqual(t, b, map[string]any{"name": "dodo/payment.succeeded", "id": "dodo:payment.succeeded:pay_2IjeQm4hqU6RA4Z4kwDee:2025-03-14T09:26:53.412718Z", "ts": 1741944413412.0})
	data, _ := b["data"].(map[string]any)
	fieldsEqual(t, data, map[string]any{"payment_id": "pay_2IjeQm4hqU6RA4Z4kwDee", "amount_major": 29.99, "total_amount": 2999.0})
	user, _ := b["user"].(map[string]any)
	fieldsEqual(t, user, map[string]any{"external_id": mariaID, "email": maria})

	wantOutcome(t, "retry", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 200, "")
	for _, name := range []string{"payment.succeeded.kwd.json", "refund.succeeded.json", "license_key.created.json"} {
		wantOutcome(t, name, deliverOnce(t, srv.Client(), dest, signedDodoEvent(t, name)), outbound.Delivered, 200, "")
	}
	if len(seen) != 4 {
		t.Errorf("%d distinct event ids, want 4", len(seen))
	}

	bad := dest
	bad.Config = map[string]string{"event_key": "wrong_key_123456789", "base_url": srv.URL}
	bad.URL = spec.URLFor(bad.Config)
	wantOutcome(t, "bad key", deliverOnce(t, srv.Client(), bad, ev), outbound.Permanent, 401, "HTTP 401: Event key not found", "wrong_key_123456789")

	checkRetries(t, f, srv.Client(), dest, ev, `{"status":429,"message":"","error":"rate limited"}`, `{"status":503,"message":"","error":"unavailable"}`)
}
