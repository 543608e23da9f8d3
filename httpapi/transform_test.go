package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

const datafastScript = `function handler(webhook) {
  const p = webhook.payload.data;
  const visitor = p.metadata?.datafast_visitor_id;
  if (!visitor) return null;
  webhook.payload = {
    amount: p.total_amount / 100,
    currency: p.currency,
    transaction_id: p.payment_id,
    datafast_visitor_id: visitor,
    email: p.customer?.email,
  };
  webhook.headers = { "X-Source": ` + "`dodo-${webhook.eventType}`" + ` };
  webhook.method = "PUT";
  return webhook;
}`

// A destination's script output is exactly what the destination receives.
func TestTransformOutputIsDelivered(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "df", "integration": "http", "url": sk.URL,
		"transform": map[string]any{"code": datafastScript, "enabled": true}})
	body := readFile(t, "dodo/payment.succeeded.usd.json")
	code, out := s.signed(src, secret, "tr-1", body, time.Now())
	if code != 202 {
		t.Fatalf("post: %d %v", code, out)
	}
	s.waitStatus(tok, out["event_id"].(string), dst, "delivered", 10*time.Second)
	r := sk.got()[0]
	var ev struct {
		Data struct {
			PaymentID   string `json:"payment_id"`
			TotalAmount int    `json:"total_amount"`
			Currency    string
			Metadata    map[string]any
			Customer    struct{ Email string }
		}
	}
	_ = json.Unmarshal(body, &ev)
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("destination got non-JSON %q", r.body)
	}
	want := map[string]any{"amount": float64(ev.Data.TotalAmount) / 100, "currency": ev.Data.Currency,
		"transaction_id": ev.Data.PaymentID, "datafast_visitor_id": ev.Data.Metadata["datafast_visitor_id"], "email": ev.Data.Customer.Email}
	if toJSON(got) != toJSON(want) {
		t.Fatalf("destination got %s\nwant %s", toJSON(got), toJSON(want))
	}
	if r.method != "PUT" || r.header.Get("X-Source") != "dodo-payment.succeeded" {
		t.Fatalf("method %s, X-Source %q", r.method, r.header.Get("X-Source"))
	}

	// Without a visitor id the script cancels: recorded as cancelled, nothing sent.
	code, out = s.signed(src, secret, "tr-2", readFile(t, "dodo/payment.succeeded.usd.no-visitor.json"), time.Now())
	if code != 202 {
		t.Fatalf("post: %d", code)
	}
	s.waitStatus(tok, out["event_id"].(string), dst, "cancelled", 10*time.Second)
	if n := len(sk.got()); n != 1 {
		t.Fatalf("a cancelled delivery sent a request (%d total)", n)
	}
}

// A script that throws makes the delivery a permanent failure, archived,
// with the message, line and console output on the attempt.
func TestTransformErrorIsArchivedWithLine(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	code := "function handler(webhook) {\n  console.log('looking at', webhook.eventType);\n  const x = webhook.payload.data.nope.deeper;\n  return webhook;\n}"
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "broken", "integration": "http", "url": sk.URL,
		"transform": map[string]any{"code": code, "enabled": true}})
	ev := s.accept(src, secret, "tr-err")
	d := s.waitStatus(tok, ev, dst, "failed", 10*time.Second)
	atts := d["attempts"].([]any)
	if len(atts) != 1 {
		t.Fatalf("a script error was retried: %d attempts", len(atts))
	}
	a := atts[0].(map[string]any)
	if a["line"] != float64(3) || !strings.Contains(a["error"].(string), "transform runtime error at line 3") {
		t.Fatalf("attempt = %v, want the TypeError at line 3", a)
	}
	if logs := a["logs"].([]any); len(logs) != 1 || !strings.Contains(logs[0].(string), "payment.succeeded") {
		t.Fatalf("logs = %v", a["logs"])
	}
	arch, _ := s.insp.ListArchivedTasks("delivery")
	if len(arch) != 1 || !strings.Contains(arch[0].LastErr, "line 3") {
		t.Fatalf("archived = %+v", arch)
	}
	if len(sk.got()) != 0 {
		t.Fatal("a failed transform still sent a request")
	}
}

