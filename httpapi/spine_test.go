package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/httpapi"
)

const paymentBody = `{"business_id":"bus_1","type":"payment.succeeded","timestamp":"2026-11-23T09:00:00Z","data":{"payload_type":"Payment","payment_id":"pay_1","total_amount":2999,"currency":"USD","customer":{"customer_id":"cus_1","email":"ann@example.com","name":"Ann"},"metadata":{}}}`

// A signed event reaches the destination exactly once, even when the
// platform posts it three times at once.
func TestSignedEventDeliveredExactlyOnce(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "sink", "integration": "http",
		"url": sk.URL + "/hook", "headers": map[string]string{"X-Merchant": "acme"}})

	var wg sync.WaitGroup
	codes := make([]int, 3)
	bodies := make([]map[string]any, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], bodies[i] = s.signed(src, secret, "msg_once", []byte(paymentBody), time.Now())
		}()
	}
	wg.Wait()
	fresh := 0
	for i := range 3 {
		if codes[i] != 200 && codes[i] != 202 {
			t.Fatalf("post %d: status %d: %v", i, codes[i], bodies[i])
		}
		if bodies[i]["event_id"] != bodies[0]["event_id"] {
			t.Fatalf("duplicates got different event ids: %v vs %v", bodies[i], bodies[0])
		}
		if bodies[i]["duplicate"] == false {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d posts were accepted as new, want exactly 1: %v", fresh, bodies)
	}
	evID := bodies[0]["event_id"].(string)
	d := s.waitStatus(tok, evID, dst, "delivered", 10*time.Second)
	if n := len(d["attempts"].([]any)); n != 1 {
		t.Fatalf("attempts = %d, want 1", n)
	}
	// A fourth copy after delivery is still a duplicate (the marker answers).
	code, out := s.signed(src, secret, "msg_once", []byte(paymentBody), time.Now())
	if code != 200 || out["duplicate"] != true {
		t.Fatalf("late duplicate: %d %v", code, out)
	}
	time.Sleep(300 * time.Millisecond)
	got := sk.got()
	if len(got) != 1 {
		t.Fatalf("destination received %d requests, want 1", len(got))
	}
	r := got[0]
	if r.path != "/hook" || r.method != "POST" || r.header.Get("X-Merchant") != "acme" {
		t.Fatalf("request = %s %s headers %v", r.method, r.path, r.header)
	}
	if want := evID + ":" + dst; r.header.Get("Idempotency-Key") != want {
		t.Fatalf("Idempotency-Key = %q, want %q", r.header.Get("Idempotency-Key"), want)
	}
	var sent, orig any
	_ = json.Unmarshal(r.body, &sent)
	_ = json.Unmarshal([]byte(paymentBody), &orig)
	if fmt.Sprint(sent) != fmt.Sprint(orig) {
		t.Fatalf("body = %s, want the event as received", r.body)
	}
	if s.queueSize("ingest") != 0 || s.queueSize("delivery") != 0 {
		t.Fatalf("finished tasks linger: ingest %d, delivery %d", s.queueSize("ingest"), s.queueSize("delivery"))
	}
}

