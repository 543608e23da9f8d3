package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/rules"
)

// errOf returns the code and message of an API error body.
func errOf(t *testing.T, out map[string]any) (string, string) {
	t.Helper()
	e, ok := out["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", out)
	}
	return e["code"].(string), e["message"].(string)
}

// limited is the test stack's API with other limits, as the serve flags set them.
func (s *stack) limited(l rules.Limits) *stack {
	srv := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, Egress: testEgress,
		RootToken: rootToken, Log: s.log, Now: s.clock.Now, Limits: l}
	api := httptest.NewServer(srv.Handler(httpapi.Roles{API: true}))
	s.t.Cleanup(api.Close)
	c := *s
	c.api = api
	return &c
}

// The API and the runtime share one header rule: a name the script may
// return (an RFC 9110 token such as X-Trace.Id) may be saved too, and a value
// that can never be sent (CR/LF or another control character) is refused at
// save, naming the header, instead of failing every attempt.
func TestHeaderRuleAtSave(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	dest := func(h map[string]string) (int, map[string]any) {
		return s.call("POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "x", "integration": "http",
			"url": "http://127.0.0.1:9/hook", "headers": h})
	}
	if code, out := dest(map[string]string{"X-Trace.Id": "a", "X-Tab": "a\tb"}); code != 201 {
		t.Fatalf("RFC 9110 token header name refused: %d %v", code, out)
	}
	for _, c := range []struct {
		name, value, code string
	}{
		{"X-Evil", "a\r\nHost: evil", "invalid_field"},
		{"X-Evil", "a\nb", "invalid_field"},
		{"X-Evil", "a\x01b", "invalid_field"},
		{"X-Evil", "a\x7fb", "invalid_field"},
		{"Bad Name", "v", "invalid_field"},
		{"X-Ü", "v", "invalid_field"},
	} {
		code, out := dest(map[string]string{c.name: c.value})
		if code != 422 {
			t.Errorf("header %q: %q: status %d, want 422: %v", c.name, c.value, code, out)
			continue
		}
		gotCode, msg := errOf(t, out)
		if gotCode != c.code || !strings.Contains(msg, c.name) {
			t.Errorf("header %q: error %s %q, want %s naming the header", c.name, gotCode, msg, c.code)
		}
	}
	if code, _ := dest(map[string]string{"Idempotency-Key": "x"}); code != 400 {
		t.Errorf("a header hookshift sets was accepted: %d", code)
	}
}

// Every config field is bounded, and the refusal (422 limit_exceeded) names
// the limit; nothing is stored.
func TestDestinationFieldLimits(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	lim := rules.DefaultLimits()
	base := func() map[string]any {
		return map[string]any{"source_id": src, "name": "x", "integration": "http", "url": "http://127.0.0.1:9/hook"}
	}
	many := func(n, size int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m["X-H"+strings.Repeat("a", i%5)+string(rune('a'+i%26))+strings.Repeat("b", i/26)] = strings.Repeat("v", size)
		}
		return m
	}
	for _, c := range []struct {
		name  string
		field string
		set   func(b map[string]any)
		says  string
	}{
		{"300 KB URL", "url", func(b map[string]any) { b["url"] = "http://127.0.0.1:9/" + strings.Repeat("a", 300<<10) }, "2048 bytes"},
		{"400 headers", "headers", func(b map[string]any) { b["headers"] = many(400, 1) }, "limit of 50"},
		{"large headers", "headers", func(b map[string]any) { b["headers"] = many(10, 4000) }, "8192 bytes"},
		{"200 KB env", "env", func(b map[string]any) { b["env"] = map[string]string{"big": strings.Repeat("e", 200<<10)} }, "16384 bytes"},
		{"many env", "env", func(b map[string]any) { b["env"] = many(lim.MaxEnv+1, 1) }, "limit of 50"},
		{"long name", "name", func(b map[string]any) { b["name"] = strings.Repeat("n", 201) }, "limit of 200"},
		{"many event types", "event_types", func(b map[string]any) {
			et := make([]string, 101)
			for i := range et {
				et[i] = "payment.x" + strings.Repeat("y", i)
			}
			b["event_types"] = et
		}, "limit of 100"},
		{"large config", "config", func(b map[string]any) {
			b["config"] = map[string]any{"signing_secret": "whsec_" + strings.Repeat("A", 20<<10)}
		}, "4096 bytes"},
	} {
		b := base()
		c.set(b)
		code, out := s.call("POST", "/v1/destinations", tok, b)
		if code != 422 {
			t.Errorf("%s: status %d, want 422: %.300v", c.name, code, out)
			continue
		}
		ec, msg := errOf(t, out)
		if ec != rules.CodeLimitExceeded || !strings.Contains(msg, c.field) || !strings.Contains(msg, c.says) {
			t.Errorf("%s: %s %q, want limit_exceeded naming %s and %q", c.name, ec, msg, c.field, c.says)
		}
	}
	if _, out := s.call("GET", "/v1/destinations", tok, nil); len(out["data"].([]any)) != 0 {
		t.Fatalf("a refused destination was stored: %v", out)
	}
	// A source's name and config are bounded too.
	code, out := s.call("POST", "/v1/sources", tok, map[string]any{"name": strings.Repeat("n", 201), "kind": "standard-webhooks"})
	if ec, _ := errOf(t, out); code != 422 || ec != rules.CodeLimitExceeded {
		t.Errorf("long source name: %d %v", code, out)
	}
	code, out = s.call("POST", "/v1/sources", tok, `{"name":"x","kind":"hmac","secret":"0123456789abcdef0123","config":{"pad":"`+strings.Repeat("p", 20<<10)+`"}}`)
	if ec, msg := errOf(t, out); code != 422 || ec != rules.CodeLimitExceeded || !strings.Contains(msg, "config") {
		t.Errorf("large source config: %d %v", code, out)
	}
}

