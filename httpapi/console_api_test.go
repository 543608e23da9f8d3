package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/store"
)

func script(n int) string {
	return fmt.Sprintf("function handler(webhook) {\n  webhook.payload = {v: %d};\n  return webhook;\n}", n)
}

func versionsOf(t *testing.T, s *stack, tok, dst string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, v := range s.mustCall(200, "GET", "/v1/destinations/"+dst+"/transform/versions", tok, nil)["data"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// Every save that changes the code is a version, newest first; saves that
// do not change it add none; a rollback adds a version with the old code.
func TestTransformVersionsAndRollback(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "hook", "integration": "http",
		"url": "http://127.0.0.1:9/x", "transform": map[string]any{"code": script(1), "enabled": true}})
	s.mustCall(200, "PATCH", "/v1/destinations/"+dst, tok, map[string]any{"transform": map[string]any{"code": script(2), "enabled": true}})
	s.mustCall(200, "PATCH", "/v1/destinations/"+dst, tok, map[string]any{"name": "renamed"})
	s.mustCall(200, "PATCH", "/v1/destinations/"+dst, tok, map[string]any{"transform": map[string]any{"code": script(2), "enabled": false}})

	vs := versionsOf(t, s, tok, dst)
	if len(vs) != 2 || vs[0]["version"] != 2.0 || vs[0]["code"] != script(2) || vs[1]["version"] != 1.0 || vs[1]["code"] != script(1) {
		t.Fatalf("versions: %v", vs)
	}
	if _, err := time.Parse(time.RFC3339, vs[0]["created_at"].(string)); err != nil || vs[0]["enabled"] != true {
		t.Fatalf("version fields: %v", vs[0])
	}

	out := s.mustCall(200, "POST", "/v1/destinations/"+dst+"/transform/rollback", tok, map[string]any{"version": 1})
	if out["version"] != 3.0 {
		t.Fatalf("rollback: %v", out)
	}
	d := s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil)
	tr := d["transform"].(map[string]any)
	if tr["code"] != script(1) || tr["enabled"] != false {
		t.Fatalf("after rollback the destination runs %v, want version 1's code, still disabled", tr)
	}
	vs = versionsOf(t, s, tok, dst)
	if len(vs) != 3 || vs[0]["version"] != 3.0 || vs[0]["code"] != script(1) {
		t.Fatalf("versions after rollback: %v", vs)
	}
	// Rolling back to the code already current still records the rollback.
	s.mustCall(200, "POST", "/v1/destinations/"+dst+"/transform/rollback", tok, map[string]any{"version": 3})
	if n := len(versionsOf(t, s, tok, dst)); n != 4 {
		t.Fatalf("%d versions after a rollback to the current code, want 4", n)
	}
}

// Bad rollbacks are refused with a clear error and change nothing.
func TestRollbackBadInput(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	other := s.tenant("other")
	src, _ := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "hook", "integration": "http",
		"url": "http://127.0.0.1:9/x", "transform": map[string]any{"code": script(1), "enabled": true}})
	before := versionsOf(t, s, tok, dst)
	for _, c := range []struct {
		name, token, path string
		body              any
		status            int
		code              string
	}{
		{"version that never was", tok, dst, map[string]any{"version": 7}, 404, "version_not_found"},
		{"version zero", tok, dst, map[string]any{"version": 0}, 422, "invalid_version"},
		{"no version", tok, dst, map[string]any{}, 422, "invalid_version"},
		{"version not a number", tok, dst, `{"version":"1"}`, 400, "invalid_version"},
		{"not JSON", tok, dst, `{`, 400, "invalid_json"},
		{"another tenant's destination", other, dst, map[string]any{"version": 1}, 404, "not_found"},
		{"no such destination", tok, "dst_nope", map[string]any{"version": 1}, 404, "not_found"},
	} {
		code, out := s.call("POST", "/v1/destinations/"+c.path+"/transform/rollback", c.token, c.body)
		if code != c.status || errCode(out) != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, code, out, c.status, c.code)
		}
	}
	if code, _ := s.call("GET", "/v1/destinations/"+dst+"/transform/versions", other, nil); code != 404 {
		t.Fatalf("another tenant lists the versions: %d", code)
	}
	if after := versionsOf(t, s, tok, dst); len(after) != len(before) {
		t.Fatalf("refused rollbacks made versions: %v", after)
	}
	if got := s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil)["transform"].(map[string]any)["code"]; got != script(1) {
		t.Fatalf("refused rollbacks changed the code: %v", got)
	}
}

