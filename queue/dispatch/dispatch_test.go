package dispatch_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/egress"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/queue/dispatch"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

var engine = transformer.New(transformer.Options{Helpers: integrations.ScriptHelpers()})

// loopback is the egress policy tests use: the real guarded client, allowed
// to reach 127.0.0.1 as HOOKSHIFT_EGRESS_ALLOW=127.0.0.0/8 allows.
var loopback = egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

const payload = `{"type":"payment.succeeded","data":{"payment_id":"pay_1","total_amount":2999,"currency":"USD"}}`

// received is one request as the destination saw it.
type received struct {
	method, path, host string
	header             http.Header
	body               []byte
}

// recorder is a destination that keeps what it receives and answers with
// answer (200 if nil).
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(w http.ResponseWriter, r *http.Request)
}

func newRecorder(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *recorder {
	rec := &recorder{answer: answer}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.got = append(rec.got, received{r.Method, r.URL.Path, r.Host, r.Header.Clone(), b})
		rec.mu.Unlock()
		if rec.answer != nil {
			rec.answer(w, r)
		}
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) last(t *testing.T) received {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("the destination received nothing")
	}
	return r.got[len(r.got)-1]
}

// A prepared request is what the destination receives, byte for byte in
// body and headers: the preview (Display) is that same value, masked. With
// one clock for both, even the signature matches; see
// TestPreviewEndpointShowsSignature for previews made at another time.
func TestPreparedIsWhatTheDestinationReceives(t *testing.T) {
	dst := newRecorder(t, nil)
	at := time.Unix(1_760_000_000, 0)
	s := &dispatch.Sender{Engine: engine, HTTP: loopback.Client(5 * time.Second), Now: func() time.Time { return at }}
	dest := store.Destination{ID: "dst_1", TenantID: "t_1", Integration: "http", URL: dst.URL + "/hooks",
		Config:  map[string]string{"bearer_token": "tok_live_123456", "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		Headers: map[string]string{"X-Custom": "custom-credential-987"},
		Transform: &store.Transform{Enabled: true, Code: `function handler(w) {
  w.headers = { "X-Script": "script-secret-42" };
  w.payload = { id: w.payload.data.payment_id, amount: w.payload.data.total_amount / 100 };
  return w;
}`}}
	ev := store.Event{ID: "evt_1", TenantID: "t_1", Type: "payment.succeeded", Payload: []byte(payload)}

	p, err := s.Prepare(context.Background(), ev, dest)
	if err != nil {
		t.Fatal(err)
	}
	if out := s.Send(context.Background(), p); out.Kind != outbound.Delivered {
		t.Fatalf("send: %+v", out)
	}
	got := dst.last(t)
	if got.method != p.Method || "http://"+got.host+got.path != p.URL {
		t.Errorf("sent %s %s%s, prepared %s %s", got.method, got.host, got.path, p.Method, p.URL)
	}
	if !bytes.Equal(got.body, p.Body) {
		t.Errorf("body sent %q, prepared %q", got.body, p.Body)
	}
	// Every prepared header arrives with its exact value, and nothing else
	// arrives (net/http keeps Host apart: it is the URL's host, above).
	for k, vs := range p.Header {
		if g := got.header.Values(k); strings.Join(g, ",") != strings.Join(vs, ",") {
			t.Errorf("header %s: sent %q, prepared %q", k, g, vs)
		}
	}
	for k := range got.header {
		if _, ok := p.Header[k]; !ok {
			t.Errorf("header %s=%q was sent but is not in the prepared request", k, got.header.Get(k))
		}
	}
	for _, k := range []string{"Authorization", "X-Custom", "X-Script", "Webhook-Signature", "Webhook-Id", "Idempotency-Key"} {
		if p.Header.Get(k) == "" {
			t.Errorf("prepared request lacks %s", k)
		}
	}

	// The preview is the same request, masked.
	v := p.Display()
	if v.Method != p.Method || v.URL != p.URL || !bytes.Equal(v.Payload, p.Body) || len(v.Headers) != len(p.Header) {
		t.Fatalf("display %+v does not show the prepared request", v)
	}
	for _, k := range []string{"Authorization", "X-Custom", "X-Script", "Webhook-Signature"} {
		if v.Headers[k] != outbound.Masked {
			t.Errorf("display shows %s = %q, want it masked", k, v.Headers[k])
		}
	}
	for _, k := range []string{"Content-Type", "User-Agent", "Idempotency-Key", "Webhook-Id", "Webhook-Timestamp", "Content-Length"} {
		if v.Headers[k] != p.Header.Get(k) {
			t.Errorf("display hides harmless %s: %q", k, v.Headers[k])
		}
	}
}

// A Slack or Discord URL is the credential: no text that leaves the
// dispatch (an error, a response snippet, a script's log or fault) carries
// it, whatever the failure.
func TestCredentialURLNeverInTexts(t *testing.T) {
	const secretPath = "/services/T0AAAA/B0BBBB/xoxSecretToken0123456789"
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	hangUp := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	echo := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, "invalid_payload for "+r.URL.Path+" via http://"+r.Host+r.URL.Path)
	})
	redirect := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://elsewhere.example"+r.URL.Path)
		w.WriteHeader(302)
		_, _ = io.WriteString(w, "moved from "+r.URL.String())
	})
	slow := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(300 * time.Millisecond) })
	// A listener that accepts and never answers the TLS handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("not tls\r\n"))
			c.Close()
		}
	}()

	cases := []struct {
		name, base, code string
		timeout          time.Duration
	}{
		{name: "connection refused", base: closedURL},
		{name: "connection closed mid-request", base: hangUp.URL},
		{name: "response echoes the URL", base: echo.URL},
		{name: "redirect", base: redirect.URL},
		{name: "timeout", base: slow.URL, timeout: 100 * time.Millisecond},
		{name: "TLS error", base: "https://" + ln.Addr().String()},
		{name: "script logs and throws the URL", base: echo.URL,
			code: `function handler(w) { console.log("posting to " + w.url); throw new Error("cannot post to " + w.url); }`},
		{name: "script returns a bad URL built from it", base: echo.URL,
			code: `function handler(w) { w.url = w.url.replace("http://", "http://user:pw@"); return w; }`},
	}
	for _, integration := range []string{"slack", "discord"} {
		for _, c := range cases {
			t.Run(integration+"/"+c.name, func(t *testing.T) {
				raw := c.base + secretPath
				dest := store.Destination{ID: "dst_1", TenantID: "t_1", Integration: integration, URL: raw,
					Config: map[string]string{"webhook_url": raw}}
				if c.code != "" {
					dest.Transform = &store.Transform{Enabled: true, Code: c.code}
				}
				s := &dispatch.Sender{Engine: engine, HTTP: loopback.Client(5 * time.Second), Timeout: c.timeout}
				got := s.Deliver(context.Background(), store.Event{ID: "evt_1", Type: "payment.succeeded", Payload: []byte(payload)}, dest)
				if got.Kind == outbound.Delivered || got.Reason == "" {
					t.Fatalf("outcome %+v, want a failure with a reason", got.Outcome)
				}
				texts := append([]string{got.Reason, got.Request}, got.Logs...)
				for _, text := range texts {
					for _, leak := range []string{"xoxSecretToken0123456789", secretPath, "T0AAAA/B0BBBB"} {
						if strings.Contains(text, leak) {
							t.Errorf("text %q carries the credential URL", text)
						}
					}
				}
				t.Logf("%s: %s", got.Kind, got.Reason)
			})
		}
	}
}

