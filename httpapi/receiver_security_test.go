package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/store"
)

// receiver starts a second receiver on the stack's Redis, with a 1 MiB body
// cap (as `serve` has) and the options the test sets. Sources are created
// through the stack's API, as usual.
func (s *stack) receiver(set func(*httpapi.Server)) *httptest.Server {
	s.t.Helper()
	srv := &httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, Egress: testEgress,
		RootToken: rootToken, Log: s.log, Now: s.clock.Now, MaxBodyBytes: 1 << 20}
	if set != nil {
		set(srv)
	}
	ts := httptest.NewServer(srv.Handler(httpapi.Roles{Receiver: true}))
	s.t.Cleanup(ts.Close)
	return ts
}

// postWebhook posts body with headers h to a receiver and decodes the answer.
func postWebhook(t *testing.T, base, srcID string, h http.Header, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/webhooks/"+srcID, bytes.NewReader(body))
	if h != nil {
		req.Header = h.Clone()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("post webhook: %v", err)
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func errorOf(out map[string]any) (code, msg string) {
	e, _ := out["error"].(map[string]any)
	code, _ = e["code"].(string)
	msg, _ = e["message"].(string)
	return code, msg
}

// sign signs body for a kind under config, as the provider would.
func sign(t *testing.T, kind string, config json.RawMessage, secret, id string, body []byte) (http.Header, []byte) {
	t.Helper()
	k, _ := inbound.Lookup(kind)
	h, b, err := k.Sign(config, secret, id, body, time.Now())
	if err != nil {
		t.Fatalf("sign %s: %v", kind, err)
	}
	return h, b
}

// nested returns a JSON object whose "a" holds depth-1 nested arrays, so the
// body nests depth levels in all.
func nested(depth int) []byte {
	return []byte(`{"type":"t","id":"evt_1","uuid":"u","status":"paid","a":` +
		strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`)
}

// procStatusKB reads a "VmXXX:" line of /proc/self/status, in KiB.
func procStatusKB(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	t.Skipf("no %s in /proc/self/status", field)
	return 0
}

// The Cryptomus verifier re-encoded the body recursively before checking the
// signature: 1 MB of `[[[[` cost ~200 MB of goroutine stack per request. Now
// every verifier pre-scans the nesting first. Eight parallel 1 MB bombs are
// refused with 400 and nothing is enqueued, and the process's peak memory
// (heap + stacks, and RSS high-water mark) grows by less than 64 MiB.
func TestDeepNestingBombRefusedBeforeParsing(t *testing.T) {
	s := newStack(t)
	recv := s.receiver(nil)
	tok := s.tenant("acme")
	src := s.mustCall(201, "POST", "/v1/sources", tok, map[string]any{"name": "c", "kind": "cryptomus",
		"secret": "cryptomus-payment-api-key-0123456789abcdef"})["id"].(string)

	// 1 MiB minus a little: an unterminated {"sign":"…","a":[[[[…
	head := `{"sign":"` + strings.Repeat("0", 32) + `","a":`
	bomb := []byte(head + strings.Repeat("[", (1<<20)-len(head)-16))
	bodies := make([][]byte, 8)
	for i := range bodies {
		bodies[i] = bytes.Clone(bomb)
	}

	runtime.GC()
	// Reset the kernel's RSS high-water mark, so VmHWM below is this attack's
	// peak. Where that is not allowed, VmHWM may be an earlier test's peak:
	// then only the sampled heap and stacks are asserted.
	hwmReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	rssBefore := procStatusKB(t, "VmRSS")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	inuseBefore := ms.HeapInuse + ms.StackInuse
	var peakInuse uint64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() { // samples heap + stacks while the bombs are in flight
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peakInuse = max(peakInuse, m.HeapInuse+m.StackInuse)
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	codes := make([]int, len(bodies))
	outs := make([]map[string]any, len(bodies))
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], outs[i] = postWebhook(t, recv.URL, src, http.Header{"Content-Type": {"application/json"}}, b)
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	hwm := procStatusKB(t, "VmHWM")

	heapGrowth := int64(peakInuse) - int64(inuseBefore)
	rssGrowth := (hwm - rssBefore) << 10
	t.Logf("8 parallel 1 MiB nesting bombs: peak heap+stack growth %.1f MiB, peak RSS growth %.1f MiB (VmHWM %d KiB, RSS before %d KiB)",
		float64(heapGrowth)/(1<<20), float64(rssGrowth)/(1<<20), hwm, rssBefore)
	for i := range bodies {
		code, msg := errorOf(outs[i])
		if codes[i] != 400 || code != "invalid_body" || msg != "JSON nested deeper than 64 levels; at most 64 are accepted" {
			t.Errorf("bomb %d: %d %v, want 400 invalid_body naming the 64-level limit", i, codes[i], outs[i])
		}
	}
	if n := s.queueSize("ingest"); n != 0 {
		t.Errorf("ingest queue holds %d tasks after the bombs, want 0", n)
	}
	const bound = 64 << 20
	if !hwmReset {
		t.Logf("could not reset VmHWM; the RSS figure is an upper bound and is not asserted")
		rssGrowth = 0
	}
	if heapGrowth > bound || rssGrowth > bound {
		t.Errorf("memory grew by %d bytes (heap+stack) / %d bytes (RSS) under 8 bombs; want under %d", heapGrowth, rssGrowth, bound)
	}
}

// Every scheme bounds the nesting of the body, signed or not, at the default
// (64) or the configured depth: a correctly signed body one level too deep is
// refused with 400 and not enqueued; one at the limit is accepted; brackets
// inside strings do not count.
func TestEveryVerifierBoundsDepth(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	kinds := []struct {
		kind, secret string
		config       map[string]any
		id           func(i int) string // per-request id, for kinds that take it from outside the body
	}{
		{kind: "standard-webhooks"},
		{kind: "stripe", secret: "whsec_0123456789abcdefghijklmnop"},
		{kind: "cryptomus", secret: "cryptomus-payment-api-key-0123456789abcdef"},
		{kind: "hmac", secret: "github-webhook-secret-0123456789", config: map[string]any{"preset": "github"}},
		{kind: "hmac", secret: "generic-webhook-secret-0123456789",
			config: map[string]any{"header": "X-Sig", "event_id": map[string]any{"json_path": "id"}, "event_type": map[string]any{"json_path": "type"}}},
	}
	for _, limit := range []int{0, 8} { // 0: the default, 64
		want := limit
		if want == 0 {
			want = inbound.DefaultMaxDepth
		}
		recv := s.receiver(func(srv *httpapi.Server) { srv.MaxJSONDepth = limit })
		for i, k := range kinds {
			t.Run(fmt.Sprintf("%s#%d depth %d", k.kind, i, want), func(t *testing.T) {
				create := map[string]any{"name": k.kind, "kind": k.kind}
				if k.secret != "" {
					create["secret"] = k.secret
				}
				if k.config != nil {
					create["config"] = k.config
				}
				out := s.mustCall(201, "POST", "/v1/sources", tok, create)
				src, secret := out["id"].(string), k.secret
				if secret == "" {
					secret = out["secret"].(string)
				}
				config, _ := json.Marshal(k.config)
				if k.config == nil {
					config = nil
				}
				before := s.queueSize("ingest")
				// Unique bodies per case, so no request is a duplicate of another.
				body := func(depth int, tag string) []byte {
					b := nested(depth)
					b = bytes.Replace(b, []byte(`"uuid":"u"`), []byte(fmt.Sprintf(`"uuid":"u_%d_%d_%s"`, limit, i, tag)), 1)
					return bytes.Replace(b, []byte(`"evt_1"`), []byte(fmt.Sprintf(`"evt_%d_%d_%s"`, limit, i, tag)), 1)
				}

				h, b := sign(t, k.kind, config, secret, fmt.Sprintf("msg_%d_%d_deep", limit, i), body(want+1, "deep"))
				code, out := postWebhook(t, recv.URL, src, h, b)
				ecode, msg := errorOf(out)
				wantMsg := fmt.Sprintf("JSON nested deeper than %d levels; at most %d are accepted", want, want)
				if code != 400 || ecode != "invalid_body" || msg != wantMsg {
					t.Errorf("signed body nested %d deep: %d %v, want 400 %q", want+1, code, out, wantMsg)
				}
				if n := s.queueSize("ingest"); n != before {
					t.Errorf("a refused body was enqueued: %d tasks, want %d", n, before)
				}

				h, b = sign(t, k.kind, config, secret, fmt.Sprintf("msg_%d_%d_ok", limit, i), body(want, "ok"))
				if code, out := postWebhook(t, recv.URL, src, h, b); code != 202 {
					t.Errorf("signed body nested exactly %d deep: %d %v, want 202", want, code, out)
				}

				inString := bytes.Replace(body(2, "str"), []byte(`"type":"t"`), []byte(`"type":"`+strings.Repeat("[{", 600)+`"`), 1)
				h, b = sign(t, k.kind, config, secret, fmt.Sprintf("msg_%d_%d_str", limit, i), inString)
				if code, out := postWebhook(t, recv.URL, src, h, b); code != 202 {
					t.Errorf("brackets inside a string counted as nesting: %d %v, want 202", code, out)
				}
			})
		}
	}
}

// liveSecretCount reads how many secrets the source holds in storage.
func (s *stack) liveSecretCount(srcID string) int {
	s.t.Helper()
	src, err := s.store.GetSource(ctx, "", srcID)
	if err != nil {
		s.t.Fatal(err)
	}
	return len(src.ActiveSecrets(s.clock.Now()))
}

// Rotation is bounded: the current secret plus two rotated-out ones within
// their 24 h grace (the default of 3), a fourth is refused with 409
// too_many_secrets naming the limit and the oldest expiry, expired ones are
// pruned so rotation works again once they lapse, and the flag changes the
// limit.
func TestSecretRotationBounded(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, first := s.source(tok)
	rotate := func() (int, map[string]any) { return s.call("POST", "/v1/sources/"+src+"/rotate-secret", tok, nil) }

	secrets := []string{first}
	for i := 0; i < 2; i++ {
		code, out := rotate()
		if code != 200 {
			t.Fatalf("rotation %d: %d %v, want 200", i+1, code, out)
		}
		secrets = append(secrets, out["secret"].(string))
		s.clock.Advance(time.Hour)
	}
	oldestExpiry := s.clock.Now().Add(-2 * time.Hour).Add(24 * time.Hour)
	code, out := rotate()
	ecode, msg := errorOf(out)
	if code != 409 || ecode != "too_many_secrets" || !strings.Contains(msg, "at most 3") ||
		!strings.Contains(msg, oldestExpiry.UTC().Format("2006-01-02T15:04")) {
		t.Fatalf("third rotation: %d %v, want 409 too_many_secrets naming the limit 3 and the oldest expiry %s", code, out, oldestExpiry.UTC().Format(time.RFC3339))
	}
	if n := s.liveSecretCount(src); n != 3 {
		t.Fatalf("%d live secrets after a refused rotation, want 3", n)
	}
	// Every live secret verifies, including the oldest in its grace.
	for i, sec := range secrets {
		if code, out := s.signed(src, sec, fmt.Sprintf("msg_rot_%d", i), []byte(`{"type":"payment.succeeded"}`), s.clock.Now()); code != 202 {
			t.Errorf("live secret %d: %d %v, want 202", i, code, out)
		}
	}

	// 25 h later the rotated-out secrets have lapsed: rotation works and the
	// expired ones are pruned from storage.
	s.clock.Advance(25 * time.Hour)
	for i := 0; i < 2; i++ {
		if code, out := rotate(); code != 200 {
			t.Fatalf("rotation after expiry %d: %d %v, want 200", i+1, code, out)
		}
	}
	stored, err := s.store.GetSource(ctx, "", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Secrets) != 3 {
		t.Fatalf("storage holds %d secrets, want 3: expired ones must be pruned", len(stored.Secrets))
	}

	// A larger limit from the server's option.
	api := httptest.NewServer((&httpapi.Server{Store: s.store, Queue: s.queue, Engine: s.engine, Egress: testEgress,
		RootToken: rootToken, Log: s.log, Now: s.clock.Now, MaxLiveSecrets: 5}).Handler(httpapi.Roles{API: true}))
	t.Cleanup(api.Close)
	src5, _ := s.source(tok)
	for i := 1; i <= 5; i++ {
		req, _ := http.NewRequest("POST", api.URL+"/v1/sources/"+src5+"/rotate-secret", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := 200
		if i == 5 {
			want = 409
		}
		if resp.StatusCode != want {
			t.Fatalf("rotation %d with a limit of 5: %d, want %d", i, resp.StatusCode, want)
		}
	}
}

// An unauthenticated caller cannot tell how many secrets a source has: the
// 401 is the same for a source with one secret and one with three, and a
// source stored with more live secrets than the limit (saved before it
// existed) is verified against the newest three only.
func TestUnsignedAnswerDoesNotRevealSecretCount(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	one, _ := s.source(tok)
	three, _ := s.source(tok)
	for i := 0; i < 2; i++ {
		s.mustCall(200, "POST", "/v1/sources/"+three+"/rotate-secret", tok, nil)
	}
	forged := "whsec_" + base64.StdEncoding.EncodeToString([]byte("not-the-source-key-0123456789abc"))
	var msgs []string
	for _, src := range []string{one, three} {
		code, out := s.signed(src, forged, "msg_forged", []byte(`{"type":"payment.succeeded"}`), s.clock.Now())
		_, msg := errorOf(out)
		if code != 401 {
			t.Fatalf("forged request: %d %v, want 401", code, out)
		}
		msgs = append(msgs, msg)
	}
	if msgs[0] != msgs[1] {
		t.Errorf("401 differs with the number of secrets:\n 1 secret:  %s\n 3 secrets: %s", msgs[0], msgs[1])
	}

	// A source stored with 10 live secrets: only the newest 3 are tried.
	legacy, _ := s.source(tok)
	stored, err := s.store.GetSource(ctx, "", legacy)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := inbound.Lookup("standard-webhooks")
	now := s.clock.Now().UTC()
	var values []string
	for i := 0; i < 9; i++ {
		sec, _ := k.NewSecret()
		values = append(values, sec)
		stored.Secrets = append(stored.Secrets, store.Secret{Value: sec, CreatedAt: now, ExpiresAt: now.Add(time.Duration(23-i) * time.Hour)})
	}
	if err := s.store.SaveSource(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if code, out := s.signed(legacy, values[0], "msg_newest_rotated", []byte(`{"type":"a"}`), now); code != 202 {
		t.Errorf("newest rotated-out secret of a legacy source: %d %v, want 202", code, out)
	}
	if code, out := s.signed(legacy, values[8], "msg_oldest_rotated", []byte(`{"type":"a"}`), now); code != 401 {
		t.Errorf("10th live secret of a legacy source: %d %v, want 401 (only the newest 3 are tried)", code, out)
	}
}

// HMAC presets (GitHub, Shopify) sign only the body. A captured request
// replayed with a new delivery-id header is a duplicate, not a new event,
// and one replayed with another event-type header is a duplicate too, so it
// is not routed to the destinations of that type.
func TestHMACReplayWithChangedHeadersIsDuplicate(t *testing.T) {
	cases := []struct {
		preset, secret, file string
		idHeader, typeHeader string
		typ, otherType       string
	}{
		{"github", "github-webhook-secret-0123456789", "hmac/github-sponsorship.json",
			"X-GitHub-Delivery", "X-GitHub-Event", "sponsorship", "push"},
		{"shopify", "shpss_0123456789abcdef0123456789abcdef", "hmac/shopify-orders-paid.json",
			"X-Shopify-Webhook-Id", "X-Shopify-Topic", "orders/paid", "refunds/create"},
	}
	for _, c := range cases {
		t.Run(c.preset, func(t *testing.T) {
			s := newStack(t)
			s.startWorker()
			tok := s.tenant("acme")
			config := json.RawMessage(`{"preset":"` + c.preset + `"}`)
			src := s.mustCall(201, "POST", "/v1/sources", tok, map[string]any{"name": c.preset, "kind": "hmac",
				"config": config, "secret": c.secret})["id"].(string)
			meant, other := newSink(t, nil), newSink(t, nil)
			dMeant := s.destination(tok, map[string]any{"source_id": src, "name": "meant", "integration": "http",
				"url": meant.URL, "event_types": []string{c.typ}})
			s.destination(tok, map[string]any{"source_id": src, "name": "other", "integration": "http",
				"url": other.URL, "event_types": []string{c.otherType}})

			h, body := sign(t, "hmac", config, c.secret, "delivery-1", readFile(t, c.file))
			h.Set(c.typeHeader, c.typ)
			code, first := postWebhook(t, s.api.URL, src, h, body)
			if code != 202 {
				t.Fatalf("genuine request: %d %v, want 202", code, first)
			}
			evID := first["event_id"].(string)

			replays := []struct {
				label string
				set   map[string]string
			}{
				{"new delivery id", map[string]string{c.idHeader: "delivery-2"}},
				{"new delivery id and another type", map[string]string{c.idHeader: "delivery-3", c.typeHeader: c.otherType}},
				{"no delivery id", map[string]string{c.idHeader: ""}},
			}
			for _, r := range replays {
				rh := h.Clone()
				for k, v := range r.set {
					if v == "" {
						rh.Del(k)
					} else {
						rh.Set(k, v)
					}
				}
				code, out := postWebhook(t, s.api.URL, src, rh, body)
				if code != 200 || out["duplicate"] != true || out["event_id"] != evID {
					t.Errorf("replay with %s: %d %v, want 200 duplicate of %s", r.label, code, out, evID)
				}
			}

			s.waitStatus(tok, evID, dMeant, "delivered", 10*time.Second)
			_, ev := s.call("GET", "/v1/events/"+evID, tok, nil)
			if ev["type"] != c.typ {
				t.Errorf("event type = %v, want %q (the genuine request's)", ev["type"], c.typ)
			}
			if n := len(meant.got()); n != 1 {
				t.Errorf("destination for %s got %d requests, want 1", c.typ, n)
			}
			// The fan-out of the one event is done (its delivery finished):
			// the destination of the other type got nothing.
			if n := len(other.got()); n != 0 {
				t.Errorf("destination for %s got %d requests: a replay was rerouted", c.otherType, n)
			}
			_, list := s.call("GET", "/v1/events?source_id="+src, tok, nil)
			if n := len(list["data"].([]any)); n != 1 {
				t.Errorf("%d events recorded, want 1", n)
			}
		})
	}
}
