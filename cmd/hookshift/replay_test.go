package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestReplayEventPostsBody(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{"POST /v1/events/evt_1/replay": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 202, `{"event_id":"evt_1","destination_ids":["dst_1"]}`)
	}})
	// Flags after the id work too.
	code, out, errOut := runOps(t, f, "replay", "evt_1", "--destination", "dst_1")
	if code != 0 || out != "replaying evt_1 to dst_1\n" {
		t.Fatalf("exit %d: %q %s", code, out, errOut)
	}
	code, _, _ = runOps(t, f, "replay", "evt_1")
	reqs := f.requests()
	if code != 0 || len(reqs) != 2 {
		t.Fatalf("exit %d, %+v", code, reqs)
	}
	if reqs[0].Body != `{"destination_id":"dst_1"}` || reqs[1].Body != "" {
		t.Fatalf("bodies: %q, %q", reqs[0].Body, reqs[1].Body)
	}
	if code, out, _ = runOps(t, f, "replay", "--json", "evt_1"); code != 0 || out != `{"event_id":"evt_1","destination_ids":["dst_1"]}`+"\n" {
		t.Fatalf("--json: %d %q", code, out)
	}
}

func TestReplayDestinationSince(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{"POST /v1/destinations/dst_1/replay": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 202, `{"replayed":3}`)
	}})
	code, out, errOut := runOps(t, f, "replay", "--destination", "dst_1", "--since", "2025-03-01T10:00:00+02:00")
	if code != 0 || !strings.HasPrefix(out, "replaying 3 events to dst_1") {
		t.Fatalf("exit %d: %q %s", code, out, errOut)
	}
	if b := f.requests()[0].Body; b != `{"since":"2025-03-01T08:00:00Z"}` {
		t.Fatalf("body %s", b)
	}
	before := time.Now()
	if code, _, errOut = runOps(t, f, "replay", "--destination", "dst_1", "--since", "2h"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var body struct{ Since time.Time }
	if err := json.Unmarshal([]byte(f.requests()[1].Body), &body); err != nil {
		t.Fatal(err)
	}
	if want := before.Add(-2 * time.Hour); body.Since.Before(want.Add(-2*time.Second)) || body.Since.After(want.Add(2*time.Second)) {
		t.Fatalf("since %v, want about %v", body.Since, want)
	}
	if got, err := opsParseSince("7d", before); err != nil || !got.Equal(before.Add(-7*24*time.Hour)) {
		t.Fatalf("7d: %v %v", got, err)
	}
}

func TestReplayFromFileBoundedWithProgress(t *testing.T) {
	var inFlight, peak atomic.Int32
	handler := func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		id := strings.Split(r.URL.Path, "/")[3]
		if id == "evt_gone" {
			opsJSON(w, 404, `{"error":{"code":"not_found","message":"event not found"}}`)
			return
		}
		opsJSON(w, 202, `{"event_id":"`+id+`","destination_ids":["dst_1","dst_2"]}`)
	}
	routes := map[string]http.HandlerFunc{}
	var lines []string
	for i := range 12 {
		id := "evt_" + string(rune('a'+i))
		routes["POST /v1/events/"+id+"/replay"] = handler
		lines = append(lines, id)
	}
	routes["POST /v1/events/evt_gone/replay"] = handler
	f := newOpsFake(t, routes)
	file := filepath.Join(t.TempDir(), "ids.txt")
	content := "# from a search\n\n" + strings.Join(lines[:6], "\n") + "\nevt_gone\n" + strings.Join(lines[6:], "\n") + "\nevt_a\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runOps(t, f, "replay", "--from-file", file, "--progress")
	if code != 1 {
		t.Fatalf("one event failed: want exit 1, got %d\n%s", code, errOut)
	}
	if n := len(f.requests()); n != 13 {
		t.Fatalf("want 13 requests (blank, comment and repeat skipped), got %d", n)
	}
	if p := peak.Load(); p > 4 || p < 2 {
		t.Fatalf("peak concurrency %d, want 2..4", p)
	}
	for _, want := range []string{
		"hookshift: evt_gone: event not found (not_found)",
		"100%", "(13/13,",
		"replayed 12 of 13 events (24 deliveries queued); 1 failed",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%q", want, errOut)
		}
	}
	if out != "" {
		t.Errorf("stdout: %q", out)
	}
}

func TestReplayFromFileStopsOnAuthFailure(t *testing.T) {
	f := newOpsFake(t, nil)
	var ids []string
	for i := range 200 {
		ids = append(ids, "evt_"+strings.Repeat("x", i%5+1)+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	file := filepath.Join(t.TempDir(), "ids.txt")
	os.WriteFile(file, []byte(strings.Join(ids, "\n")), 0o600)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"replay", "--from-file", file, "--api", f.srv.URL, "--token", "wrong"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	if n := len(f.requests()); n > 8 {
		t.Fatalf("kept going after 401: %d requests", n)
	}
	if !strings.Contains(stderr.String(), "unknown token (unauthorized)") || !strings.Contains(stderr.String(), "not tried") {
		t.Fatalf("stderr: %s", stderr.String())
	}
}
