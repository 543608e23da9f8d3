package integrations_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
)

const wmToken = "wm_tok_8Hq2Lm4Np6Rs8Tv0Xz2B"

// fakeWindmill answers like Windmill's async run endpoints: Bearer token,
// POST /api/w/<workspace>/jobs/run/p/<script path> (or /f/ for a flow), a
// JSON object of arguments; 201 with the job's uuid as text; errors as
// plain text ("Unauthorized", "Not found: script not found at name ...").
func fakeWindmill(t *testing.T) *fakeAPI {
	f := &fakeAPI{}
	f.handle = func(w http.ResponseWriter, r *http.Request, raw []byte) {
		text := func(status int, msg string) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(msg))
		}
		if r.Header.Get("Authorization") != "Bearer "+wmToken {
			text(401, "Unauthorized")
			return
		}
		path, ok := strings.CutPrefix(r.URL.Path, "/api/w/acme/jobs/run/p/")
		if r.Method != http.MethodPost || !ok {
			text(404, "Not found")
			return
		}
		if path != "f/billing/on_payment" {
			text(404, "Not found: script not found at name "+path)
			return
		}
		if b := f.lastLocked(t, raw); b == nil {
			text(400, "Bad request: args must be a JSON object")
			return
		}
		text(201, "018f3c2a-9b7e-7d2a-9c11-0e5f6a7b8c9d")
	}
	return f
}

func TestWindmillAgainstFakeAPI(t *testing.T) {
	f := fakeWindmill(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	spec, _ := integrations.Lookup("windmill")
	cfg := map[string]string{"token": wmToken, "workspace": "acme", "path": "f/billing/on_payment", "base_url": srv.URL}
	url := spec.URLFor(cfg)
	if url != srv.URL+"/api/w/acme/jobs/run/p/f/billing/on_payment" {
		t.Fatalf("URL = %s", url)
	}
	dest := templateDest(t, "windmill", url, cfg)

	ev := signedDodoEvent(t, "payment.succeeded.usd.json")
	wantOutcome(t, "payment", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 201, "")
	b := f.last(t)
	fieldsEqual(t, b, map[string]any{"type": "payment.succeeded", "amount": 29.99, "currency": "USD", "customer_id": mariaID, "customer_email": maria,
		"event_key": "payment.succeeded:pay_2IjeQm4hqU6RA4Z4kwDee:2025-03-14T09:26:53.412718Z"})
	if data, _ := b["data"].(map[string]any); data["total_amount"] != 2999.0 {
		t.Errorf("data = %v", data)
	}

	bad := dest
	bad.Config = map[string]string{"token": "revoked_token_123", "workspace": "acme", "path": "f/billing/on_payment", "base_url": srv.URL}
	wantOutcome(t, "bad token", deliverOnce(t, srv.Client(), bad, ev), outbound.Permanent, 401, "HTTP 401: Unauthorized", "revoked_token_123")

	missing := dest
	missing.Config = map[string]string{"token": wmToken, "workspace": "acme", "path": "f/billing/gone", "base_url": srv.URL}
	missing.URL = spec.URLFor(missing.Config)
	wantOutcome(t, "no such script", deliverOnce(t, srv.Client(), missing, ev), outbound.Permanent, 404, "HTTP 404: Not found: script not found at name f/billing/gone")

	checkRetries(t, f, srv.Client(), dest, ev, "Too many requests", "Service unavailable")
}