// Every rejection answers its status and leaves the queue untouched.
func TestRejectionsLeaveQueueUntouched(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, secret := s.source(tok)

	post := func(path string, h http.Header, body string) int {
		req, _ := http.NewRequest("POST", s.api.URL+path, strings.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode >= 300 && (e.Error.Code == "" || e.Error.Message == "") {
			t.Errorf("%s: error body lacks code or message", path)
		}
		return resp.StatusCode
	}
	sign := func(id, body string, ts time.Time) http.Header {
		h, _, err := signHeaders(secret, id, body, ts)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	otherSecret := "whsec_" + strings.Repeat("A", 43) + "="
	good := sign("m1", paymentBody, time.Now())
	bad, _, _ := signHeaders(otherSecret, "m1", paymentBody, time.Now())
	cases := []struct {
		name   string
		path   string
		header http.Header
		body   string
		want   int
	}{
		{"bad signature", "/v1/webhooks/" + src, bad, paymentBody, 401},
		{"missing signature", "/v1/webhooks/" + src, http.Header{}, paymentBody, 401},
		{"stale timestamp", "/v1/webhooks/" + src, sign("m2", paymentBody, time.Now().Add(-6*time.Minute)), paymentBody, 401},
		{"future timestamp", "/v1/webhooks/" + src, sign("m3", paymentBody, time.Now().Add(6*time.Minute)), paymentBody, 401},
		{"tampered body", "/v1/webhooks/" + src, good, strings.Replace(paymentBody, "2999", "1", 1), 401},
		{"unknown source", "/v1/webhooks/src_nope", good, paymentBody, 404},
		{"oversized body", "/v1/webhooks/" + src, sign("m4", strings.Repeat(" ", 70<<10)+paymentBody, time.Now()), strings.Repeat(" ", 70<<10) + paymentBody, 413},
		{"malformed JSON", "/v1/webhooks/" + src, sign("m5", `{"type":`, time.Now()), `{"type":`, 400},
		{"overlong event id", "/v1/webhooks/" + src, sign(strings.Repeat("x", 300), paymentBody, time.Now()), paymentBody, 400},
	}
	for _, c := range cases {
		if got := post(c.path, c.header, c.body); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	if n := s.queueSize("ingest"); n != 0 {
		t.Fatalf("rejections enqueued %d tasks", n)
	}
	keys, _ := s.rdb.Keys(ctx, "hookshift:{e:*}:dedupe").Result()
	if len(keys) != 0 {
		t.Fatalf("rejections wrote dedupe markers: %v", keys)
	}
	// The same valid request is then accepted: nothing above poisoned it.
	if got := post("/v1/webhooks/"+src, good, paymentBody); got != 202 {
		t.Fatalf("valid request after rejections: %d", got)
	}
	if n := s.queueSize("ingest"); n != 1 {
		t.Fatalf("valid request enqueued %d tasks, want 1", n)
	}
}

// After a rotation the old secret is accepted for 24 hours, then refused.
func TestSecretRotationGraceWindow(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, oldSecret := s.source(tok)
	out := s.mustCall(200, "POST", "/v1/sources/"+src+"/rotate-secret", tok, nil)
	newSecret := out["secret"].(string)
	if newSecret == oldSecret || !strings.HasPrefix(newSecret, "whsec_") {
		t.Fatalf("rotate returned %q", newSecret)
	}
	post := func(secret, id string) int {
		code, _ := s.signed(src, secret, id, []byte(paymentBody), s.clock.Now())
		return code
	}
	if c := post(oldSecret, "r1"); c != 202 {
		t.Fatalf("old secret right after rotation: %d", c)
	}
	s.clock.Advance(23 * time.Hour)
	if c := post(oldSecret, "r2"); c != 202 {
		t.Fatalf("old secret 23h after rotation: %d", c)
	}
	s.clock.Advance(2 * time.Hour)
	if c := post(oldSecret, "r3"); c != 401 {
		t.Fatalf("old secret 25h after rotation: %d, want 401", c)
	}
	if c := post(newSecret, "r4"); c != 202 {
		t.Fatalf("new secret 25h after rotation: %d", c)
	}
	// The secret is shown on create and rotate only.
	got := s.mustCall(200, "GET", "/v1/sources/"+src, tok, nil)
	if got["secret"] != "whsec_****" {
		t.Fatalf("GET source shows secret %q", got["secret"])
	}
}

// The receiver's source cache saves a Redis read per webhook, yet a change
// made through this process's API (rotation) takes effect at once.
func TestReceiverSourceCache(t *testing.T) {
	s := newStack(t)
	srv := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, RootToken: rootToken, Log: s.log,
		Egress: testEgress, Now: s.clock.Now, SourceCacheTTL: time.Hour}
	s.api.Config.Handler = srv.Handler(httpapi.Roles{Receiver: true, API: true})
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	if code, _ := s.signed(src, secret, "c1", []byte(paymentBody), time.Now()); code != 202 {
		t.Fatalf("first post: %d", code)
	}
	// Another process deletes the source's record: this receiver still
	// serves it from the cache (for at most the TTL).
	saved, err := s.store.GetSource(ctx, "", src)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.DeleteSource(ctx, saved.TenantID, src); err != nil {
		t.Fatal(err)
	}
	if code, _ := s.signed(src, secret, "c2", []byte(paymentBody), time.Now()); code != 202 {
		t.Fatalf("cached source not used: %d", code)
	}
	if err := s.store.SaveSource(ctx, saved); err != nil {
		t.Fatal(err)
	}
	// A rotation through this API is seen at once; the old secret stays valid.
	newSecret := s.mustCall(200, "POST", "/v1/sources/"+src+"/rotate-secret", tok, nil)["secret"].(string)
	for i, sec := range []string{newSecret, secret} {
		if code, _ := s.signed(src, sec, fmt.Sprintf("c3-%d", i), []byte(paymentBody), time.Now()); code != 202 {
			t.Fatalf("secret %d after rotation: %d", i, code)
		}
	}
}

// Every response carries a request id (the caller's, when sane), and the
// receiver's log line carries the same id.
func TestRequestIDEchoed(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	h, body, _ := signHeaders(secret, "rid-1", paymentBody, time.Now())
	h.Set("X-Request-Id", "support-ticket-42")
	req, _ := http.NewRequest("POST", s.api.URL+"/v1/webhooks/"+src, strings.NewReader(string(body)))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "support-ticket-42" {
		t.Fatalf("X-Request-Id = %q", got)
	}
	if !strings.Contains(s.logs.String(), `"request_id":"support-ticket-42"`) {
		t.Fatalf("receiver log lacks the request id: %s", s.logs.String())
	}
	resp2, _ := http.Get(s.api.URL + "/healthz")
	resp2.Body.Close()
	if id := resp2.Header.Get("X-Request-Id"); len(id) < 16 {
		t.Fatalf("generated request id = %q", id)
	}
	bad, _ := http.NewRequest("GET", s.api.URL+"/healthz", nil)
	bad.Header.Set("X-Request-Id", "two words")
	resp3, _ := http.DefaultClient.Do(bad)
	resp3.Body.Close()
	if id := resp3.Header.Get("X-Request-Id"); id == "two words" {
		t.Fatal("an unsafe request id was echoed")
	}
}
