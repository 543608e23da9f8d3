package integrations_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/hookshift/hookshift/integrations/outbound"
)

const mpToken = "0123456789abcdef0123456789abcdef"

var insertIDRe = regexp.MustCompile(`^[A-Za-z0-9-]{1,36}$`)

// fakeMixpanel answers like Mixpanel's Import API with strict=1: the project
// token as Basic user name, a JSON array of events each with event,
// properties.time, distinct_id and $insert_id; errors as {"code", "error",
// "status"} and, for validation, "failed_records". Events are kept once per
// $insert_id.
func fakeMixpanel(t *testing.T) (*fakeAPI, map[string]map[string]any) {
	stored := map[string]map[string]any{}
	f := &fakeAPI{}
	f.handle = func(w http.ResponseWriter, r *http.Request, raw []byte) {
		if r.Method != http.MethodPost || r.URL.Path != "/import" || r.URL.Query().Get("strict") != "1" {
			writeJSONStatus(w, 404, map[string]any{"code": 404, "error": "not found", "status": "Not Found"})
			return
		}
		if u, p, ok := r.BasicAuth(); !ok || u != mpToken || p != "" {
			writeJSONStatus(w, 401, map[string]any{"code": 401, "error": "Invalid credentials", "status": "Unauthorized"})
			return
		}
		var events []map[string]any
		if err := json.Unmarshal(raw, &events); err != nil || len(events) == 0 {
			writeJSONStatus(w, 400, map[string]any{"code": 400, "error": "unable to parse request body as a JSON array", "status": "Bad Request"})
			return
		}
		for i, e := range events {
			p, _ := e["properties"].(map[string]any)
			name, _ := e["event"].(string)
			tm, tmOK := p["time"].(float64)
			distinct, _ := p["distinct_id"].(string)
			insert, _ := p["$insert_id"].(string)
			field, msg := "", ""
			switch {
			case name == "":
				field, msg = "event", "'event' must be a non-empty string"
			case !tmOK || tm < 1e9:
				field, msg = "properties.time", "'properties.time' is invalid: must be specified as seconds since epoch or milliseconds since epoch"
			case distinct == "":
				field, msg = "properties.distinct_id", "'properties.distinct_id' must be a non-empty string"
			case !insertIDRe.MatchString(insert):
				field, msg = "properties.$insert_id", "'properties.$insert_id' must be alphanumeric or '-' and at most 36 characters"
			}
			if msg != "" {
				writeJSONStatus(w, 400, map[string]any{"code": 400, "error": "some data points in the request failed validation",
					"failed_records":       []map[string]any{{"index": i, "$insert_id": insert, "field": field, "message": msg}},
					"num_records_imported": 0, "status": "Bad Request"})
				return
			}
			stored[insert] = e
		}
		writeJSONStatus(w, 200, map[string]any{"code": 200, "num_records_imported": len(events), "status": "OK"})
	}
	return f, stored
}

func TestMixpanelAgainstFakeAPI(t *testing.T) {
	f, stored := fakeMixpanel(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	dest := templateDest(t, "mixpanel", srv.URL+"/import?strict=1", map[string]string{"project_token": mpToken})

	// End to end: a signed Dodo payment.succeeded in, an Import API call out.
	ev := signedDodoEvent(t, "payment.succeeded.usd.json")
	wantOutcome(t, "payment", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 200, "")
	var sent []map[string]any
	f.mu.Lock()
	_ = json.Unmarshal(f.got[len(f.got)-1], &sent)
	f.mu.Unlock()
	if len(sent) != 1 || sent[0]["event"] != "Purchase" {
		t.Fatalf("sent %v", sent)
	}
	props, _ := sent[0]["properties"].(map[string]any)
	fieldsEqual(t, props, map[string]any{"distinct_id": mariaID, "revenue": 29.99, "currency": "USD", "time": 1741944413412.0, "email": maria})
	if _, hasToken := props["token"]; hasToken {
		t.Error("the token is in the body; it belongs in the Authorization header")
	}

	// The same event again: the same $insert_id, one event at Mixpanel.
	wantOutcome(t, "retry", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 200, "")
	for _, name := range []string{"payment.succeeded.jpy.json", "payment.succeeded.kwd.json", "refund.succeeded.json", "subscription.renewed.json"} {
		wantOutcome(t, name, deliverOnce(t, srv.Client(), dest, signedDodoEvent(t, name)), outbound.Delivered, 200, "")
	}
	if len(stored) != 5 {
		t.Errorf("stored %d events, want 5", len(stored))
	}

	bad := dest
	bad.Config = map[string]string{"project_token": "ffffffffffffffffffffffffffffffff"}
	wantOutcome(t, "bad token", deliverOnce(t, srv.Client(), bad, ev), outbound.Permanent, 401, "HTTP 401: Invalid credentials", bad.Config["project_token"])

	// A validation error names the field: permanent.
	broken := dest
	tr := *dest.Transform
	tr.Code = `function handler(w) { w.payload = [{event: 'Purchase', properties: {distinct_id: 'x', $insert_id: 'a', time: 'now'}}]; return w; }`
	broken.Transform = &tr
	wantOutcome(t, "invalid time", deliverOnce(t, srv.Client(), broken, ev), outbound.Permanent, 400,
		"HTTP 400: some data points in the request failed validation: 'properties.time' is invalid: must be specified as seconds since epoch or milliseconds since epoch")

	checkRetries(t, f, srv.Client(), dest, ev,
		`{"code":429,"error":"Project exceeded rate limits. Please retry the request with exponential backoff.","status":"Too Many Requests"}`,
		`{"code":503,"error":"service unavailable","status":"Service Unavailable"}`)
}
