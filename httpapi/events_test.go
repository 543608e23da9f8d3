package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// dodoPayment is a Dodo event of a customer and payment.
func dodoPayment(typ, customer, email, payment string) []byte {
	return fmt.Appendf(nil, `{"business_id":"bus_1","type":%q,"timestamp":"2026-03-01T12:00:00Z","data":{"payload_type":"Payment","payment_id":%q,"total_amount":2999,"currency":"USD","customer":{"customer_id":%q,"email":%q,"name":"X"},"metadata":{}}}`,
		typ, payment, customer, email)
}

// waitRecorded polls until the event is in the event log.
func (s *stack) waitRecorded(tok, evID string) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := s.call("GET", "/v1/events/"+evID, tok, nil); code == 200 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("event %s was not recorded within 10s", evID)
}

// search pages through GET /v1/events with query q and returns the ids.
func (s *stack) search(tok string, q url.Values) []string {
	s.t.Helper()
	var ids []string
	for page := 0; ; page++ {
		if page > 50 {
			s.t.Fatal("search does not end")
		}
		out := s.mustCall(200, "GET", "/v1/events?"+q.Encode(), tok, nil)
		for _, e := range out["data"].([]any) {
			id := e.(map[string]any)["id"].(string)
			if slices.Contains(ids, id) {
				s.t.Fatalf("event %s on two pages", id)
			}
			ids = append(ids, id)
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			return ids
		}
		q.Set("cursor", next)
	}
}

// Events are found by type, source, customer, email (any case) and payment,
// across pages, newest first, and only by their own tenant.
func TestEventSearch(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	src2, secret2 := s.source(tok)

	type posted struct{ id, typ, src, cus, email, pay string }
	var all []posted // oldest first
	for i := range 9 {
		p := posted{typ: []string{"payment.succeeded", "refund.succeeded", "dispute.opened"}[i%3],
			src: src, cus: fmt.Sprintf("cus_%d", i%2), email: fmt.Sprintf("user%d@example.com", i%2), pay: fmt.Sprintf("pay_%d", i/3)}
		sec := secret
		if i%4 == 3 {
			p.src, sec = src2, secret2
		}
		code, out := s.signed(p.src, sec, fmt.Sprintf("msg_%d", i), dodoPayment(p.typ, p.cus, strings.ToUpper(p.email), p.pay), time.Now())
		if code != 202 {
			t.Fatalf("post %d: %d %v", i, code, out)
		}
		p.id = out["event_id"].(string)
		s.waitRecorded(tok, p.id) // one at a time: received times ascend
		all = append(all, p)
		time.Sleep(2 * time.Millisecond)
	}
	want := func(pred func(posted) bool) []string {
		var ids []string
		for i := len(all) - 1; i >= 0; i-- {
			if pred(all[i]) {
				ids = append(ids, all[i].id)
			}
		}
		return ids
	}
	cases := []struct {
		q    url.Values
		want []string
	}{
		{url.Values{}, want(func(posted) bool { return true })},
		{url.Values{"type": {"refund.succeeded"}}, want(func(p posted) bool { return p.typ == "refund.succeeded" })},
		{url.Values{"source_id": {src2}}, want(func(p posted) bool { return p.src == src2 })},
		{url.Values{"customer_id": {"cus_1"}}, want(func(p posted) bool { return p.cus == "cus_1" })},
		{url.Values{"email": {"User0@Example.COM"}}, want(func(p posted) bool { return p.cus == "cus_0" })},
		{url.Values{"payment_id": {"pay_1"}}, want(func(p posted) bool { return p.pay == "pay_1" })},
		{url.Values{"payment_id": {"pay_1"}, "customer_id": {"cus_0"}, "source_id": {src}},
			want(func(p posted) bool { return p.pay == "pay_1" && p.cus == "cus_0" && p.src == src })},
		{url.Values{"customer_id": {"cus_nobody"}}, nil},
	}
	for _, c := range cases {
		for _, limit := range []string{"2", "50"} {
			q := url.Values{"limit": {limit}}
			for k, v := range c.q {
				q[k] = v
			}
			if got := s.search(tok, q); !slices.Equal(got, c.want) {
				t.Fatalf("search %v:\n got %v\nwant %v", q, got, c.want)
			}
		}
	}

	// Another tenant finds nothing of acme's, whatever it asks.
	other := s.tenant("globex")
	for _, c := range cases {
		if got := s.search(other, c.q); len(got) != 0 {
			t.Fatalf("tenant globex found %v with %v", got, c.q)
		}
	}

	// Bad input is refused naming the field.
	for _, c := range []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=501", "limit"},
		{"limit=x", "limit"},
		{"cursor=nonsense", "cursor"},
		{"customer_id=" + strings.Repeat("c", 201), "customer_id"},
		{"payment_id=" + strings.Repeat("p", 201), "payment_id"},
		{"type=a%00b", "type"},
		{"source_id=" + strings.Repeat("s", 201), "source_id"},
		{"email=not-an-email", "email"},
	} {
		code, out := s.call("GET", "/v1/events?"+c.query, tok, nil)
		e, _ := out["error"].(map[string]any)
		if code != 400 || e["field"] != c.field {
			t.Errorf("GET /v1/events?%.40s: %d %v, want 400 naming %s", c.query, code, out, c.field)
		}
	}
}

