package main

import (
	"strings"
	"testing"
)

// The receive-path limits have defaults, flags and env vars, and values
// outside their range are refused with the flag's name.
func TestReceiveLimitFlags(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil || c.MaxJSONDepth != 64 || c.MaxLiveSecrets != 3 {
		t.Fatalf("defaults: depth %d, live secrets %d, err %v; want 64, 3", c.MaxJSONDepth, c.MaxLiveSecrets, err)
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
