package inngest

import (
	"strings"
	"testing"
)

func TestValidateAndEndpoint(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]string
		want string
	}{
		{map[string]string{"event_key": "abc_DEF-123"}, ""},
		{map[string]string{"event_key": "abc", "base_url": "https://inngest.internal.example"}, ""},
		{map[string]string{"event_key": "https://inn.gs/e/abc"}, "event_key: expected the event key"},
		{map[string]string{"event_key": "abc", "base_url": "inn.gs"}, "base_url: expected"},
		{map[string]string{"event_key": "abc", "base_url": "https://inn.gs/e/abc"}, "base_url: expected"},
	} {
		err := validate(tc.cfg)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("validate(%v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if got := Spec.URLFor(map[string]string{"event_key": "k_1"}); got != "https://inn.gs/e/k_1" {
		t.Errorf("default: %s", got)
	}
	if got := Spec.ShownURL("https://inn.gs/e/k_1"); got != "https://inn.gs/****" {
		t.Errorf("shown: %s", got)
	}
}
