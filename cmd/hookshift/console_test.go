package main

import (
	"strings"
	"testing"
	"time"
)

func TestConsoleFlagsDefaultsAndBounds(t *testing.T) {
	cfg, _, err := parseServeFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := consoleOptions(cfg, nil, nil)
	if err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	if o.SessionTTL != 12*time.Hour || o.LinkTTL != 15*time.Minute || o.StreamsPerSession != 3 || cfg.TransformVersions != 50 || len(o.FrameAncestors) != 0 {
		t.Fatalf("defaults: %+v, versions %d", o, cfg.TransformVersions)
	}
	t.Setenv("HOOKSHIFT_CONSOLE_FRAME_ANCESTORS", "https://dash.example.com")
	cfg, _, _ = parseServeFlags(nil)
	if o, err := consoleOptions(cfg, nil, nil); err != nil || len(o.FrameAncestors) != 1 {
		t.Fatalf("frame ancestors from the environment: %+v %v", o.FrameAncestors, err)
	}
	for _, args := range [][]string{
		{"--console-session-ttl", "13h"},
		{"--console-session-ttl", "10s"},
		{"--console-link-ttl", "25h"},
		{"--console-streams-per-session", "0"},
		{"--console-stream-poll", "1ms"},
		{"--console-stream-max-age", "1s"},
		{"--transform-versions", "0"},
		{"--console-frame-ancestors", "https://a.example; script-src *"},
		{"--console-public-url", "hooks.example.com"},
		{"--console-public-url", "https://hooks.example.com/console"},
	} {
		cfg, _, err := parseServeFlags(args)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		_, err = consoleOptions(cfg, nil, nil)
		if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(args[0], "--")) && !strings.Contains(err.Error(), "HOOKSHIFT_CONSOLE") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
