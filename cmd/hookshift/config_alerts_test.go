package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/queue"
)

func TestAlertWindowFlagEnvAndBound(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.AlertWindow != queue.DefaultAlertWindow || checkAlertWindow(c) != nil {
		t.Fatalf("default alert window = %v, want %v and accepted", c.AlertWindow, queue.DefaultAlertWindow)
	}
	t.Setenv("HOOKSHIFT_ALERT_WINDOW", "2m")
	t.Setenv("HOOKSHIFT_PUBLIC_URL", "https://hooks.example.com")
	if c, _, err = parseServeFlags(nil); err != nil || c.AlertWindow != 2*time.Minute || c.PublicURL != "https://hooks.example.com" {
		t.Fatalf("env: window %v, public url %q, err %v", c.AlertWindow, c.PublicURL, err)
	}
	if c, _, err = parseServeFlags([]string{"--alert-window", "500ms"}); err != nil {
		t.Fatal(err)
	}
	if err := checkAlertWindow(c); err == nil || !strings.Contains(err.Error(), "--alert-window") || !strings.Contains(err.Error(), "at least 1s") {
		t.Fatalf("a 500ms window: %v, want an error naming the flag and the bound", err)
	}
}