// A delivery that failed on a script error is replayed after the merchant
// fixes the script: the fixed script runs, and the destination gets the same
// Idempotency-Key any attempt of this delivery carries.
func TestReplayAfterScriptFix(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "sink", "integration": "http", "url": sk.URL + "/hook",
		"transform": map[string]any{"enabled": true, "code": `function handler(webhook) {
  throw new Error("no amount for " + webhook.payload.data.payment_id);
}`}})

	code, out := s.signed(src, secret, "msg_fix", dodoPayment("payment.succeeded", "cus_1", "a@b.c", "pay_fix"), time.Now())
	if code != 202 {
		t.Fatalf("post: %d %v", code, out)
	}
	evID := out["event_id"].(string)
	d := s.waitStatus(tok, evID, dst, "failed", 10*time.Second)
	att := d["attempts"].([]any)[0].(map[string]any)
	if !strings.Contains(fmt.Sprint(att["error"]), "no amount for pay_fix") || att["line"] != float64(2) {
		t.Fatalf("failed attempt does not say why: %v", att)
	}
	if n := len(sk.got()); n != 0 {
		t.Fatalf("sink got %d requests from a throwing script", n)
	}

	s.mustCall(200, "PATCH", "/v1/destinations/"+dst, tok, map[string]any{"transform": map[string]any{"enabled": true,
		"code": `function handler(webhook) {
  webhook.payload = { fixed: true, payment: webhook.payload.data.payment_id };
  return webhook;
}`}})
	s.mustCall(202, "POST", "/v1/events/"+evID+"/replay", tok, map[string]any{"destination_id": dst})
	d = s.waitStatus(tok, evID, dst, "delivered", 10*time.Second)
	if n := len(d["attempts"].([]any)); n != 2 {
		t.Fatalf("attempts = %d, want 2 (the failure and the replay)", n)
	}
	got := sk.got()
	if len(got) != 1 {
		t.Fatalf("sink got %d requests, want 1", len(got))
	}
	if string(got[0].body) != `{"fixed":true,"payment":"pay_fix"}` {
		t.Fatalf("sink got %s, want the fixed script's output", got[0].body)
	}
	if k := got[0].header.Get("Idempotency-Key"); k != evID+":"+dst {
		t.Fatalf("Idempotency-Key = %q, want %q (event id + destination id)", k, evID+":"+dst)
	}
}

// replayDestination calls POST /v1/destinations/{id}/replay.
func (s *stack) replayDestination(tok, dst string, body any) (int, map[string]any) {
	s.t.Helper()
	return s.call("POST", "/v1/destinations/"+dst+"/replay", tok, body)
}

