package posthog

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	good := "phc_3fG7hJ9kL1mN3pQ5rS7tV9wX1yZ"
	for _, tc := range []struct {
		cfg  map[string]string
		want string // part of the error; "" for none
	}{
		{map[string]string{"api_key": good}, ""},
		{map[string]string{"api_key": good, "region": "eu"}, ""},
		{map[string]string{"api_key": good, "region": "mars"}, `region: "mars" is not one of us, eu`},
		{map[string]string{"api_key": "phx_personalKeyThatIsLong12345"}, "personal API key (phx_...)"},
		{map[string]string{"api_key": "sk_live_123456789012345678"}, "phc_"},
	} {
		err := validate(tc.cfg)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("validate(%v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestEndpoint(t *testing.T) {
	for region, want := range map[string]string{"": DefaultURL, "us": DefaultURL, "eu": "https://eu.i.posthog.com/i/v0/e/"} {
		if got := Spec.URLFor(map[string]string{"api_key": "phc_x", "region": region}); got != want {
			t.Errorf("region %q: %s, want %s", region, got, want)
		}
	}
}
