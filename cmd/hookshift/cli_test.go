package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const opsToken = "tok_ops_test"

// opsRequest is what the fake API saw.
type opsRequest struct {
	Method, Path, Query, Body string
}

// opsFake is a stand-in for the admin API: routes keyed "METHOD /path", the
// bearer token checked on every request as the real API does, every request
// recorded.
type opsFake struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	seen []opsRequest
}

func newOpsFake(t *testing.T, routes map[string]http.HandlerFunc) *opsFake {
	t.Helper()
	f := &opsFake{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.seen = append(f.seen, opsRequest{r.Method, r.URL.Path, r.URL.RawQuery, string(body)})
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+opsToken {
			opsJSON(w, 401, `{"error":{"code":"unauthorized","message":"unknown token"}}`)
			return
		}
		h, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			opsJSON(w, 404, `{"error":{"code":"not_found","message":"no route"}}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *opsFake) requests() []opsRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]opsRequest(nil), f.seen...)
}

func opsJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// runOps runs the CLI against the fake with its URL and token.
func runOps(t *testing.T, f *opsFake, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--api", f.srv.URL, "--token", opsToken)
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// hasRow reports whether some line of out has exactly these
// whitespace-separated cells.
func hasRow(out string, cells ...string) bool {
	want := strings.Join(cells, " ")
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == want {
			return true
		}
	}
	return false
}

var (
	opsT1 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	opsT2 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
)

func TestOpsAPIErrorsExit1WithMessage(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{
		"GET /v1/events/evt_x": func(w http.ResponseWriter, r *http.Request) {
			opsJSON(w, 404, `{"error":{"code":"not_found","message":"event not found"}}`)
		},
		"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "storage is down", 503)
		},
	})
	code, out, errOut := runOps(t, f, "events", "show", "evt_x")
	if code != 1 || out != "" || errOut != "hookshift: event not found (not_found)\n" {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	code, _, errOut = runOps(t, f, "events", "search", "--json")
	if code != 1 || errOut != "hookshift: storage is down (http 503)\n" {
		t.Fatalf("exit %d %q", code, errOut)
	}
	var stdout, stderr bytes.Buffer
	code = run(context.Background(), []string{"events", "show", "evt_x", "--api", f.srv.URL, "--token", "nope"}, &stdout, &stderr)
	if code != 1 || stderr.String() != "hookshift: unknown token (unauthorized)\n" {
		t.Fatalf("exit %d %q", code, stderr.String())
	}
}

func TestOpsUsageErrorsExit2(t *testing.T) {
	t.Setenv("HOOKSHIFT_TOKEN", "")
	t.Setenv("HOOKSHIFT_ADMIN_TOKEN", "")
	for _, args := range [][]string{
		{"events"},
		{"events", "frob"},
		{"events", "show"},
		{"events", "show", "evt_1"}, // no token
		{"events", "search", "--limit", "900", "--token", "t"},
		{"events", "search", "--bogus"},
		{"replay", "--token", "t"},
		{"replay", "evt_1", "evt_2", "--token", "t"},
		{"replay", "--since", "1h", "--token", "t"},
		{"replay", "--destination", "d", "--since", "yesterday", "--token", "t"},
		{"replay", "evt_1", "--from-file", "x", "--token", "t"},
		{"replay", "evt_1", "--token", "t", "--api", "localhost:8080"},
		{"dlq", "replay", "--token", "t"},
		{"dlq", "replay", "--all", "task", "--token", "t"},
		{"dlq", "list"}, // no token
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage:") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}