// What fails the same way on every attempt is permanent, with a reason that
// says what is wrong: a payload the transform cannot take, a script URL with
// a numeric host or with credentials in it (never sent: a password in a URL
// is shown and logged with it; credentials go in headers).
func TestInputThatCanNeverBeSentIsPermanent(t *testing.T) {
	dst := newRecorder(t, nil)
	s := &dispatch.Sender{Engine: engine, HTTP: loopback.Client(5 * time.Second)}
	script := func(code string) store.Destination {
		return store.Destination{ID: "dst_1", TenantID: "t_1", Integration: "http", URL: dst.URL,
			Transform: &store.Transform{Enabled: true, Code: code}}
	}
	ev := store.Event{ID: "evt_1", Type: "payment.succeeded", Payload: []byte(payload)}
	cases := []struct {
		name string
		ev   store.Event
		dest store.Destination
		want string
	}{
		{"payload is not JSON", store.Event{ID: "evt_2", Payload: []byte(`{"a":`)},
			script(`function handler(w) { return w; }`), "not valid JSON"},
		{"numeric host", ev, script(`function handler(w) { w.url = "http://2130706433/x"; return w; }`), "not a valid IP address or host name"},
		{"hex host", ev, script(`function handler(w) { w.url = "http://0x7f.1/x"; return w; }`), "not a valid IP address or host name"},
		{"user and password", ev, script(`function handler(w) { w.url = "https://bob:hunter2secret@example.com/x"; return w; }`), "must not contain a user name or password"},
		{"port out of range", ev, script(`function handler(w) { w.url = "http://example.com:99999/x"; return w; }`), "out of range"},
		{"empty label", ev, script(`function handler(w) { w.url = "https://hooks..example.com/x"; return w; }`), "not a valid IP address or host name"},
		{"label starting with a hyphen", ev, script(`function handler(w) { w.url = "https://-hooks.example.com/x"; return w; }`), "not a valid IP address or host name"},
		{"stored destination URL with an invalid host", ev, store.Destination{ID: "dst_1", Integration: "http", URL: "https://hooks..example.com/x"}, "not a valid IP address or host name"},
		{"not http, with a password", ev, script(`function handler(w) { w.url = "ftp://bob:hunter2secret@example.com/x"; return w; }`), "http or https"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := s.Deliver(context.Background(), c.ev, c.dest)
			if got.Kind != outbound.Permanent || !strings.Contains(got.Reason, c.want) {
				t.Fatalf("outcome %+v, want permanent naming %q", got.Outcome, c.want)
			}
			if strings.Contains(got.Reason, "hunter2secret") || strings.Contains(got.Reason, "bob:") {
				t.Errorf("reason %q shows the URL's credentials", got.Reason)
			}
		})
	}
	if len(dst.got) != 0 {
		t.Fatalf("%d requests were sent", len(dst.got))
	}
}

