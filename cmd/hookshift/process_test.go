package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/internal/redistest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds hookshift once per test run, so tests can kill real processes.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hookshift-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "hookshift")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

const testRoot = "root-token-process-tests"

// proc is a running `hookshift serve`.
type proc struct {
	cmd     *exec.Cmd
	base    string
	out     *bytes.Buffer
	done    chan struct{} // closed when the process has exited
	exitErr error
}

func startServe(t *testing.T, redisURL string, extra ...string) *proc {
	t.Helper()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(binary(t), append([]string{"serve"}, extra...)...)
	cmd.Env = append(os.Environ(), "HOOKSHIFT_ADDR="+addr, "HOOKSHIFT_REDIS_URL="+redisURL,
		"HOOKSHIFT_ADMIN_TOKEN="+testRoot, "HOOKSHIFT_SECRET_KEY=process-test-secret-key", "HOOKSHIFT_EGRESS_ALLOW=127.0.0.0/8")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, base: "http://" + addr, out: out, done: make(chan struct{})}
	go func() { p.exitErr = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.done })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("hookshift did not become ready: %s", out)
	return nil
}

func (p *proc) call(t *testing.T, method, path, token string, body any) map[string]any {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out
}

// setupFlow creates a tenant, a source and an http destination at sinkURL,
// and posts one signed event; it returns the tenant token and event id.
func setupFlow(t *testing.T, p *proc, sinkURL, msgID string) (string, string, string) {
	t.Helper()
	tok := p.call(t, "POST", "/v1/tenants", testRoot, map[string]any{"name": "acme"})["token"].(string)
	src := p.call(t, "POST", "/v1/sources", tok, map[string]any{"name": "dodo", "kind": "standard-webhooks"})
	dst := p.call(t, "POST", "/v1/destinations", tok, map[string]any{"source_id": src["id"], "name": "sink", "integration": "http", "url": sinkURL})
	k, _ := inbound.Lookup("standard-webhooks")
	h, body, _ := k.Sign(nil, src["secret"].(string), msgID, []byte(`{"type":"payment.succeeded","data":{"payment_id":"pay_k"}}`), time.Now())
	req, _ := http.NewRequest("POST", p.base+"/v1/webhooks/"+src["id"].(string), bytes.NewReader(body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var acc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&acc)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("post: %d %v", resp.StatusCode, acc)
	}
	return tok, acc["event_id"].(string), dst["id"].(string)
}

func waitDelivered(t *testing.T, p *proc, tok, ev string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		out := p.call(t, "GET", "/v1/events/"+ev, tok, nil)
		for _, d := range out["deliveries"].([]any) {
			if d.(map[string]any)["status"] == "delivered" {
				return d.(map[string]any)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("event %s not delivered within %v", ev, within)
	return nil
}

// Killing the worker with SIGKILL mid-delivery loses nothing: after a
// restart asynq recovers the abandoned task once its lease runs out (about
// 30 to 90 seconds) and the event is delivered.
func TestSIGKILLMidDeliveryLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for asynq's lease recovery (~1-2 min)")
	}
	rs := redistest.Start(t)
	inFlight := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	count := 0
	release := make(chan struct{})
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		count++
		n := count
		mu.Unlock()
		if n == 1 {
			once.Do(func() { close(inFlight) })
			select { // hold the first delivery open until the worker is dead
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(200)
	}))
	defer sink.Close()
	defer close(release)

	a := startServe(t, rs.URL())
	tok, ev, _ := setupFlow(t, a, sink.URL+"/hook", "msg-kill")
	select {
	case <-inFlight:
	case <-time.After(15 * time.Second):
		t.Fatalf("delivery never started: %s", a.out)
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done

	b := startServe(t, rs.URL())
	d := waitDelivered(t, b, tok, ev, 3*time.Minute)
	mu.Lock()
	defer mu.Unlock()
	if count < 2 {
		t.Fatalf("sink saw %d requests; the killed delivery was never retried", count)
	}
	t.Logf("delivered after restart: %v attempts recorded, sink saw %d requests", len(d["attempts"].([]any)), count)
}

// SIGTERM lets an in-flight delivery finish before the process exits.
func TestSIGTERMDrainsInFlightDelivery(t *testing.T) {
	rs := redistest.Start(t)
	started := make(chan struct{}, 1)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		time.Sleep(1500 * time.Millisecond)
		w.WriteHeader(200)
	}))
	defer sink.Close()
	a := startServe(t, rs.URL(), "--shutdown-timeout", "10s")
	tok, ev, _ := setupFlow(t, a, sink.URL, "msg-term")
	select {
	case <-started:
	case <-time.After(15 * time.Second):
		t.Fatalf("delivery never started: %s", a.out)
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
		if a.exitErr != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", a.exitErr, a.out)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("process did not exit after SIGTERM")
	}
	// The delivery completed before exit: a fresh API-only process sees it.
	b := startServe(t, rs.URL(), "--roles", "api")
	out := b.call(t, "GET", "/v1/events/"+ev, tok, nil)
	d := out["deliveries"].([]any)[0].(map[string]any)
	if d["status"] != "delivered" {
		t.Fatalf("after SIGTERM the in-flight delivery is %v, want delivered", d["status"])
	}
}