// A syntax error is refused at save time with line and column; nothing is saved.
func TestSyntaxErrorRefusedAtSave(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	code, out := s.call("POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "x", "integration": "http",
		"url": "http://127.0.0.1:9/x", "transform": map[string]any{"code": "function handler(webhook) {\n  return webhook.;\n}", "enabled": true}})
	if code != 422 {
		t.Fatalf("status %d, want 422: %v", code, out)
	}
	e := out["error"].(map[string]any)
	if e["code"] != "transform_error" || e["line"] != float64(2) || e["column"] == nil {
		t.Fatalf("error = %v", e)
	}
	_, list := s.call("GET", "/v1/destinations", tok, nil)
	if n := len(list["data"].([]any)); n != 0 {
		t.Fatalf("a destination with a broken script was saved")
	}
}

// The test endpoints return the exact request that would be sent, or the
// cancel, or the error with its line and logs, and send nothing.
func TestTransformTestEndpoints(t *testing.T) {
	s := newStack(t)
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	payload := json.RawMessage(readFile(t, "dodo/payment.succeeded.usd.json"))

	out := s.mustCall(200, "POST", "/v1/transforms/test", tok, map[string]any{"code": datafastScript, "payload": payload})
	if out["cancel"] != false || out["method"] != "PUT" || out["payload"].(map[string]any)["transaction_id"] == nil {
		t.Fatalf("test result = %v", out)
	}
	for _, k := range []string{"cancel", "method", "url", "headers", "payload", "logs", "duration_ms"} {
		if _, ok := out[k]; !ok {
			t.Errorf("result lacks %q", k)
		}
	}
	out = s.mustCall(200, "POST", "/v1/transforms/test", tok, map[string]any{"code": datafastScript,
		"payload": json.RawMessage(readFile(t, "dodo/payment.succeeded.usd.no-visitor.json"))})
	if out["cancel"] != true {
		t.Fatalf("no-visitor result = %v, want cancel", out)
	}
	code, errOut := s.call("POST", "/v1/transforms/test", tok, map[string]any{"code": "function handler(w) {\n console.log('hi');\n throw new Error('boom');\n}", "payload": payload})
	e := errOut["error"].(map[string]any)
	if code != 422 || e["code"] != "transform_error" || e["line"] != float64(3) || !strings.Contains(e["message"].(string), "boom") {
		t.Fatalf("throw: %d %v", code, errOut)
	}
	if logs := errOut["logs"].([]any); len(logs) != 1 || logs[0] != "hi" {
		t.Fatalf("logs = %v", errOut["logs"])
	}

	// The destination test uses the destination's script, URL, env and
	// headers (credentials masked) and sends nothing.
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "df", "integration": "datafast", "url": sk.URL,
		"config": map[string]string{"api_key": "df_key_secret"}, "env": map[string]string{"TAG": "vip"},
		"transform": map[string]any{"code": "function handler(w) { w.payload = { tag: w.env.TAG, url: w.url }; return w; }", "enabled": true}})
	out = s.mustCall(200, "POST", "/v1/destinations/"+dst+"/test", tok, map[string]any{"payload": payload})
	p := out["payload"].(map[string]any)
	if p["tag"] != "vip" || p["url"] != sk.URL {
		t.Fatalf("destination test payload = %v", p)
	}
	h := out["headers"].(map[string]any)
	if h["Authorization"] != "****" || h["Idempotency-Key"] == nil {
		t.Fatalf("destination test headers = %v", h)
	}
	if len(sk.got()) != 0 {
		t.Fatal("a test sent a request")
	}
}

