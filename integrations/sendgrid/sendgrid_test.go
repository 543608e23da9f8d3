package sendgrid

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	key := "SG.aBcDeFgHiJkLmNoPqRsTuV.wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012"
	ok := map[string]string{"api_key": key, "from": "billing@shop.example", "to": "a@shop.example"}
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
		{with("region", "eu"), ""},
		{with("region", "us"), `region: "us" is not one of global, eu`},
		{with("api_key", "re_123456789"), "SG.<id>.<secret>"},
		{with("from", "billing"), "from: expected one email address"},
		{with("to", "a@shop.example; b"), "to: expected email addresses separated by commas"},
	} {
		err := validate(tc.cfg)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("validate(%v) = %v, want %q", tc.cfg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("error %q shows the key", err)
		}
	}
}

func TestEndpointAndEnv(t *testing.T) {
	if got := Spec.URLFor(map[string]string{"region": "eu"}); got != "https://api.eu.sendgrid.com/v3/mail/send" {
		t.Errorf("eu: %s", got)
	}
	if got := Spec.URLFor(nil); got != DefaultURL {
		t.Errorf("default: %s", got)
	}
	env := Spec.ScriptEnvFor(map[string]string{"from": "Billing <b@x.example>", "to": "a@x.example, C <c@x.example>"}, map[string]string{"sendgrid_to": "override@x.example"})
	if env["sendgrid_from_email"] != "b@x.example" || env["sendgrid_from_name"] != "Billing" || env["sendgrid_to"] != "override@x.example" {
		t.Errorf("env = %v (the destination's own env must win)", env)
	}
}