// The number of sources and destinations per tenant is bounded (here by the
// limits a flag sets); deleting one makes room again, and another tenant is
// unaffected.
func TestObjectQuotas(t *testing.T) {
	s := newStack(t).limited(rules.Limits{MaxSources: 2, MaxDestinations: 3})
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	src2, _ := s.source(tok)
	code, out := s.call("POST", "/v1/sources", tok, map[string]any{"name": "third", "kind": "standard-webhooks"})
	if ec, msg := errOf(t, out); code != 422 || ec != "limit_exceeded" || !strings.Contains(msg, "2 sources") {
		t.Fatalf("third source: %d %v", code, out)
	}
	dst := func(source string) (int, map[string]any) {
		return s.call("POST", "/v1/destinations", tok, map[string]any{"source_id": source, "name": "x", "integration": "http", "url": "http://127.0.0.1:9/hook"})
	}
	var ids []string
	for i := range 3 {
		code, out := dst([]string{src, src2}[i%2])
		if code != 201 {
			t.Fatalf("destination %d: %d %v", i, code, out)
		}
		ids = append(ids, out["id"].(string))
	}
	code, out = dst(src)
	if ec, msg := errOf(t, out); code != 422 || ec != "limit_exceeded" || !strings.Contains(msg, "3 destinations") {
		t.Fatalf("fourth destination: %d %v", code, out)
	}
	s.mustCall(204, "DELETE", "/v1/destinations/"+ids[0], tok, nil)
	if code, out := dst(src); code != 201 {
		t.Fatalf("after a delete: %d %v", code, out)
	}
	// Deleting a source frees its destinations' places as well.
	s.mustCall(204, "DELETE", "/v1/sources/"+src2, tok, nil)
	s.source(tok)
	if code, out := dst(src); code != 201 {
		t.Fatalf("after deleting a source: %d %v", code, out)
	}
	other := s.tenant("other")
	s.source(other)
	s.source(other)
}

