package main

import (
	"context"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/transformer"
)

// The transformer's fairness limits reach serve from flags and from the
// environment, and default to 0 (the engine's own defaults).
func TestTransformFairnessFlags(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil || c.TransformTenantRuns != 0 || c.TransformPreviewRuns != 0 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, _, err = parseServeFlags([]string{"--transform-tenant-runs", "3", "--transform-preview-runs", "4"})
	if err != nil || c.TransformTenantRuns != 3 || c.TransformPreviewRuns != 4 {
		t.Fatalf("flags: %d %d %v", c.TransformTenantRuns, c.TransformPreviewRuns, err)
	}
	t.Setenv("HOOKSHIFT_TRANSFORM_TENANT_RUNS", "5")
	t.Setenv("HOOKSHIFT_TRANSFORM_PREVIEW_RUNS", "6")
	c, _, err = parseServeFlags(nil)
	if err != nil || c.TransformTenantRuns != 5 || c.TransformPreviewRuns != 6 {
		t.Fatalf("env: %d %d %v", c.TransformTenantRuns, c.TransformPreviewRuns, err)
	}
}

// Every sandbox limit is a serve flag (and so a HOOKSHIFT_ variable) that
// reaches the engine: a limit set low is enforced by the engine serve builds.
func TestTransformLimitFlagsReachTheEngine(t *testing.T) {
	c, _, err := parseServeFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.TransformLimits.MaxInputBytes != transformer.DefaultMaxInputBytes || c.TransformLimits.MaxHeapGrowth != transformer.DefaultMaxHeapGrowth ||
		c.TransformLimits.MaxSourceLen != transformer.DefaultMaxSourceLen {
		t.Fatalf("defaults are not the engine's: %+v", c.TransformLimits)
	}
	t.Setenv("HOOKSHIFT_TRANSFORM_MAX_SOURCE_CHARS", "60")
	c, _, err = parseServeFlags([]string{"--transform-max-input-bytes", "64", "--transform-max-call-stack", "7"})
	if err != nil {
		t.Fatal(err)
	}
	o := transformerOptions(c)
	if o.MaxInputBytes != 64 || o.MaxCallStack != 7 || o.MaxSourceLen != 60 {
		t.Fatalf("options: %+v", o)
	}
	eng := transformer.New(o)
	code := `function handler(w) { return w; }`
	_, err = eng.Run(context.Background(), transformer.Script{TenantID: "t", Code: code},
		transformer.Input{Method: "POST", URL: "https://example.com/", Payload: []byte(`{"pad":"` + strings.Repeat("x", 100) + `"}`)})
	if err == nil {
		t.Fatal("a 110-byte event ran under a 64-byte input limit")
	}
	if err := eng.Check(strings.Repeat(" ", 61) + code); err == nil {
		t.Fatal("a script over --transform-max-source-chars was accepted")
	}
}
