package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/internal/redistest"
)

// --receive-timeout defaults to 3s, reads HOOKSHIFT_RECEIVE_TIMEOUT, and is
// refused outside its range or when it would cut the wait for replicas short.
func TestReceiveTimeoutSetting(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil || c.ReceiveTimeout != 3*time.Second {
		t.Fatalf("default: %s %v; want 3s", c.ReceiveTimeout, err)
	}
	t.Setenv("HOOKSHIFT_RECEIVE_TIMEOUT", "1500ms")
	if c, _, err = parseServeFlags(nil); err != nil || c.ReceiveTimeout != 1500*time.Millisecond {
		t.Fatalf("from env: %s %v; want 1.5s", c.ReceiveTimeout, err)
	}
	for _, args := range [][]string{
		{"--receive-timeout", "0s"},
		{"--receive-timeout", "50ms"},
		{"--receive-timeout", "1m"},
		{"--receive-timeout", "400ms", "--ack-replicas", "1", "--ack-timeout", "500ms"},
	} {
		if _, _, err := parseServeFlags(args); err == nil || !strings.Contains(err.Error(), "--receive-timeout") {
			t.Errorf("%v: err %v, want one naming --receive-timeout", args, err)
		}
	}
}

// The CLI reaches Redis only in `hookshift load --redis-url`; it takes a
// Sentinel URL like serve does (here the bare asynq baseline, which writes
// through the sentinels' primary), and refuses a sentinel off this machine.
func TestLoadTakesASentinelURL(t *testing.T) {
	g := redistest.StartSentinelGroup(t, 1)
	var out, errOut bytes.Buffer
	args := []string{"load", "--baseline", "--redis-url", g.URL(), "--requests", "50", "--concurrency", "2", "--json",
		"--event", "../../testdata/dodo/payment.succeeded.usd.json", "--url", "http://127.0.0.1:1/x", "--secret", "s"}
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("load on Sentinel: exit %d: %s", code, errOut.String())
	}
	var rep loadReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Baseline == nil || rep.Baseline.Accepted != 50 {
		t.Fatalf("baseline on Sentinel: %v %s", err, out.String())
	}
	bad := []string{"load", "--baseline", "--redis-url", "redis-sentinel://10.0.0.1:26379/m", "--url", "http://127.0.0.1:1/x", "--secret", "s"}
	if code := run(context.Background(), bad, &out, &errOut); code != 2 {
		t.Fatalf("a sentinel off this machine: exit %d, want 2", code)
	}
}
