package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/integrations/egress"
	"net/http/httptest"
)

// Destination URLs that reach loopback, private, link-local or metadata
// addresses are refused at save time unless the operator allowed them.
func TestSSRFGuardOnSave(t *testing.T) {
	s := newStack(t)
	// A server with no allow-list, as in production.
	strict := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, Egress: egress.Policy{}, RootToken: rootToken, Log: s.log}
	api := httptest.NewServer(strict.Handler(httpapi.Roles{API: true}))
	defer api.Close()
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	for _, u := range []string{"http://127.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://10.0.0.1/", "http://localhost:9/x", "http://[::1]/"} {
		req, _ := http.NewRequest("POST", api.URL+"/v1/destinations", strings.NewReader(
			`{"source_id":"`+src+`","name":"x","integration":"http","url":"`+u+`"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", u, resp.StatusCode)
		}
	}
	// The test stack allows 127.0.0.0/8, as HOOKSHIFT_EGRESS_ALLOW would.
	s.mustCall(201, "POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "x", "integration": "http", "url": "http://127.0.0.1:9/hook"})
	_, out := s.call("POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "x", "integration": "http", "url": "http://169.254.169.254/"})
	if msg := out["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "url") {
		t.Fatalf("refusal does not name the field: %q", msg)
	}
}

// A tenant sees only its own objects: another tenant's ids answer 404 on
// every endpoint, and lists leave them out.
func TestTenantIsolation(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tokA, srcA, secretA, dstA := s.setup(sk.URL)
	evA := s.accept(srcA, secretA, "iso-1")
	s.waitStatus(tokA, evA, dstA, "delivered", 10*time.Second)
	tokB := s.tenant("other")
	srcB, _ := s.source(tokB)

	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/sources/" + srcA, ""},
		{"PATCH", "/v1/sources/" + srcA, `{"name":"x"}`},
		{"POST", "/v1/sources/" + srcA + "/rotate-secret", ""},
		{"DELETE", "/v1/sources/" + srcA, ""},
		{"GET", "/v1/destinations/" + dstA, ""},
		{"PATCH", "/v1/destinations/" + dstA, `{"name":"x"}`},
		{"POST", "/v1/destinations/" + dstA + "/test", `{"payload":{"type":"x"}}`},
		{"DELETE", "/v1/destinations/" + dstA, ""},
		{"GET", "/v1/events/" + evA, ""},
		{"POST", "/v1/events/" + evA + "/replay", ""},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		if code, out := s.call(c.method, c.path, tokB, body); code != 404 {
			t.Errorf("tenant B %s %s = %d %v, want 404", c.method, c.path, code, out)
		}
	}
	// B cannot attach a destination to A's source.
	if code, _ := s.call("POST", "/v1/destinations", tokB, map[string]any{"source_id": srcA, "name": "x", "integration": "http", "url": sk.URL}); code != 400 {
		t.Errorf("B created a destination on A's source: %d", code)
	}
	for _, path := range []string{"/v1/sources", "/v1/destinations", "/v1/events"} {
		_, out := s.call("GET", path, tokB, nil)
		for _, item := range out["data"].([]any) {
			id := item.(map[string]any)["id"]
			if id == srcA || id == dstA || id == evA {
				t.Errorf("tenant B lists A's %v at %s", id, path)
			}
		}
	}
	_, out := s.call("GET", "/v1/sources", tokB, nil)
	if n := len(out["data"].([]any)); n != 1 || out["data"].([]any)[0].(map[string]any)["id"] != srcB {
		t.Errorf("tenant B's sources = %v", out["data"])
	}
	// A's objects are untouched by B's attempts.
	s.mustCall(200, "GET", "/v1/destinations/"+dstA, tokA, nil)
	if got := s.mustCall(200, "GET", "/v1/sources/"+srcA, tokA, nil)["name"]; got != "dodo" {
		t.Errorf("A's source renamed to %v", got)
	}
	// No token, a wrong token, and the root token on tenant endpoints.
	for tok, want := range map[string]int{"": 401, "hst_wrong": 401, rootToken: 403} {
		if code, _ := s.call("GET", "/v1/sources", tok, nil); code != want {
			t.Errorf("token %q: %d, want %d", tok, code, want)
		}
	}
	if code, _ := s.call("POST", "/v1/tenants", tokA, map[string]any{"name": "x"}); code != 401 {
		t.Errorf("a tenant token created a tenant: %d", code)
	}
}

// Secrets and API keys are masked in API output and never logged.
func TestSecretsNeverShown(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	const apiKey = "df_live_supersecretkey123"
	const headerSecret = "Bearer hdr-secret-456"
	out := s.mustCall(201, "POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "df", "integration": "datafast",
		"url": sk.URL, "config": map[string]string{"api_key": apiKey}, "headers": map[string]string{"X-Api-Token": headerSecret}})
	dst := out["id"].(string)
	code, acc := s.signed(src, secret, "sec-1", readFile(t, "dodo/payment.succeeded.usd.json"), time.Now())
	if code != 202 {
		t.Fatalf("post: %d %v", code, acc)
	}
	ev := acc["event_id"].(string)
	s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)
	if got := sk.got()[0].header.Get("Authorization"); got != "Bearer "+apiKey {
		t.Fatalf("DataFast got Authorization %q", got)
	}
	var seen []string
	for _, p := range []string{"/v1/sources", "/v1/sources/" + src, "/v1/destinations", "/v1/destinations/" + dst, "/v1/events/" + ev} {
		_, o := s.call("GET", p, tok, nil)
		seen = append(seen, toJSON(o))
	}
	_, o := s.call("POST", "/v1/destinations/"+dst+"/test", tok, map[string]any{"payload": map[string]any{"type": "payment.succeeded"}})
	seen = append(seen, toJSON(o))
	seen = append(seen, s.logs.String())
	// A Slack destination: its URL is the credential.
	const slackURL = "/services/T000/B000/slacksecret789"
	slack := s.mustCall(201, "POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "chat", "integration": "slack",
		"config": map[string]string{"webhook_url": sk.URL + slackURL}})
	_, o = s.call("GET", "/v1/destinations/"+slack["id"].(string), tok, nil)
	seen = append(seen, toJSON(slack), toJSON(o))
	_, o = s.call("POST", "/v1/destinations/"+slack["id"].(string)+"/test", tok, map[string]any{"payload": json.RawMessage(readFile(t, "dodo/payment.succeeded.usd.json"))})
	seen = append(seen, toJSON(o))
	ev2 := s.accept(src, secret, "sec-2")
	s.waitStatus(tok, ev2, slack["id"].(string), "delivered", 10*time.Second)
	_, o = s.call("GET", "/v1/events/"+ev2, tok, nil)
	seen = append(seen, toJSON(o), s.logs.String())
	// Everything hookshift and asynq stored, whatever the Redis type.
	raw, _ := s.rdb.Keys(ctx, "*").Result()
	for _, k := range raw {
		switch typ, _ := s.rdb.Type(ctx, k).Result(); typ {
		case "string":
			v, _ := s.rdb.Get(ctx, k).Result()
			seen = append(seen, v)
		case "list":
			v, _ := s.rdb.LRange(ctx, k, 0, -1).Result()
			seen = append(seen, v...)
		case "hash":
			v, _ := s.rdb.HGetAll(ctx, k).Result()
			seen = append(seen, toJSON(v))
		case "zset":
			v, _ := s.rdb.ZRange(ctx, k, 0, -1).Result()
			seen = append(seen, v...)
		case "set":
			v, _ := s.rdb.SMembers(ctx, k).Result()
			seen = append(seen, v...)
		}
	}
	for _, text := range seen {
		for _, sec := range []string{secret, apiKey, "hdr-secret-456", "slacksecret789"} {
			if strings.Contains(text, sec) {
				t.Fatalf("secret %q appears in output or storage: %.300s", sec, text)
			}
		}
	}
}

// A source secret that cannot verify anything is refused at save time,
// naming the field, and nothing is saved.
func TestUnusableSecretRefused(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	code, out := s.call("POST", "/v1/sources", tok, map[string]any{"name": "dodo", "kind": "standard-webhooks", "secret": "whsec_not base64!"})
	if code != 400 || out["error"].(map[string]any)["field"] != "secret" {
		t.Fatalf("status %d: %v", code, out)
	}
	if _, list := s.call("GET", "/v1/sources", tok, nil); len(list["data"].([]any)) != 0 {
		t.Fatal("a source with an unusable secret was saved")
	}
	s.mustCall(201, "POST", "/v1/sources", tok, map[string]any{"name": "stripe", "kind": "stripe", "secret": "whsec_test_0123456789abcdef"})
	code, out = s.call("POST", "/v1/sources", tok, map[string]any{"name": "gh", "kind": "hmac", "config": map[string]any{"algorithm": "md4"}, "secret": "s"})
	if code != 400 || out["error"].(map[string]any)["field"] != "config" {
		t.Fatalf("bad hmac config: %d %v", code, out)
	}
}
