package integrations_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/store"
)

// signedDodoEvent is a Dodo fixture as the worker gets it: signed the way
// Dodo signs (Standard Webhooks), verified by the scheme a Dodo source uses,
// with the id and type the verifier read from it.
func signedDodoEvent(t *testing.T, name string) store.Event {
	t.Helper()
	kind, ok := inbound.Lookup("standard-webhooks")
	if !ok {
		t.Fatal("no standard-webhooks kind")
	}
	secret, err := kind.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	h, body, err := kind.Sign(nil, secret, "msg_"+name, fixture(t, "dodo", name), now)
	if err != nil {
		t.Fatal(err)
	}
	v, err := kind.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := v.Verify(inbound.Request{Header: h, Body: body}, []string{secret}, now)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return store.Event{ID: ev.ID, TenantID: "t_test", Type: ev.Type, Payload: body}
}

// templateDest is a destination of integration with its default template,
// pointed at a fake provider's URL, as a merchant gets it from the config
// alone (the URL aside).
func templateDest(t *testing.T, integration, url string, config map[string]string) store.Destination {
	t.Helper()
	spec, ok := integrations.Lookup(integration)
	if !ok {
		t.Fatalf("no integration %q", integration)
	}
	if err := spec.Validate(config); err != nil {
		t.Fatalf("config %v refused: %v", config, err)
	}
	tpl, _ := spec.Template(spec.DefaultTemplate)
	return store.Destination{ID: "dst_" + integration, TenantID: "t_test", Integration: integration, URL: url,
		Config: config, Transform: &store.Transform{Code: tpl.Code, Enabled: true}}
}

// fakeAPI answers like a provider: handle checks a request the way the
// provider does; a queued answer (a 429, a 5xx) is given instead, once.
type fakeAPI struct {
	handle func(w http.ResponseWriter, r *http.Request, body []byte)

	mu     sync.Mutex
	queued []answer
	got    [][]byte // bodies of the requests handle accepted
	reqs   []*http.Request
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func (f *fakeAPI) queue(status int, body string, header map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queued = append(f.queued, answer{status, header, body})
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queued) > 0 {
		a := f.queued[0]
		f.queued = f.queued[1:]
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
		return
	}
	f.reqs = append(f.reqs, r)
	f.got = append(f.got, body)
	f.handle(w, r, body)
}

// last decodes the last accepted body.
func (f *fakeAPI) last(t *testing.T) map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 {
		t.Fatal("the fake got no request")
	}
	var m map[string]any
	if err := json.Unmarshal(f.got[len(f.got)-1], &m); err != nil {
		t.Fatalf("body %s: %v", f.got[len(f.got)-1], err)
	}
	return m
}

// lastLocked decodes raw (the fake's lock is held).
func (f *fakeAPI) lastLocked(t *testing.T, raw []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Errorf("body %s is not a JSON object: %v", raw, err)
	}
	return m
}

// writeJSONStatus answers with a JSON body.
func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// wantOutcome checks an outcome's kind, status and reason, and that no
// credential leaked into the reason.
func wantOutcome(t *testing.T, what string, o outbound.Outcome, kind outbound.Kind, status int, reason string, secrets ...string) {
	t.Helper()
	if o.Kind != kind || o.StatusCode != status || (reason != "" && o.Reason != reason) {
		t.Errorf("%s: got %v %d %q, want %v %d %q", what, o.Kind, o.StatusCode, o.Reason, kind, status, reason)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(o.Reason, s) {
			t.Errorf("%s: reason %q carries a credential", what, o.Reason)
		}
	}
}

// checkRetries queues a 429 with Retry-After and a 503 on fake, sends ev
// twice, and checks both are retried, the first after Retry-After.
func checkRetries(t *testing.T, f *fakeAPI, client *http.Client, dest store.Destination, ev store.Event, body429, body5xx string) {
	t.Helper()
	f.queue(http.StatusTooManyRequests, body429, map[string]string{"Retry-After": strconv.Itoa(30), "Content-Type": "application/json"})
	o := deliverOnce(t, client, dest, ev)
	if o.Kind != outbound.Retry || o.StatusCode != 429 || o.RetryAfter != 30*time.Second {
		t.Errorf("429: %+v, want a retry after 30s", o)
	}
	f.queue(http.StatusServiceUnavailable, body5xx, map[string]string{"Content-Type": "application/json"})
	if o := deliverOnce(t, client, dest, ev); o.Kind != outbound.Retry || o.StatusCode != 503 {
		t.Errorf("503: %+v, want a retry", o)
	}
}

// The Stripe and Cryptomus templates of the analytics integrations: a
// purchase with revenue in major units and the customer as the person, or
// nothing without a customer.
func TestAnalyticsStripeAndCryptomusTemplates(t *testing.T) {
	withCustomer := patch(t, fixture(t, "cryptomus", "paid.json"), func(m map[string]any) {
		m["additional_data"] = `{"customer_id":"cus_42","email":"ana@example.com"}`
	})
	for _, integration := range []string{"posthog", "mixpanel"} {
		t.Run(integration, func(t *testing.T) {
			props := func(res map[string]any, arr []any) map[string]any {
				if arr != nil {
					res = arr[0].(map[string]any)
				}
				p, _ := res["properties"].(map[string]any)
				return p
			}
			decode := func(raw []byte) (map[string]any, []any) {
				var v any
				if err := json.Unmarshal(raw, &v); err != nil {
					t.Fatal(err)
				}
				if a, ok := v.([]any); ok {
					return nil, a
				}
				return v.(map[string]any), nil
			}
			res := mustRun(t, integration, "cryptomus", "cryptomus", withCustomer)
			m, a := decode(res.Payload)
			p := props(m, a)
			fieldsEqual(t, p, map[string]any{"revenue": 15.0, "currency": "USD", "order_id": "ord-10482"})
			if integration == "posthog" {
				fieldsEqual(t, m, map[string]any{"distinct_id": "cus_42", "event": "purchase"})
			} else {
				fieldsEqual(t, p, map[string]any{"distinct_id": "cus_42"})
			}
			if res := mustRun(t, integration, "cryptomus", "cryptomus", fixture(t, "cryptomus", "paid.json")); !res.Cancel {
				t.Errorf("sent without a customer: %s", res.Payload)
			}
			if res := mustRun(t, integration, "cryptomus", "cryptomus", fixture(t, "cryptomus", "cancel.json")); !res.Cancel {
				t.Errorf("a cancelled invoice was sent: %s", res.Payload)
			}
			res = mustRun(t, integration, "stripe", "stripe", fixture(t, "stripe", "payment_intent.succeeded.json"))
			if res.Cancel {
				t.Fatal("payment_intent.succeeded cancelled")
			}
			m, a = decode(res.Payload)
			if p := props(m, a); p["revenue"] == nil || p["currency"] == nil || p["revenue"].(float64) <= 0 {
				t.Errorf("stripe purchase: %s", res.Payload)
			}
		})
	}
}