// A DataFast destination created with only its API key gets the default
// template; a renewal posted twice with the same webhook-id reaches DataFast
// once, with renewal: true, and the renewal's payment.succeeded is not
// counted a second time.
func TestDataFastDefaultTemplateRenewalOnce(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	df := newSink(t, func(n int, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success"}`))
	})
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	out := s.mustCall(201, "POST", "/v1/destinations", tok, map[string]any{"source_id": src, "name": "revenue",
		"integration": "datafast", "url": df.URL + "/api/v1/payments", "config": map[string]string{"api_key": "df_live_key"}})
	if tr, _ := out["transform"].(map[string]any); tr == nil || tr["enabled"] != true || tr["code"] == "" {
		t.Fatalf("no default transform on a new DataFast destination: %v", out["transform"])
	}
	dst := out["id"].(string)
	post := func(id, file string) string {
		code, res := s.signed(src, secret, id, readFile(t, file), time.Now())
		if code != 202 && code != 200 {
			t.Fatalf("post %s: %d %v", file, code, res)
		}
		return res["event_id"].(string)
	}
	renewed := post("wh-renewed", "dodo/subscription.renewed.json")
	post("wh-renewed", "dodo/subscription.renewed.json") // the platform retries
	payment := post("wh-renewal-payment", "dodo/payment.succeeded.renewal.json")
	s.waitStatus(tok, renewed, dst, "delivered", 10*time.Second)
	s.waitStatus(tok, payment, dst, "cancelled", 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	got := df.got()
	if len(got) != 1 {
		t.Fatalf("DataFast received %d requests, want exactly 1", len(got))
	}
	if got[0].header.Get("Authorization") != "Bearer df_live_key" {
		t.Fatalf("Authorization = %q", got[0].header.Get("Authorization"))
	}
	var body map[string]any
	_ = json.Unmarshal(got[0].body, &body)
	if body["renewal"] != true || body["transaction_id"] == nil || body["currency"] == nil {
		t.Fatalf("DataFast body = %s", got[0].body)
	}
}

// Secret env values are masked in every text a delivery leaves, like secret
// config and credential headers: a script error quoting one, a script log,
// and a far end's answer echoing one never reach the attempt the API shows,
// the process log or the dead letter asynqmon shows.
func TestSecretEnvNotInDeliveryTexts(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, func(_ int, w http.ResponseWriter) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":"unknown shop shop-secret-value"}`))
	})
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	env := map[string]string{"api_key": "sk_live_0123456789", "SHOP": "shop-secret-value"}
	throwing := s.destination(tok, map[string]any{"source_id": src, "name": "throws", "integration": "http", "url": sk.URL,
		"env": env, "secret_env": []string{"SHOP"}, "transform": map[string]any{"enabled": true,
			"code": "function handler(w) {\n console.log('key ' + w.env.api_key);\n throw new Error('bad shop ' + w.env.SHOP);\n}"}})
	echoed := s.destination(tok, map[string]any{"source_id": src, "name": "echoed", "integration": "http", "url": sk.URL,
		"env": env, "secret_env": []string{"SHOP"}, "transform": map[string]any{"enabled": true,
			"code": "function handler(w) { console.log('shop ' + w.env.SHOP); w.payload = {shop: w.env.SHOP}; return w; }"}})
	ev := s.accept(src, secret, "env-texts")
	s.waitStatus(tok, ev, throwing, "failed", 10*time.Second)
	s.waitStatus(tok, ev, echoed, "failed", 10*time.Second)
	_, evOut := s.call("GET", "/v1/events/"+ev, tok, nil)
	texts := map[string]string{"event API": toJSON(evOut), "logs": s.logs.String()}
	var tasks []*asynq.TaskInfo
	for deadline := time.Now().Add(10 * time.Second); len(tasks) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		tasks, _ = s.insp.ListArchivedTasks("delivery")
	}
	for _, ti := range tasks {
		texts["dead letter "+ti.ID] = ti.LastErr
	}
	if len(tasks) < 2 {
		t.Fatalf("%d dead letters, want 2", len(tasks))
	}
	for where, text := range texts {
		for _, v := range env {
			if strings.Contains(text, v) {
				t.Errorf("%s carries the secret env value %q: %s", where, v, text)
			}
		}
	}
}