// Two creates racing for the last place cannot both pass.
func TestQuotaRace(t *testing.T) {
	s := newStack(t).limited(rules.Limits{MaxSources: 5, MaxDestinations: 4})
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	for range 3 {
		s.destination(tok, map[string]any{"source_id": src, "name": "x", "integration": "http", "url": "http://127.0.0.1:9/hook"})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := s.call("POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "x", "integration": "http", "url": "http://127.0.0.1:9/hook"})
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[201] != 1 || codes[422] != 7 {
		t.Fatalf("8 racing creates for 1 place: %v, want one 201 and seven 422", codes)
	}
	_, out := s.call("GET", "/v1/destinations", tok, nil)
	if n := len(out["data"].([]any)); n != 4 {
		t.Fatalf("%d destinations stored, limit 4", n)
	}
}

// A rate limit the throttle cannot keep (1e-300 made a delivery wait for
// ever) is refused at save; 0 means no limit.
func TestRateLimitBounds(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	for _, c := range []struct {
		v    float64
		want int
	}{{1e-300, 422}, {0.001, 422}, {-1, 422}, {10001, 422}, {1e300, 422}, {0, 201}, {0.01, 201}, {10000, 201}, {2.5, 201}} {
		code, out := s.call("POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "x", "integration": "http",
			"url": "http://127.0.0.1:9/hook", "rate_limit_per_second": c.v})
		if code != c.want {
			t.Errorf("rate %g: %d, want %d: %v", c.v, code, c.want, out)
			continue
		}
		if code == 422 {
			if ec, msg := errOf(t, out); ec != "invalid_field" || !strings.Contains(msg, "rate_limit_per_second") || !strings.Contains(msg, "0.01") {
				t.Errorf("rate %g: %s %q does not name the field and range", c.v, ec, msg)
			}
		}
	}
}

// URLs that cannot be delivered safely are refused at save with a message
// that says why: numeric host forms that resolvers read as loopback, and
// credentials in the URL.
func TestURLRefusedAtSave(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	for _, c := range []struct{ url, says string }{
		{"http://0x7f.1/", "not a valid IP address or host name"},
		{"http://2130706433/", "not a valid IP address or host name"},
		{"http://0177.0.0.1/", "not a valid IP address or host name"},
		{"http://user:pw@127.0.0.1:9/", "user name or password"},
		{"http://127.0.0.1:9/\r\n", "url"},
	} {
		code, out := s.call("POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "x", "integration": "http", "url": c.url})
		if code != 400 {
			t.Errorf("%q: %d, want 400: %v", c.url, code, out)
			continue
		}
		if _, msg := errOf(t, out); !strings.Contains(msg, c.says) {
			t.Errorf("%q: message %q does not say %q", c.url, msg, c.says)
		}
	}
}

// env values marked secret (or named like a credential) are never shown by
// the API, survive a PATCH that sends back what was read, and still reach
// the script at delivery time.
func TestSecretEnv(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	code := `function handler(w) { w.payload = {env: w.env}; return w; }`
	out := s.mustCall(201, "POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "x", "integration": "http", "url": sk.URL,
		"env":        map[string]string{"currency": "USD", "api_key": "sk_live_1", "SHOP": "shop-secret"},
		"secret_env": []string{"SHOP"}, "transform": map[string]any{"code": code, "enabled": true}})
	dst := out["id"].(string)
	wantEnv := map[string]any{"currency": "USD", "api_key": "****", "SHOP": "****"}
	check := func(what string, v map[string]any) {
		t.Helper()
		if got := v["env"]; toJSON(got) != toJSON(wantEnv) {
			t.Errorf("%s: env %v, want %v", what, got, wantEnv)
		}
		if got := toJSON(v["secret_env"]); got != `["SHOP","api_key"]` {
			t.Errorf("%s: secret_env %s", what, got)
		}
		if b, _ := json.Marshal(v); strings.Contains(string(b), "sk_live_1") || strings.Contains(string(b), "shop-secret") {
			t.Errorf("%s shows a secret: %s", what, b)
		}
	}
	check("create", out)
	check("get", s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil))
	_, list := s.call("GET", "/v1/destinations", tok, nil)
	check("list", list["data"].([]any)[0].(map[string]any))
	// A client that PATCHes back what it read keeps the secrets.
	check("patch", s.mustCall(200, "PATCH", "/v1/destinations/"+dst, tok, map[string]any{"env": wantEnv}))

	ev := s.accept(src, secret, "env-1")
	s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)
	got := sk.got()
	if len(got) != 1 || !strings.Contains(string(got[0].body), `"api_key":"sk_live_1"`) || !strings.Contains(string(got[0].body), `"SHOP":"shop-secret"`) {
		t.Fatalf("the script did not get the secret env values: %q", got[0].body)
	}
	// Taking a secret off secret_env does not reveal it: its value must be sent anew.
	if code, out := s.call("PATCH", "/v1/destinations/"+dst, tok, map[string]any{"secret_env": []string{}}); code != 400 || !strings.Contains(toJSON(out), "SHOP") {
		t.Fatalf("un-marking a secret without a new value: %d %v", code, out)
	}
	check("after a refused un-mark", s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil))
	un := s.mustCall(200, "PATCH", "/v1/destinations/"+dst, tok, map[string]any{"secret_env": []string{},
		"env": map[string]string{"currency": "USD", "api_key": "****", "SHOP": "public-now"}})
	if env := un["env"].(map[string]any); env["SHOP"] != "public-now" || env["api_key"] != "****" {
		t.Fatalf("after un-marking with a new value: %v", env)
	}
	// A mask sent for a secret that is not stored is refused, not saved as "****".
	if code, out := s.call("PATCH", "/v1/destinations/"+dst, tok, map[string]any{"env": map[string]string{"new_token": "****"}}); code != 400 {
		t.Fatalf("mask of an unknown secret accepted: %d %v", code, out)
	}
}

