package customerio

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]string
		want string
	}{
		{map[string]string{"site_id": "abc", "api_key": "def"}, ""},
		{map[string]string{"site_id": "abc", "api_key": "def", "region": "eu"}, ""},
		{map[string]string{"site_id": "abc", "api_key": "def", "region": "apac"}, `region: "apac" is not one of us, eu`},
		{map[string]string{"site_id": "abc:def", "api_key": "def"}, "site_id"},
	} {
		err := validate(tc.cfg)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("validate(%v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if got := Spec.URLFor(map[string]string{"region": "eu"}); got != "https://track-eu.customer.io/api/v2/entity" {
		t.Errorf("eu: %s", got)
	}
	if got := Spec.URLFor(nil); got != DefaultURL {
		t.Errorf("default: %s", got)
	}
}
