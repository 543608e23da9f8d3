package windmill

import (
	"strings"
	"testing"
)

func TestValidateAndEndpoint(t *testing.T) {
	ok := map[string]string{"token": "t", "workspace": "acme", "path": "f/billing/on_payment"}
	with := func(k, v string) map[string]string {
		c := map[string]string{}
		for a, b := range ok {
			c[a] = b
		}
		c[k] = v
		return c
	}
	for _, tc := range []struct {
		cfg  map[string]string
		want string
	}{
		{ok, ""},
		{with("kind", "flow"), ""},
		{with("kind", "app"), `kind: "app" is not one of script, flow`},
		{with("path", "billing"), "path: expected"},
		{with("path", "f/../../admin"), "path: expected"},
		{with("workspace", "a/b"), "workspace: expected"},
		{with("base_url", "windmill.example.com"), "base_url: expected"},
	} {
		err := validate(tc.cfg)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("validate(%v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if got := Spec.URLFor(ok); got != "https://app.windmill.dev/api/w/acme/jobs/run/p/f/billing/on_payment" {
		t.Errorf("script: %s", got)
	}
	if got := Spec.URLFor(with("kind", "flow")); got != "https://app.windmill.dev/api/w/acme/jobs/run/f/f/billing/on_payment" {
		t.Errorf("flow: %s", got)
	}
}
