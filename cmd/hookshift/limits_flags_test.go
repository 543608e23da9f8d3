package main

import "testing"

// Tenant quotas and config bounds come from flags, then environment, then
// the defaults of package rules.
func TestLimitFlags(t *testing.T) {
	t.Setenv("HOOKSHIFT_MAX_DESTINATIONS_PER_TENANT", "9")
	c, _, err := parseServeFlags([]string{"--max-sources-per-tenant", "7", "--max-url-bytes", "100"})
	if err != nil {
		t.Fatal(err)
	}
	l := c.Limits
	if l.MaxSources != 7 || l.MaxDestinations != 9 || l.MaxURLBytes != 100 || l.MaxHeaders != 50 || l.MaxEnvBytes != 16<<10 {
		t.Fatalf("limits %+v", l)
	}
}
