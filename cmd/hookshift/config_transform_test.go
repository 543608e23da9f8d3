package main

import "testing"

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