// The history is bounded; deleting the destination deletes it.
func TestTransformVersionsKeptAndDeleted(t *testing.T) {
	s := newStack(t)
	sealer, _ := store.NewSealer("test-secret-key-0123456789")
	st := store.New(s.rdb, sealer, store.Options{TransformVersions: 3})
	d := store.Destination{ID: "dst_kept", TenantID: "ten_a", SourceID: "src_a", Integration: "http", Transform: &store.Transform{}}
	for i := 1; i <= 5; i++ {
		d.Transform.Code = script(i)
		if err := st.SaveDestination(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := st.TransformVersions(ctx, "ten_a", d.ID)
	if err != nil || len(vs) != 3 || vs[0].Version != 5 || vs[2].Version != 3 || vs[2].Code != script(3) {
		t.Fatalf("kept versions: %+v %v", vs, err)
	}
	if _, _, err := st.RollbackTransform(ctx, "ten_a", d.ID, 2); err != store.ErrVersionNotFound {
		t.Fatalf("rollback to a dropped version: %v", err)
	}
	if err := st.DeleteDestination(ctx, "ten_a", d.ID); err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.rdb.Keys(ctx, "*dst_kept*").Result(); len(keys) != 0 {
		t.Fatalf("deleting the destination left %v", keys)
	}
	// The default keeps 50.
	d.ID = "dst_fifty"
	for i := 1; i <= 55; i++ {
		d.Transform.Code = script(i)
		if err := s.store.SaveDestination(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if vs, _ := s.store.TransformVersions(ctx, "ten_a", d.ID); len(vs) != 50 || vs[49].Version != 6 {
		t.Fatalf("default history: %d versions", len(vs))
	}
}

func TestSamples(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	out := s.mustCall(200, "GET", "/v1/samples?source_kind=standard-webhooks", tok, nil)
	found := false
	for _, v := range out["data"].([]any) {
		m := v.(map[string]any)
		if m["name"] == "payment.succeeded.usd" {
			found = m["event_type"] == "payment.succeeded" && m["payload"].(map[string]any)["type"] == "payment.succeeded"
		}
	}
	if !found {
		t.Fatalf("no Dodo payment.succeeded sample: %v", out)
	}
	for _, kind := range []string{"stripe", "cryptomus", "hmac"} {
		if n := len(s.mustCall(200, "GET", "/v1/samples?source_kind="+kind, tok, nil)["data"].([]any)); n == 0 {
			t.Errorf("%s: no samples", kind)
		}
	}
	for _, q := range []string{"?source_kind=paypal", "", "?source_kind=.", "?source_kind=stripe/.."} {
		code, out := s.call("GET", "/v1/samples"+q, tok, nil)
		msg, _ := out["error"].(map[string]any)["message"].(string)
		if code != 400 || errCode(out) != "invalid_source_kind" || !strings.Contains(msg, "standard-webhooks") || !strings.Contains(msg, "cryptomus") {
			t.Errorf("samples%s: %d %v", q, code, out)
		}
	}
	if code, _ := s.call("GET", "/v1/samples?source_kind=stripe", "", nil); code != 401 {
		t.Fatalf("samples without a token: %d", code)
	}
}

// A stored event of the tenant can stand in for a sample payload.
func TestTransformTestOnStoredEvent(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	other := s.tenant("other")
	ten, _ := s.store.TenantByToken(ctx, tok)
	ev := store.Event{ID: "evt_stored", TenantID: ten.ID, SourceID: "src_a", ProviderID: "p1", Type: "payment.succeeded",
		ReceivedAt: s.clock.Now(), Payload: readFile(t, "dodo/payment.succeeded.usd.json")}
	if _, err := s.store.RecordEvent(ctx, ev, "r1", store.SearchKeys{}); err != nil {
		t.Fatal(err)
	}
	code := "function handler(webhook) {\n  webhook.payload = {type: webhook.eventType, id: webhook.payload.data.payment_id};\n  return webhook;\n}"
	out := s.mustCall(200, "POST", "/v1/transforms/test", tok, map[string]any{"code": code, "event_id": "evt_stored"})
	p := out["payload"].(map[string]any)
	if p["type"] != "payment.succeeded" || p["id"] == nil || p["id"] == "" {
		t.Fatalf("test on a stored event: %v", out)
	}
	for _, c := range []struct {
		name, token string
		body        map[string]any
		status      int
		code        string
	}{
		{"another tenant's event", other, map[string]any{"code": code, "event_id": "evt_stored"}, 404, "not_found"},
		{"unknown event", tok, map[string]any{"code": code, "event_id": "evt_nope"}, 404, "not_found"},
		{"both payload and event", tok, map[string]any{"code": code, "event_id": "evt_stored", "payload": map[string]any{}}, 400, "invalid_event_id"},
	} {
		st, out := s.call("POST", "/v1/transforms/test", c.token, c.body)
		if st != c.status || errCode(out) != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, st, out, c.status, c.code)
		}
	}
}

// A session of one tenant sees nothing of another's, at any console route.
func TestConsoleTenantIsolation(t *testing.T) {
	s := newStack(t)
	a := s.tenant("a")
	src, _ := s.source(a)
	dst := s.destination(a, map[string]any{"source_id": src, "name": "hook", "integration": "http",
		"url": "http://127.0.0.1:9/x", "transform": map[string]any{"code": script(1), "enabled": true}})
	b := s.browser()
	b.signIn(s.tenant("b"))
	for _, p := range []string{"/v1/destinations/" + dst, "/v1/destinations/" + dst + "/transform/versions", "/v1/sources/" + src} {
		if resp, _ := b.do("GET", p, nil); resp.StatusCode != 404 {
			t.Errorf("GET %s by another tenant's session: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := b.change("POST", "/v1/destinations/"+dst+"/transform/rollback", map[string]any{"version": 1}); resp.StatusCode != 404 {
		t.Errorf("rollback by another tenant's session: %d", resp.StatusCode)
	}
	if resp, _ := b.change("DELETE", "/v1/destinations/"+dst, nil); resp.StatusCode != 404 {
		t.Errorf("delete by another tenant's session: %d", resp.StatusCode)
	}
	s.mustCall(200, "GET", "/v1/destinations/"+dst, a, nil)
}

// The editor tests unsaved code and env through the destination's own
// delivery path; nothing is saved.
func TestDestinationTestWithUnsavedCode(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	src, _ := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "hook", "integration": "http",
		"url": "http://127.0.0.1:9/x", "env": map[string]any{"SITE": "saved"}, "transform": map[string]any{"code": script(1), "enabled": true}})
	payload := map[string]any{"type": "payment.succeeded"}
	if out := s.mustCall(200, "POST", "/v1/destinations/"+dst+"/test", tok, map[string]any{"payload": payload}); out["payload"].(map[string]any)["v"] != 1.0 {
		t.Fatalf("saved script: %v", out)
	}
	unsaved := "function handler(webhook) {\n  webhook.payload = {site: webhook.env.SITE};\n  return webhook;\n}"
	out := s.mustCall(200, "POST", "/v1/destinations/"+dst+"/test", tok, map[string]any{"payload": payload, "code": unsaved, "env": map[string]any{"SITE": "edited"}})
	if out["payload"].(map[string]any)["site"] != "edited" || out["headers"].(map[string]any)["Idempotency-Key"] == nil {
		t.Fatalf("unsaved script: %v", out)
	}
	code, bad := s.call("POST", "/v1/destinations/"+dst+"/test", tok, map[string]any{"payload": payload, "code": "function handler(webhook) {\n  return webhook.;\n}"})
	if code != 422 || bad["error"].(map[string]any)["line"] != 2.0 {
		t.Fatalf("unsaved syntax error: %d %v", code, bad)
	}
	if code, out := s.call("POST", "/v1/destinations/"+dst+"/test", tok, map[string]any{"payload": payload, "code": ""}); code != 400 || errCode(out) != "invalid_code" {
		t.Fatalf("empty code: %d %v", code, out)
	}
	d := s.mustCall(200, "GET", "/v1/destinations/"+dst, tok, nil)
	if d["transform"].(map[string]any)["code"] != script(1) || d["env"].(map[string]any)["SITE"] != "saved" || len(versionsOf(t, s, tok, dst)) != 1 {
		t.Fatalf("a test changed the destination: %v", d)
	}
}

// A destination saved before versions existed keeps its code: the first
// change records the old code as version 1, then the new one.
func TestTransformVersionsOfOlderDestination(t *testing.T) {
	s := newStack(t)
	d := store.Destination{ID: "dst_old", TenantID: "ten_a", SourceID: "src_a", Integration: "http",
		Transform: &store.Transform{Code: script(1), Enabled: true}}
	if err := s.store.SaveDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	keys, _ := s.rdb.Keys(ctx, "*dst_old:versions").Result()
	s.rdb.Del(ctx, keys...) // as it was before versions existed
	d.Transform = &store.Transform{Code: script(2), Enabled: true}
	if err := s.store.SaveDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	vs, err := s.store.TransformVersions(ctx, "ten_a", d.ID)
	if err != nil || len(vs) != 2 || vs[1].Code != script(1) || vs[0].Code != script(2) {
		t.Fatalf("versions: %+v %v", vs, err)
	}
}
