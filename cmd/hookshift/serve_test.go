package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/internal/redistest"
)

// lockedBuffer collects a running serve's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func deadPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// With Redis unreachable at start, serve never listens: it exits non-zero
// with one line naming the address and the fix (and no password).
func TestServeExitsWhenRedisIsUnreachable(t *testing.T) {
	redisAddr := deadPort(t)
	var stdout, stderr lockedBuffer
	code := cmdServe(context.Background(), []string{"--redis-url", "redis://:hunter2pw@" + redisAddr + "/0",
		"--secret-key", "serve-test-secret-key", "--admin-token", "root", "--addr", "127.0.0.1:0", "--roles", "api"}, &stdout, &stderr)
	if code == 0 {
		t.Fatal("serve exited 0 with Redis unreachable")
	}
	all := stdout.String() + stderr.String()
	lines := strings.Split(strings.TrimSpace(all), "\n")
	if len(lines) != 1 {
		t.Fatalf("serve wrote %d lines, want 1:\n%s", len(lines), all)
	}
	for _, want := range []string{redisAddr, "HOOKSHIFT_REDIS_URL"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the line does not name %q: %s", want, lines[0])
		}
	}
	if strings.Contains(all, "listening") || strings.Contains(all, "hunter2pw") {
		t.Fatalf("serve said listening or showed the password: %s", all)
	}
}

// Embedded mode listens on loopback unless told otherwise; a real Redis
// keeps the :8080 default.
func TestEmbeddedModeBindsLoopback(t *testing.T) {
	t.Setenv("HOOKSHIFT_ADDR", "")
	os.Unsetenv("HOOKSHIFT_ADDR")
	cases := []struct {
		args     []string
		env      string
		embedded bool
		want     string
	}{
		{nil, "", true, "127.0.0.1:8080"},
		{nil, "", false, ":8080"},
		{[]string{"--addr", ":9999"}, "", true, ":9999"},
		{[]string{"--hookshift-addr", "0.0.0.0:7000"}, "", true, "0.0.0.0:7000"},
		{nil, ":7001", true, ":7001"},
	}
	for _, c := range cases {
		if c.env != "" {
			os.Setenv("HOOKSHIFT_ADDR", c.env)
		}
		cfg, _, err := parseServeFlags(c.args)
		os.Unsetenv("HOOKSHIFT_ADDR")
		if err != nil {
			t.Fatal(err)
		}
		if got := listenAddr(cfg, c.embedded); got != c.want {
			t.Errorf("args %v env %q embedded %v: listens on %q, want %q", c.args, c.env, c.embedded, got, c.want)
		}
	}
}

// At start, serve warns loudly that the Redis it runs on has no AOF, and
// /metrics moves to --metrics-addr, where it needs no token.
func TestServeWarnsAboutRedisWithoutAOF(t *testing.T) {
	rs := redistest.Start(t) // appendonly no
	metricsAddr := deadPort(t)
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cmdServe(ctx, []string{"--redis-url", rs.URL(), "--secret-key", "serve-test-secret-key", "--admin-token", "root",
			"--addr", "127.0.0.1:0", "--roles", "api", "--metrics-addr", metricsAddr}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(stdout.String(), "hookshift listening") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	body, err := httpGet("http://" + metricsAddr + "/metrics")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	if !strings.Contains(stderr.String(), "WARNING: Redis has no AOF") || !strings.Contains(stdout.String(), `"level":"warn"`) {
		t.Fatalf("no loud AOF warning:\nstdout %s\nstderr %s", stdout.String(), stderr.String())
	}
	if err != nil || !strings.Contains(body, "hookshift_redis_up 1") {
		t.Fatalf("/metrics on --metrics-addr: %v %.300s", err, body)
	}
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
