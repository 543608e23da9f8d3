package httpapi_test

import (
	"strings"
	"testing"
	"time"
)

// A catalog destination with a config value of the wrong form is refused
// with a message that names the field and the form expected, and nothing is
// saved.
func TestCatalogConfigRefused(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	for _, tc := range []struct {
		integration string
		config      map[string]string
		want        []string
	}{
		{"posthog", map[string]string{"api_key": "phc_3fG7hJ9kL1mN3pQ5rS7tV9wX1yZ", "region": "mars"}, []string{"region", "mars", "us, eu"}},
		{"posthog", map[string]string{"api_key": "phx_personalKeyThatIsLong12345"}, []string{"api_key", "phc_"}},
		{"mixpanel", map[string]string{"project_token": "not-a-token"}, []string{"project_token", "32 hexadecimal"}},
		{"mixpanel", map[string]string{"project_token": "0123456789abcdef0123456789abcdef", "region": "de"}, []string{"region", "us, eu, in"}},
		{"sendgrid", map[string]string{"api_key": "SG.aBcDeFgHiJkLmNoPqRsTuV.wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012", "from": "nobody", "to": "a@x.example"}, []string{"from", "email address"}},
		{"customerio", map[string]string{"site_id": "abc", "api_key": "def", "region": "apac"}, []string{"region", "us, eu"}},
		{"windmill", map[string]string{"token": "t", "workspace": "acme", "path": "billing"}, []string{"path", "f/billing/on_payment"}},
		{"inngest", map[string]string{"event_key": "https://inn.gs/e/abc"}, []string{"event_key", "not a URL"}},
		{"sendgrid", map[string]string{"api_key": "SG.aBcDeFgHiJkLmNoPqRsTuV.wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012"}, []string{"config.from", "required"}},
	} {
		code, out := s.call("POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": tc.integration, "integration": tc.integration, "config": tc.config})
		msg := toJSON(out)
		if code != 422 || !strings.Contains(msg, "invalid_config") {
			t.Errorf("%s %v: status %d %s; want 422 invalid_config", tc.integration, tc.config, code, msg)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s %v: %s does not say %q", tc.integration, tc.config, msg, w)
			}
		}
		for _, secret := range []string{"wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012", "phx_personalKeyThatIsLong12345"} {
			if strings.Contains(msg, secret) {
				t.Errorf("the error shows a credential: %s", msg)
			}
		}
	}
	if _, list := s.call("GET", "/v1/destinations", tok, nil); len(list["data"].([]any)) != 0 {
		t.Fatalf("a destination with bad config was saved: %v", list)
	}
}

// An Inngest destination works from its config alone (the URL is built
// from the key), and the key, which is in the URL, appears in no API
// output, attempt, log or Redis value.
func TestInngestKeyNeverShown(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	const key = "inngestSecretEventKey_9f8e7d6c5b4a"
	dest := s.mustCall(201, "POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "inngest", "integration": "inngest",
		"config": map[string]string{"event_key": key, "base_url": sk.URL}})
	dst := dest["id"].(string)
	if dest["url"] != sk.URL+"/****" {
		t.Errorf("url shown as %v", dest["url"])
	}
	code, acc := s.signed(src, secret, "inn-1", readFile(t, "dodo/payment.succeeded.usd.json"), time.Now())
	if code != 202 {
		t.Fatalf("post: %d %v", code, acc)
	}
	ev := acc["event_id"].(string)
	s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)
	got := sk.got()
	if len(got) != 1 || got[0].path != "/e/"+key || !strings.Contains(string(got[0].body), `"name":"dodo/payment.succeeded"`) {
		t.Fatalf("Inngest got %+v", got)
	}
	var seen []string
	for _, p := range []string{"/v1/destinations", "/v1/destinations/" + dst, "/v1/events/" + ev} {
		_, o := s.call("GET", p, tok, nil)
		seen = append(seen, toJSON(o))
	}
	seen = append(seen, s.logs.String())
	keys, _ := s.rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		if typ, _ := s.rdb.Type(ctx, k).Result(); typ == "hash" {
			v, _ := s.rdb.HGetAll(ctx, k).Result()
			seen = append(seen, toJSON(v))
		} else if typ == "string" {
			v, _ := s.rdb.Get(ctx, k).Result()
			seen = append(seen, v)
		}
	}
	for _, text := range seen {
		if strings.Contains(text, key) {
			t.Fatalf("the event key appears in %.300s", text)
		}
	}
}