// A destination that refused deliveries is fixed, and its failed deliveries
// since a time are replayed in one request: each arrives again with the key
// of its first attempt, and a failure before that time stays failed.
func TestDestinationReplay(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	var broken atomic.Bool
	broken.Store(true)
	sk := newSink(t, func(n int, w http.ResponseWriter) {
		if broken.Load() {
			w.WriteHeader(422) // permanent: no retries
			return
		}
		w.WriteHeader(200)
	})
	tok, src, secret, dst := s.setup(sk.URL + "/hook")

	post := func(i int) string {
		t.Helper()
		code, out := s.signed(src, secret, fmt.Sprintf("msg_%d", i), dodoPayment("payment.succeeded", "cus_1", "a@b.c", fmt.Sprintf("pay_%d", i)), s.clock.Now())
		if code != 202 {
			t.Fatalf("post %d: %d %v", i, code, out)
		}
		ev := out["event_id"].(string)
		s.waitStatus(tok, ev, dst, "failed", 10*time.Second)
		return ev
	}
	early := post(0)
	s.clock.Advance(time.Hour)
	since := s.clock.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	var evs []string
	for i := 1; i <= 4; i++ {
		evs = append(evs, post(i))
	}
	firstKeys := map[string]string{} // payment id → key
	for _, r := range sk.got() {
		var p struct {
			Data struct {
				PaymentID string `json:"payment_id"`
			} `json:"data"`
		}
		_ = json.Unmarshal(r.body, &p)
		firstKeys[p.Data.PaymentID] = r.header.Get("Idempotency-Key")
	}
	if len(firstKeys) != 5 {
		t.Fatalf("sink saw %d distinct payments, want 5", len(firstKeys))
	}

	// Input is checked first.
	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, "since"},
		{map[string]any{"since": "yesterday"}, "since"},
		{map[string]any{"since": since, "status": "delivered"}, "status"},
	} {
		code, out := s.replayDestination(tok, dst, c.body)
		if e, _ := out["error"].(map[string]any); code != 400 || e["field"] != c.field {
			t.Fatalf("replay %v: %d %v, want 400 naming %s", c.body, code, out, c.field)
		}
	}
	if code, _ := s.replayDestination(s.tenant("globex"), dst, map[string]any{"since": since}); code != 404 {
		t.Fatalf("another tenant's replay: %d, want 404", code)
	}

	// What a replay would cover, and later its progress: the failures left.
	failures := func(since string) float64 {
		t.Helper()
		out := s.mustCall(200, "GET", "/v1/destinations/"+dst+"/failures?since="+url.QueryEscape(since), tok, nil)
		return out["failed"].(float64)
	}
	if n := failures(since); n != float64(len(evs)) {
		t.Fatalf("failures since %s: %v, want %d", since, n, len(evs))
	}
	if n := failures(time.Time{}.Format(time.RFC3339)); n != float64(len(evs)+1) {
		t.Fatalf("failures since the beginning: %v, want %d", n, len(evs)+1)
	}
	for _, bad := range []string{"", "?since=yesterday", "?since=" + url.QueryEscape(since) + "&status=failed"} {
		if code, out := s.call("GET", "/v1/destinations/"+dst+"/failures"+bad, tok, nil); code != 400 {
			t.Fatalf("failures%s: %d %v, want 400", bad, code, out)
		}
	}
	if code, _ := s.call("GET", "/v1/destinations/"+dst+"/failures?since="+url.QueryEscape(since), s.tenant("initech"), nil); code != 404 {
		t.Fatalf("another tenant's failures: %d, want 404", code)
	}

	broken.Store(false)
	before := len(sk.got())
	out := s.mustCall(202, "POST", "/v1/destinations/"+dst+"/replay", tok, map[string]any{"since": since, "status": "failed"})
	if out["replayed"] != float64(len(evs)) || out["per_second"] != float64(50) {
		t.Fatalf("replay answered %v, want %d replayed at the default 50 per second", out, len(evs))
	}
	for _, ev := range evs {
		s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)
	}
	again := sk.got()[before:]
	if len(again) != len(evs) {
		t.Fatalf("sink got %d replayed requests, want %d", len(again), len(evs))
	}
	for _, r := range again {
		var p struct {
			Data struct {
				PaymentID string `json:"payment_id"`
			} `json:"data"`
		}
		_ = json.Unmarshal(r.body, &p)
		if k := r.header.Get("Idempotency-Key"); k != firstKeys[p.Data.PaymentID] || k == "" {
			t.Fatalf("replay of %s carried key %q, first attempt %q", p.Data.PaymentID, k, firstKeys[p.Data.PaymentID])
		}
	}
	s.waitStatus(tok, early, dst, "failed", time.Second)
	if n := failures(since); n != 0 {
		t.Fatalf("failures left after the replay: %v, want 0", n)
	}

	// Nothing is left to replay since then: a second request replays none.
	out = s.mustCall(202, "POST", "/v1/destinations/"+dst+"/replay", tok, map[string]any{"since": since})
	if out["replayed"] != float64(0) {
		t.Fatalf("second replay: %v, want 0", out)
	}
}
