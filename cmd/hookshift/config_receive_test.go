package main

import (
	"strings"
	"testing"

	"github.com/hookshift/hookshift/store"
)

// The receive-path limits have defaults, flags and env vars, and values
// outside their range are refused with the flag's name.
func TestReceiveLimitFlags(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil || c.MaxJSONDepth != 64 || c.MaxLiveSecrets != 3 || c.EventStateMaxBytes != store.DefaultMaxEventStateBytes {
		t.Fatalf("defaults: depth %d, live secrets %d, event state %d, err %v; want 64, 3, %d", c.MaxJSONDepth, c.MaxLiveSecrets, c.EventStateMaxBytes, err, store.DefaultMaxEventStateBytes)
	}
	t.Setenv("HOOKSHIFT_EVENT_STATE_MAX_BYTES", "8192")
	if c, _, err = parseServeFlags(nil); err != nil || c.EventStateMaxBytes != 8192 {
		t.Fatalf("env: event state %d, err %v; want 8192", c.EventStateMaxBytes, err)
	}
	if c, _, err = parseServeFlags([]string{"--event-state-max-bytes", "16384"}); err != nil || c.EventStateMaxBytes != 16384 {
		t.Fatalf("flag: event state %d, err %v; want 16384", c.EventStateMaxBytes, err)
	}
	c, _, err = parseServeFlags([]string{"--max-json-depth", "20", "--max-live-secrets", "5"})
	if err != nil || c.MaxJSONDepth != 20 || c.MaxLiveSecrets != 5 {
		t.Fatalf("flags: depth %d, live secrets %d, err %v; want 20, 5", c.MaxJSONDepth, c.MaxLiveSecrets, err)
	}
	t.Setenv("HOOKSHIFT_MAX_JSON_DEPTH", "32")
	t.Setenv("HOOKSHIFT_MAX_LIVE_SECRETS", "4")
	c, _, err = parseServeFlags(nil)
	if err != nil || c.MaxJSONDepth != 32 || c.MaxLiveSecrets != 4 {
		t.Fatalf("env: depth %d, live secrets %d, err %v; want 32, 4", c.MaxJSONDepth, c.MaxLiveSecrets, err)
	}
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--max-json-depth", "0"}, "", "--max-json-depth"},
		{[]string{"--max-json-depth", "100000"}, "", "from 1 to 1024"},
		{[]string{"--max-live-secrets", "1"}, "", "--max-live-secrets"},
		{[]string{"--max-live-secrets", "500"}, "", "from 2 to 16"},
		{[]string{"--event-state-max-bytes", "100"}, "", "--event-state-max-bytes"},
		{[]string{"--event-state-max-bytes", "1000000000"}, "", "from 4096 to 4194304"},
		{nil, "deep", "HOOKSHIFT_MAX_JSON_DEPTH"},
	} {
		if tc.env != "" {
			t.Setenv("HOOKSHIFT_MAX_JSON_DEPTH", tc.env)
		}
		_, _, err := parseServeFlags(append(tc.args, "--log-level", "error"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v env %q: err %v, want one naming %q", tc.args, tc.env, err, tc.want)
		}
	}
}
