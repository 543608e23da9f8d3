package mixpanel

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	good := "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		cfg  map[string]string
		want string
	}{
		{map[string]string{"project_token": good}, ""},
		{map[string]string{"project_token": good, "region": "in"}, ""},
		{map[string]string{"project_token": good, "region": "de"}, `region: "de" is not one of us, eu, in`},
		{map[string]string{"project_token": "0123456789abcdef"}, "32 hexadecimal characters"},
		{map[string]string{"project_token": "0123456789ABCDEF0123456789abcdeg"}, "32 hexadecimal characters"},
	} {
		err := validate(tc.cfg)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("validate(%v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestEndpoint(t *testing.T) {
	for region, want := range map[string]string{"": DefaultURL, "eu": "https://api-eu.mixpanel.com/import?strict=1", "in": "https://api-in.mixpanel.com/import?strict=1"} {
		if got := Spec.URLFor(map[string]string{"region": region}); got != want {
			t.Errorf("region %q: %s, want %s", region, got, want)
		}
	}
}
