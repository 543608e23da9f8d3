package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// previewRaw calls a preview endpoint and keeps the payload's raw bytes.
func (s *stack) previewRaw(path, token string, body any) (headers map[string]string, payload json.RawMessage, url string) {
	s.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.api.URL+path, bytes.NewReader(j))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("preview: %d %s", resp.StatusCode, raw)
	}
	var out struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Payload json.RawMessage   `json:"payload"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatal(err)
	}
	return out.Headers, out.Payload, out.URL
}

// The destination preview shows the request the worker sends: the same
// body, the same headers, signature headers included, every value but the
// harmless ones masked. Only webhook-timestamp and webhook-signature differ
// between the preview and the delivery, because they are made at the time
// of each send (a receiver refuses a timestamp older than 5 minutes, so a
// retry cannot reuse the first one); queue/dispatch proves them equal for
// one clock.
func TestPreviewEndpointShowsSignature(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "signed", "integration": "http", "url": sk.URL,
		"config":  map[string]string{"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "bearer_token": "tok_9876543210"},
		"headers": map[string]string{"X-Custom": "custom-token-value"}})
	ev := s.accept(src, secret, "m-preview")
	s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)
	sent := sk.got()[0]

	shown, payload, url := s.previewRaw("/v1/destinations/"+dst+"/test", tok, map[string]any{"event_id": ev})
	if url != sk.URL {
		t.Errorf("preview url %q, sent to %q", url, sk.URL)
	}
	var a, b bytes.Buffer
	_ = json.Compact(&a, payload)
	_ = json.Compact(&b, sent.body)
	if a.String() != b.String() {
		t.Errorf("preview body %s, sent %s", a.String(), b.String())
	}
	for k := range sent.header {
		if _, ok := shown[k]; !ok {
			t.Errorf("header %s was sent but the preview does not show it", k)
		}
	}
	for k, v := range shown {
		got := sent.header.Get(k)
		switch k {
		case "Webhook-Signature", "Authorization", "X-Custom":
			if v != "****" || got == "" {
				t.Errorf("%s: preview %q, sent %q; want it masked in the preview and sent", k, v, got)
			}
		case "Webhook-Timestamp": // made at each send
		default:
			if v != got {
				t.Errorf("%s: preview %q, sent %q", k, v, got)
			}
		}
	}
	if shown["Webhook-Id"] == "" || shown["Webhook-Signature"] == "" {
		t.Fatalf("preview headers %v lack the signature headers", shown)
	}
}

// A Slack URL that fails to connect never reaches the attempt log, the event
// API, the queue's error text or the logs: only its masked form does.
func TestSlackURLNotInDeliveryErrors(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	closed := httptest.NewServer(http.NotFoundHandler())
	hook := closed.URL + "/services/T0/B0/xoxSecretPart0123456789"
	closed.Close()
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "slack", "integration": "slack",
		"config": map[string]string{"webhook_url": hook}})
	ev := s.accept(src, secret, "m-slack")
	d := s.waitStatus(tok, ev, dst, "retrying", 10*time.Second)
	_, evOut := s.call("GET", "/v1/events/"+ev, tok, nil)
	raw, _ := json.Marshal(evOut)
	texts := map[string]string{"event API": string(raw), "logs": s.logs.String()}
	// The attempt is recorded ("retrying") just before the handler returns
	// and asynq moves the task to its retry set: wait for that move.
	var tasks []*asynq.TaskInfo
	for deadline := time.Now().Add(10 * time.Second); len(tasks) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		tasks, _ = s.insp.ListRetryTasks("delivery")
	}
	for _, ti := range tasks {
		texts["queue error "+ti.ID] = ti.LastErr
	}
	if len(tasks) == 0 {
		t.Fatal("no retry task to inspect")
	}
	for where, text := range texts {
		if strings.Contains(text, "xoxSecretPart0123456789") || strings.Contains(text, "/services/T0/B0") {
			t.Errorf("%s carries the Slack URL: %s", where, text)
		}
	}
	if e := d["attempts"].([]any)[0].(map[string]any)["error"].(string); !strings.Contains(e, "connection refused") {
		t.Errorf("attempt error %q does not say what failed", e)
	}
}

// The API never shows a stored secret (secret env values, secret config,
// a URL that is the credential), and the destination test is no way around
// that: neither the saved script nor a script sent with the test can echo
// a stored secret into the preview it answers, in its payload, its URL or
// its logs.
func TestDestinationTestDoesNotRevealStoredSecrets(t *testing.T) {
	s := newStack(t)
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	payload := json.RawMessage(`{"type":"payment.succeeded","data":{"amount":100}}`)
	echo := `function handler(w) { console.log(JSON.stringify(w.env) + " " + w.url);
  w.payload = {env: w.env, url: w.url, rev: Object.keys(w.env).map(function (k) { return w.env[k].split("").reverse().join(""); })}; return w; }`
	secrets := []string{"sk_live_0123456789", "shop-secret-value", "xoxSecretPart0123456789"}
	var revs []string
	for _, v := range secrets {
		r := []rune(v)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		revs = append(revs, string(r))
	}
	check := func(what string, out map[string]any) {
		t.Helper()
		raw := toJSON(out)
		for _, v := range append(append([]string{}, secrets...), revs...) {
			if strings.Contains(raw, v) {
				t.Errorf("%s reveals a stored secret (%s): %s", what, v, raw)
			}
		}
	}

	http := s.destination(tok, map[string]any{"source_id": src, "name": "http", "integration": "http", "url": sk.URL,
		"env":        map[string]string{"currency": "USD", "api_key": "sk_live_0123456789", "SHOP": "shop-secret-value"},
		"secret_env": []string{"SHOP"}, "transform": map[string]any{"code": echo, "enabled": true}})
	check("test with the saved script", s.mustCall(200, "POST", "/v1/destinations/"+http+"/test", tok, map[string]any{"payload": payload}))
	check("test with a script of the request", s.mustCall(200, "POST", "/v1/destinations/"+http+"/test", tok, map[string]any{"payload": payload, "code": echo}))
	out := s.mustCall(200, "POST", "/v1/destinations/"+http+"/test", tok, map[string]any{"payload": payload, "code": echo})
	if env := out["payload"].(map[string]any)["env"].(map[string]any); env["currency"] != "USD" {
		t.Errorf("a plain env value is not shown to the preview's script: %v", env)
	}

	hook := sk.URL + "/services/T0/B0/xoxSecretPart0123456789"
	slack := s.destination(tok, map[string]any{"source_id": src, "name": "slack", "integration": "slack",
		"config": map[string]string{"webhook_url": hook}})
	check("slack test", s.mustCall(200, "POST", "/v1/destinations/"+slack+"/test", tok, map[string]any{"payload": payload, "code": echo}))
	if len(sk.got()) != 0 {
		t.Fatal("a test sent a request")
	}
}