// The operator rotates and revokes tenant tokens; the old token stops
// working at once, and only the root token may do it.
func TestTenantTokenRotateRevoke(t *testing.T) {
	s := newStack(t)
	created := s.mustCall(201, "POST", "/v1/tenants", rootToken, map[string]any{"name": "acme"})
	id, old := created["id"].(string), created["token"].(string)
	s.mustCall(200, "GET", "/v1/sources", old, nil)
	other := s.tenant("other")

	for _, tok := range []string{old, other, ""} {
		if code, _ := s.call("POST", "/v1/tenants/"+id+"/rotate-token", tok, nil); code != 401 {
			t.Errorf("rotate with a non-root token: %d, want 401", code)
		}
		if code, _ := s.call("DELETE", "/v1/tenants/"+id+"/token", tok, nil); code != 401 {
			t.Errorf("revoke with a non-root token: %d, want 401", code)
		}
	}
	rot := s.mustCall(200, "POST", "/v1/tenants/"+id+"/rotate-token", rootToken, nil)
	fresh := rot["token"].(string)
	if fresh == old || fresh == "" {
		t.Fatalf("rotation gave %q", fresh)
	}
	if code, _ := s.call("GET", "/v1/sources", old, nil); code != 401 {
		t.Fatalf("old token still works after rotation: %d", code)
	}
	s.mustCall(200, "GET", "/v1/sources", fresh, nil)
	s.mustCall(200, "GET", "/v1/sources", other, nil)

	s.mustCall(204, "DELETE", "/v1/tenants/"+id+"/token", rootToken, nil)
	if code, _ := s.call("GET", "/v1/sources", fresh, nil); code != 401 {
		t.Fatalf("revoked token still works: %d", code)
	}
	list := s.mustCall(200, "GET", "/v1/tenants", rootToken, nil)
	b, _ := json.Marshal(list)
	if strings.Contains(string(b), "token_hash") || strings.Contains(string(b), fresh) || !strings.Contains(string(b), `"token_revoked":true`) {
		t.Fatalf("tenant list: %s", b)
	}
	if n := len(list["data"].([]any)); n != 2 {
		t.Fatalf("%d tenants listed, want 2", n)
	}
	again := s.mustCall(200, "POST", "/v1/tenants/"+id+"/rotate-token", rootToken, nil)["token"].(string)
	s.mustCall(200, "GET", "/v1/sources", again, nil)
	if code, _ := s.call("POST", "/v1/tenants/ten_nope/rotate-token", rootToken, nil); code != 404 {
		t.Fatalf("unknown tenant: %d", code)
	}
}

// A misspelt or unknown query parameter on /v1/events is refused with 400,
// naming it and the accepted ones, instead of listing everything.
func TestEventsUnknownQueryParameter(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	code, out := s.call("GET", "/v1/events?customer=cus_1", tok, nil)
	if code != 400 {
		t.Fatalf("unknown parameter: %d %v", code, out)
	}
	if _, msg := errOf(t, out); !strings.Contains(msg, `customer`) || !strings.Contains(msg, "customer_id") || !strings.Contains(msg, "payment_id") {
		t.Fatalf("message %q does not name the parameter and the accepted ones", msg)
	}
	s.mustCall(200, "GET", "/v1/events?customer_id=cus_1&limit=5", tok, nil)
}

// usedMemory is Redis's used_memory, in bytes.
func (s *stack) usedMemory() int64 {
	s.t.Helper()
	info, err := s.rdb.Info(ctx, "memory").Result()
	if err != nil {
		s.t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			var n int64
			if _, err := fmt.Sscan(v, &n); err == nil {
				return n
			}
		}
	}
	s.t.Fatalf("no used_memory in INFO memory")
	return 0
}

// A destination filled to every default limit costs a bounded number of
// Redis bytes (it was 1.3 MB and more, unbounded, before the limits).
func TestMaximalDestinationMemory(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	lim := rules.DefaultLimits()
	fill := func(n, total int) map[string]string {
		m := map[string]string{}
		for i := range n {
			k := fmt.Sprintf("X-F%02d", i)
			m[k] = strings.Repeat("v", total/n-len(k))
		}
		return m
	}
	et := make([]string, lim.MaxEventTypes)
	for i := range et {
		et[i] = fmt.Sprintf("%03d", i) + strings.Repeat("t", 197)
	}
	code := "function handler(w) { return w; }\n//" + strings.Repeat("c", 51200-40)
	body := map[string]any{"source_id": src, "name": strings.Repeat("n", lim.MaxNameChars), "integration": "http",
		"url":     "http://127.0.0.1:9/" + strings.Repeat("u", lim.MaxURLBytes-len("http://127.0.0.1:9/")),
		"headers": fill(lim.MaxHeaders, lim.MaxHeaderBytes), "env": fill(lim.MaxEnv, lim.MaxEnvBytes),
		"config":      map[string]string{"bearer_token": strings.Repeat("b", lim.MaxConfigBytes-len("bearer_token"))},
		"event_types": et, "transform": map[string]any{"code": code, "enabled": true}}
	const n = 10
	before := s.usedMemory()
	for range n {
		s.destination(tok, body)
	}
	per := (s.usedMemory() - before) / n
	t.Logf("a destination at every default limit: %d bytes of Redis memory", per)
	if per > 256<<10 {
		t.Fatalf("a maximal destination takes %d bytes of Redis, over 256 KiB", per)
	}
}