// A transform that cancels sends nothing and says so.
func TestCancelSendsNothing(t *testing.T) {
	dst := newRecorder(t, nil)
	s := &dispatch.Sender{Engine: engine, HTTP: loopback.Client(5 * time.Second)}
	dest := store.Destination{ID: "dst_1", Integration: "http", URL: dst.URL,
		Transform: &store.Transform{Enabled: true, Code: `function handler(w) { console.log("skip"); return null; }`}}
	got := s.Deliver(context.Background(), store.Event{ID: "e", Payload: []byte(payload)}, dest)
	if got.Kind != outbound.Cancelled || len(got.Logs) != 1 || got.Request != "" {
		t.Fatalf("cancel: %+v", got)
	}
	if len(dst.got) != 0 {
		t.Fatal("a cancelled delivery was sent")
	}
}

// A secret env value (named like a credential, or listed in secret_env)
// that a script logs, throws or puts in the URL is masked in every text of
// the attempt, like a secret config field.
func TestSecretEnvNeverInTexts(t *testing.T) {
	echo := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, "bad request for "+r.URL.String())
	})
	const apiKey, listed = "sk_live_0123456789abcdef", "listed-secret-value-42"
	cases := map[string]string{
		"logs and throws":    `function handler(w) { console.log("key " + w.env.API_KEY + " " + w.env.REGION_ID); throw new Error("refused " + w.env.API_KEY + " " + w.env.REGION_ID); }`,
		"puts it in the URL": `function handler(w) { w.url = w.url + "?k=" + w.env.API_KEY + "&r=" + w.env.REGION_ID; console.log(w.url); return w; }`,
	}
	for name, code := range cases {
		t.Run(name, func(t *testing.T) {
			dest := store.Destination{ID: "dst_1", TenantID: "t_1", Integration: "http", URL: echo.URL + "/hook",
				Env: map[string]string{"API_KEY": apiKey, "REGION_ID": listed}, SecretEnv: []string{"REGION_ID"},
				Transform: &store.Transform{Enabled: true, Code: code}}
			s := &dispatch.Sender{Engine: engine, HTTP: loopback.Client(5 * time.Second)}
			got := s.Deliver(context.Background(), store.Event{ID: "evt_1", Type: "payment.succeeded", Payload: []byte(payload)}, dest)
			if got.Kind == outbound.Delivered || got.Reason == "" {
				t.Fatalf("outcome %+v, want a failure with a reason", got.Outcome)
			}
			for _, text := range append([]string{got.Reason, got.Request}, got.Logs...) {
				for _, leak := range []string{apiKey, listed} {
					if strings.Contains(text, leak) {
						t.Errorf("text %q carries a secret env value", text)
					}
				}
			}
		})
	}
}

// A preview is answered to the API: its script sees the integration's
// secret config (PostHog's project key, which its template puts in the
// body) and a credential URL masked, so neither its payload nor its logs can
// carry them; a delivery's script gets the real values.
func TestPreviewScriptSeesSecretsMasked(t *testing.T) {
	key, hook := "phc_projectKey0123456789", "https://hooks.slack.com/services/T0/B0/xoxSecretPart0123456789"
	dests := []store.Destination{
		{ID: "dst_ph", TenantID: "ten_1", Integration: "posthog", URL: "https://us.i.posthog.com/i/v0/e/", Config: map[string]string{"api_key": key}},
		{ID: "dst_sl", TenantID: "ten_1", Integration: "slack", URL: hook, Config: map[string]string{"webhook_url": hook}},
	}
	code := `function handler(w) { console.log(JSON.stringify(w.env) + w.url); w.payload = {env: w.env, url: w.url}; return w; }`
	for _, d := range dests {
		d.Transform = &store.Transform{Code: code, Enabled: true}
		ev := store.Event{ID: "evt_1", TenantID: "ten_1", Type: "payment.succeeded", Payload: []byte(payload)}
		p, err := (&dispatch.Sender{Engine: engine, Preview: true}).Prepare(context.Background(), ev, d)
		if err != nil {
			t.Fatalf("%s: %v", d.Integration, err)
		}
		v := p.Display()
		shown := string(v.Payload) + strings.Join(v.Logs, " ") + v.URL
		if strings.Contains(shown, key) || strings.Contains(shown, "xoxSecretPart") {
			t.Errorf("%s preview shows a secret: %s", d.Integration, shown)
		}
		if p.URL != d.URL {
			t.Errorf("%s preview URL = %q, want the destination's", d.Integration, p.URL)
		}
		real, err := (&dispatch.Sender{Engine: engine}).Prepare(context.Background(), ev, d)
		if err != nil {
			t.Fatalf("%s: %v", d.Integration, err)
		}
		if d.Integration == "posthog" && !bytes.Contains(real.Body, []byte(key)) {
			t.Errorf("the delivery's script did not get the key: %s", real.Body)
		}
	}
}
