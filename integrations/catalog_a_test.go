package integrations_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

// This file holds what the tests of teams, zapier, hubspot, close, resend
// and loops share: a local fake of a provider's API, a signed Dodo event
// taken through the inbound verifier, and the retry checks every provider
// must pass.

// providerReply is one scripted answer of a fake provider.
type providerReply struct {
	status int
	header map[string]string
	body   string
}

// fakeProvider is a real HTTP server standing in for a provider's API.
// check validates a request the way the provider documents it (path, auth,
// required fields and their types) and returns the provider's answer; a
// queued reply (a 429 with Retry-After, a 5xx) overrides the next answer.
type fakeProvider struct {
	*httptest.Server
	check func(r *http.Request, body map[string]any) providerReply

	mu      sync.Mutex
	queued  []providerReply
	got     []map[string]any // bodies the provider accepted
	headers []http.Header    // their headers
}

func newFakeProvider(t *testing.T, check func(r *http.Request, body map[string]any) providerReply) *fakeProvider {
	t.Helper()
	f := &fakeProvider{check: check}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeProvider) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	var rep providerReply
	var body map[string]any
	if len(f.queued) > 0 {
		rep, f.queued = f.queued[0], f.queued[1:]
	} else {
		if err := json.Unmarshal(raw, &body); err != nil {
			body = nil
		}
		rep = f.check(r, body)
		if rep.status < 300 {
			f.got = append(f.got, body)
			f.headers = append(f.headers, r.Header.Clone())
		}
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" && strings.HasPrefix(rep.body, "{") {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

// answerNext queues the next answer, whatever the request.
func (f *fakeProvider) answerNext(r providerReply) {
	f.mu.Lock()
	f.queued = append(f.queued, r)
	f.mu.Unlock()
}

// last is the last accepted body and its headers.
func (f *fakeProvider) last(t *testing.T) (map[string]any, http.Header) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 {
		t.Fatal("the provider accepted no request")
	}
	return f.got[len(f.got)-1], f.headers[len(f.headers)-1]
}

// verifiedDodoEvent signs testdata/dodo/<name> as Dodo does, verifies it with
// the standard-webhooks verifier the receiver uses, and returns the event
// the worker would deliver: id and type as the verifier read them.
func verifiedDodoEvent(t *testing.T, name string) store.Event {
	t.Helper()
	kind, _ := inbound.Lookup("standard-webhooks")
	secret, err := kind.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	h, body, err := kind.Sign(nil, secret, "msg_"+strings.TrimSuffix(name, ".json"), fixture(t, "dodo", name), now)
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
	return store.Event{ID: store.EventID("src_test", ev.ID), TenantID: "t_test", Type: ev.Type, Payload: body}
}

// catalogDestination is a destination of an integration as the API creates
// it from config alone: the default URL (or the URL field), the default
// template.
func catalogDestination(t *testing.T, integration, url string, config map[string]string) store.Destination {
	t.Helper()
	spec, ok := integrations.Lookup(integration)
	if !ok {
		t.Fatalf("no integration %q", integration)
	}
	tpl, ok := spec.Template(spec.DefaultTemplate)
	if !ok {
		t.Fatalf("%s has no default template", integration)
	}
	return store.Destination{ID: "dst_" + integration, TenantID: "t_test", Integration: integration, URL: url,
		Config: config, Transform: &store.Transform{Code: tpl.Code, Enabled: true}}
}

// withTemplate returns dest running another of its integration's templates.
func withTemplate(t *testing.T, dest store.Destination, name string) store.Destination {
	t.Helper()
	_, tpl := template(t, dest.Integration, name)
	dest.Transform = &store.Transform{Code: tpl.Code, Enabled: true}
	return dest
}

// expectOutcome checks an attempt's kind and that its reason holds want.
func expectOutcome(t *testing.T, what string, o outbound.Outcome, kind outbound.Kind, status int, want string) {
	t.Helper()
	if o.Kind != kind || o.StatusCode != status || !strings.Contains(o.Reason, want) {
		t.Errorf("%s: got %v %d %q, want %v %d with %q", what, o.Kind, o.StatusCode, o.Reason, kind, status, want)
	}
}

// checkRetried sends ev twice more with the provider answering its own 429
// and 5xx: both must be retried, the 429 no sooner than its Retry-After
// asks, where the provider sends one.
func checkRetried(t *testing.T, f *fakeProvider, dest store.Destination, ev store.Event, tooMany, unavailable providerReply) {
	t.Helper()
	f.answerNext(tooMany)
	o := deliverOnce(t, f.Client(), dest, ev)
	if o.Kind != outbound.Retry || o.StatusCode != http.StatusTooManyRequests {
		t.Errorf("429: %+v, want a retry", o)
	}
	if want := tooMany.header["Retry-After"]; want != "" {
		if d, _ := time.ParseDuration(want + "s"); o.RetryAfter != d {
			t.Errorf("429: retry after %v, want the provider's Retry-After %v", o.RetryAfter, d)
		}
	}
	f.answerNext(unavailable)
	if o := deliverOnce(t, f.Client(), dest, ev); o.Kind != outbound.Retry || o.StatusCode != unavailable.status {
		t.Errorf("%d: %+v, want a retry", unavailable.status, o)
	}
}

// runOn runs a template on a fixture with the given destination URL and env.
func runOn(t *testing.T, integration, name, dir, file, url string, env map[string]string) transformer.Result {
	t.Helper()
	_, tpl := template(t, integration, name)
	raw := fixture(t, dir, file)
	res, err := engine.Run(context.Background(), transformer.Script{TenantID: "t_test", Code: tpl.Code}, transformer.Input{
		Method: "POST", URL: url, EventType: eventType(t, dir, raw), Payload: raw, Env: env,
	})
	if err != nil {
		t.Fatalf("%s/%s on %s/%s: %v", integration, name, dir, file, err)
	}
	return res
}

// bearer reports whether r carries Authorization: Bearer key.
func bearer(r *http.Request, key string) bool {
	return r.Header.Get("Authorization") == "Bearer "+key
}

// mustRunCode runs template code on a raw Dodo-shaped event.
func mustRunCode(t *testing.T, code, dir string, raw json.RawMessage) transformer.Result {
	t.Helper()
	res, err := engine.Run(context.Background(), transformer.Script{TenantID: "t_test", Code: code}, transformer.Input{
		Method: "POST", URL: "https://example.com/", EventType: eventType(t, dir, raw), Payload: raw,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// scriptOf and inputOf build a template run by hand, for runs that need an
// edited event or env.
func scriptOf(code string) transformer.Script {
	return transformer.Script{TenantID: "t_test", Code: code}
}

func inputOf(raw json.RawMessage, url string, env map[string]string) transformer.Input {
	var env0 struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &env0)
	return transformer.Input{Method: "POST", URL: url, EventType: env0.Type, Payload: raw, Env: env}
}

// A template of an integration whose URL is the credential never points the
// request elsewhere: the worker masks the URL only when it is the
// destination's own, so a changed URL would show the credential in the
// attempt log.
func TestURLCredentialTemplatesKeepTheURL(t *testing.T) {
	for _, name := range []string{"teams", "zapier"} {
		spec, _ := integrations.Lookup(name)
		if spec.URLField == "" || !spec.SecretFields()[spec.URLField] {
			t.Fatalf("%s: the URL field must be secret", name)
		}
		for _, dir := range []string{"dodo", "stripe", "cryptomus"} {
			for _, file := range fixtures(t, dir) {
				for _, tpl := range spec.Templates {
					res := mustRun(t, name, tpl.Name, dir, fixture(t, dir, file))
					if !res.Cancel && res.URL != destURL(spec) {
						t.Errorf("%s/%s on %s/%s sends to %q", name, tpl.Name, dir, file, res.URL)
					}
				}
			}
		}
	}
}

// The six integrations are in the catalog, each working from its required
// fields: credentials secret and required, a default template, and a
// default URL unless the URL is the credential.
func TestCatalogAEntries(t *testing.T) {
	want := map[string]struct {
		auth, url string
		required  []string
	}{
		"teams":   {"url", "", []string{"webhook_url"}},
		"zapier":  {"url", "", []string{"webhook_url"}},
		"hubspot": {"bearer", "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert", []string{"access_token"}},
		"close":   {"basic", "https://api.close.com/api/v1/lead/", []string{"api_key"}},
		"resend":  {"bearer", "https://api.resend.com/emails", []string{"api_key", "from", "to"}},
		"loops":   {"bearer", "https://app.loops.so/api/v1/events/send", []string{"api_key"}},
	}
	for name, w := range want {
		spec, ok := integrations.Lookup(name)
		if !ok {
			t.Errorf("%s is not in the catalog", name)
			continue
		}
		if spec.Auth != w.auth || spec.DefaultURL != w.url || spec.Validate == nil || spec.DefaultTemplate == "" {
			t.Errorf("%s: auth %q url %q validate %v default %q", name, spec.Auth, spec.DefaultURL, spec.Validate != nil, spec.DefaultTemplate)
		}
		var required []string
		for _, f := range spec.Fields {
			if f.Required {
				required = append(required, f.Name)
			}
			if (f.Name == "api_key" || f.Name == "access_token" || f.Name == "webhook_url") && !(f.Secret && f.Required) {
				t.Errorf("%s: credential %s must be secret and required", name, f.Name)
			}
		}
		if strings.Join(required, ",") != strings.Join(w.required, ",") {
			t.Errorf("%s: required %v, want %v", name, required, w.required)
		}
	}
}
