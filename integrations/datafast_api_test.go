package integrations_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/queue/dispatch"
	"github.com/hookshift/hookshift/store"
)

// fakeDataFast answers like https://datafa.st/api/v1/payments: Bearer key
// checked, body validated, idempotent on transaction_id, errors as
// {"status":"error","error":{"code","message"}}.
type fakeDataFast struct {
	key string
	mu  sync.Mutex
	got map[string]map[string]any // transaction_id → body
	// next, when set, is the answer to the next request.
	nextStatus int
	nextBody   string
}

func (f *fakeDataFast) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, code, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "error": map[string]string{"code": code, "message": msg}})
	}
	if f.nextStatus != 0 {
		w.WriteHeader(f.nextStatus)
		_, _ = io.WriteString(w, f.nextBody)
		f.nextStatus = 0
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/payments" {
		fail(http.StatusNotFound, "NOT_FOUND", "Route not found")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.key {
		fail(http.StatusUnauthorized, "UNAUTHORIZED", "Invalid API key")
		return
	}
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Idempotency-Key") == "" {
		fail(http.StatusBadRequest, "BAD_REQUEST", "headers")
		return
	}
	var b map[string]any
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		fail(http.StatusBadRequest, "INVALID_JSON", "Body is not JSON")
		return
	}
	amount, okA := b["amount"].(float64)
	cur, _ := b["currency"].(string)
	tx, _ := b["transaction_id"].(string)
	if !okA || amount < 0 || len(cur) != 3 || tx == "" {
		fail(http.StatusBadRequest, "VALIDATION_ERROR", "amount, currency and transaction_id are required")
		return
	}
	if _, dup := f.got[tx]; dup {
		_, _ = io.WriteString(w, `{"message":"Payment already recorded (duplicate transaction_id)","transaction_id":"`+tx+`"}`)
		return
	}
	f.got[tx] = b
	_, _ = io.WriteString(w, `{"message":"Payment recorded","transaction_id":"`+tx+`"}`)
}

// deliverOnce prepares and sends one delivery with the worker's own unit.
func deliverOnce(t *testing.T, client *http.Client, dest store.Destination, ev store.Event) outbound.Outcome {
	t.Helper()
	return (&dispatch.Sender{Engine: engine, HTTP: client}).Deliver(context.Background(), ev, dest).Outcome
}

func TestDataFastAgainstFakeAPI(t *testing.T) {
	fake := &fakeDataFast{key: "df_live_key", got: map[string]map[string]any{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	_, tpl := template(t, "datafast", "default")
	dest := store.Destination{
		ID: "dst_1", TenantID: "t_test", Integration: "datafast", URL: srv.URL + "/api/v1/payments",
		Config: map[string]string{"api_key": "df_live_key"}, Transform: &store.Transform{Code: tpl.Code, Enabled: true},
	}
	event := func(id, name string) store.Event {
		raw := fixture(t, "dodo", name)
		return store.Event{ID: id, TenantID: "t_test", Type: eventType(t, "dodo", raw), Payload: raw}
	}

	usd := event("msg_usd", "payment.succeeded.usd.json")
	if o := deliverOnce(t, srv.Client(), dest, usd); o.Kind != outbound.Delivered || o.StatusCode != 200 {
		t.Fatalf("first send: %+v", o)
	}
	got := fake.got["pay_2IjeQm4hqU6RA4Z4kwDee"]
	fieldsEqual(t, got, map[string]any{"amount": 29.99, "currency": "USD", "datafast_visitor_id": "df_v_8f3c2a91-4b7e-4d2a-9c11-0e5f6a7b8c9d", "renewal": false})

	// A retry: DataFast answers 2xx "duplicate", which is delivered.
	if o := deliverOnce(t, srv.Client(), dest, usd); o.Kind != outbound.Delivered {
		t.Fatalf("duplicate: %+v", o)
	}
	if len(fake.got) != 1 {
		t.Fatalf("recorded %d payments, want 1", len(fake.got))
	}

	for _, name := range []string{"payment.succeeded.jpy.json", "payment.succeeded.kwd.json", "refund.succeeded.json", "subscription.renewed.json"} {
		if o := deliverOnce(t, srv.Client(), dest, event("msg_"+name, name)); o.Kind != outbound.Delivered {
			t.Errorf("%s: %+v", name, o)
		}
	}
	fieldsEqual(t, fake.got["pay_8QwE3rT5yU7iO9pA1sD2f"], map[string]any{"amount": 4500.0, "currency": "JPY"})
	fieldsEqual(t, fake.got["pay_3ZxC5vB7nM9aS1dF3gH5j"], map[string]any{"amount": 12.5, "currency": "KWD"})
	fieldsEqual(t, fake.got["ref_9LkJ7hG5fD3sA1pO9iU7y"], map[string]any{"amount": 10.0, "refunded": true})
	fieldsEqual(t, fake.got["sub_4rT6yU8iO0pQ2wE4rT6y:2025-04-14T09:26:41.887912Z"], map[string]any{"renewal": true})

	if o := deliverOnce(t, srv.Client(), dest, event("msg_nv", "payment.succeeded.usd.no-visitor.json")); o.Kind != outbound.Cancelled {
		t.Errorf("no visitor: %+v", o)
	}

	// 401 with a wrong key: permanent, with DataFast's message kept.
	bad := dest
	bad.Config = map[string]string{"api_key": "wrong"}
	o := deliverOnce(t, srv.Client(), bad, event("msg_kwd2", "payment.succeeded.kwd.json"))
	if o.Kind != outbound.Permanent || o.StatusCode != 401 || o.Reason != "HTTP 401: UNAUTHORIZED: Invalid API key" {
		t.Errorf("401: %+v", o)
	}
	// 404 on a wrong path: permanent, message kept.
	wrongPath := dest
	wrongPath.URL = srv.URL + "/api/v1/payment"
	o = deliverOnce(t, srv.Client(), wrongPath, usd)
	if o.Kind != outbound.Permanent || o.Reason != "HTTP 404: NOT_FOUND: Route not found" {
		t.Errorf("404: %+v", o)
	}
	// 400 from validation: permanent, message kept.
	fake.nextStatus, fake.nextBody = 400, `{"status":"error","error":{"code":"VALIDATION_ERROR","message":"currency must be a 3-letter ISO code"}}`
	o = deliverOnce(t, srv.Client(), dest, usd)
	if o.Kind != outbound.Permanent || o.Reason != "HTTP 400: VALIDATION_ERROR: currency must be a 3-letter ISO code" {
		t.Errorf("400: %+v", o)
	}
	// 500: retried, message kept.
	fake.nextStatus, fake.nextBody = 500, `{"status":"error","error":{"code":"INTERNAL","message":"Something went wrong"}}`
	o = deliverOnce(t, srv.Client(), dest, usd)
	if o.Kind != outbound.Retry || o.Reason != "HTTP 500: INTERNAL: Something went wrong" {
		t.Errorf("500: %+v", o)
	}
}
