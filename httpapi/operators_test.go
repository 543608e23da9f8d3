package httpapi_test

import (
	"testing"
	"time"
)

// The operator's root token opens and replays any tenant's event; another
// tenant still cannot see it.
func TestRootReadsAndReplaysAnyEvent(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	sk := newSink(t, nil)
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "sink", "integration": "http", "url": sk.URL + "/hook"})
	ev := s.accept(src, secret, "root-1")
	s.waitStatus(tok, ev, dst, "delivered", 10*time.Second)

	out := s.mustCall(200, "GET", "/v1/events/"+ev, rootToken, nil)
	if out["id"] != ev || len(out["deliveries"].([]any)) != 1 {
		t.Fatalf("root GET event: %v", out)
	}
	if code, _ := s.call("GET", "/v1/events/"+ev, s.tenant("globex"), nil); code != 404 {
		t.Fatalf("another tenant's GET: %d, want 404", code)
	}
	if code, _ := s.call("GET", "/v1/events/evt_nope", rootToken, nil); code != 404 {
		t.Fatalf("root GET of an unknown event: %d, want 404", code)
	}

	out = s.mustCall(202, "POST", "/v1/events/"+ev+"/replay", rootToken, nil)
	if ids := out["destination_ids"].([]any); len(ids) != 1 || ids[0] != dst {
		t.Fatalf("root replay: %v", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sk.got()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(sk.got()); n != 2 {
		t.Fatalf("sink got %d requests, want 2 (the delivery and the root's replay)", n)
	}
	s.mustCall(202, "POST", "/v1/events/"+ev+"/replay", rootToken, map[string]any{"destination_id": dst})
	if code, _ := s.call("POST", "/v1/events/"+ev+"/replay", rootToken, map[string]any{"destination_id": "dst_nope"}); code != 400 {
		t.Fatalf("root replay to an unknown destination: %d, want 400", code)
	}
}
