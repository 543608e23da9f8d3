package integrations_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/store"
)

const (
	cioSite = "8a1f3c5e7b9d2f4a6c8e"
	cioKey  = "0f9e8d7c6b5a49382716"
)

var ulidRe = regexp.MustCompile(`^[0-7][0-9A-HJKMNP-TV-Z]{25}$`)

// fakeCustomerIO answers like the Track API v2 entity endpoint: site id and
// API key as Basic auth, type/identifiers/action required, an event needs a
// name and, when given, a ULID id on which it deduplicates; errors as
// {"errors": [{"reason", "field", "message"}]}, an unauthorized request as
// {"meta": {"error": "Unauthorized request"}}.
func fakeCustomerIO(t *testing.T) (*fakeAPI, map[string]map[string]any) {
	events := map[string]map[string]any{}
	f := &fakeAPI{}
	f.handle = func(w http.ResponseWriter, r *http.Request, raw []byte) {
		fail := func(field, msg string) {
			writeJSONStatus(w, 400, map[string]any{"errors": []map[string]any{{"reason": "invalid", "field": field, "message": msg}}})
		}
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/entity" {
			writeJSONStatus(w, 404, map[string]any{"errors": []map[string]any{{"reason": "not_found", "message": "not found"}}})
			return
		}
		if u, p, ok := r.BasicAuth(); !ok || u != cioSite || p != cioKey {
			writeJSONStatus(w, 401, map[string]any{"meta": map[string]any{"error": "Unauthorized request"}})
			return
		}
		b := f.lastLocked(t, raw)
		ids, _ := b["identifiers"].(map[string]any)
		_, hasID := ids["id"].(string)
		_, hasEmail := ids["email"].(string)
		ts, tsOK := b["timestamp"].(float64)
		switch {
		case b["type"] != "person":
			fail("type", "type must be one of person, object, delivery")
		case !hasID && !hasEmail:
			fail("identifiers", "identifiers must contain one of id, email or cio_id")
		case b["action"] != "event" && b["action"] != "identify":
			fail("action", "unsupported action")
		case b["timestamp"] != nil && (!tsOK || ts != float64(int64(ts))):
			fail("timestamp", "timestamp must be a unix timestamp in seconds")
		case b["action"] == "event":
			name, _ := b["name"].(string)
			id, _ := b["id"].(string)
			if name == "" {
				fail("name", "name is required")
				return
			}
			if b["id"] != nil && !ulidRe.MatchString(id) {
				fail("id", "id must be a valid ULID")
				return
			}
			events[id] = b
			fallthrough
		default:
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("{}"))
		}
	}
	return f, events
}

func TestCustomerIOAgainstFakeAPI(t *testing.T) {
	f, events := fakeCustomerIO(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	dest := templateDest(t, "customerio", srv.URL+"/api/v2/entity", map[string]string{"site_id": cioSite, "api_key": cioKey})

	ev := signedDodoEvent(t, "payment.succeeded.usd.json")
	wantOutcome(t, "payment", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 200, "")
	b := f.last(t)
	fieldsEqual(t, b, map[string]any{"type": "person", "action": "event", "name": "purchase", "timestamp": 1741944413.0})
	ids, _ := b["identifiers"].(map[string]any)
	fieldsEqual(t, ids, map[string]any{"id": mariaID})
	attrs, _ := b["attributes"].(map[string]any)
	fieldsEqual(t, attrs, map[string]any{"revenue": 29.99, "currency": "USD", "email": maria})

	wantOutcome(t, "retry", deliverOnce(t, srv.Client(), dest, ev), outbound.Delivered, 200, "")
	for _, name := range []string{"payment.succeeded.jpy.json", "payment.succeeded.kwd.json", "refund.succeeded.json", "subscription.renewed.json"} {
		wantOutcome(t, name, deliverOnce(t, srv.Client(), dest, signedDodoEvent(t, name)), outbound.Delivered, 200, "")
	}
	if len(events) != 5 {
		t.Errorf("%d distinct events, want 5 (a retry reuses its ULID)", len(events))
	}

	// The identify template.
	_, tpl := template(t, "customerio", "identify")
	idDest := dest
	idDest.Transform = &store.Transform{Code: tpl.Code, Enabled: true}
	wantOutcome(t, "identify", deliverOnce(t, srv.Client(), idDest, ev), outbound.Delivered, 200, "")
	b = f.last(t)
	fieldsEqual(t, b, map[string]any{"action": "identify"})
	attrs, _ = b["attributes"].(map[string]any)
	fieldsEqual(t, attrs, map[string]any{"email": maria, "name": mariaName})

	bad := dest
	bad.Config = map[string]string{"site_id": cioSite, "api_key": "ffffffffffffffffffff"}
	wantOutcome(t, "bad key", deliverOnce(t, srv.Client(), bad, ev), outbound.Permanent, 401, "HTTP 401: Unauthorized request", "ffffffffffffffffffff")

	broken := dest
	broken.Transform = &store.Transform{Enabled: true, Code: `function handler(w) { w.payload = {type: 'person', identifiers: {id: 'x'}, action: 'event', name: 'x', id: 'not-a-ulid'}; return w; }`}
	wantOutcome(t, "bad id", deliverOnce(t, srv.Client(), broken, ev), outbound.Permanent, 400, "HTTP 400: id: id must be a valid ULID")

	checkRetries(t, f, srv.Client(), dest, ev, `{"errors":[{"reason":"rate_limited","message":"too many requests"}]}`, `{"errors":[{"reason":"internal","message":"internal error"}]}`)
}
