package outbound

import (
	"maps"
	"testing"
)

func TestURLFor(t *testing.T) {
	plain := Spec{DefaultURL: "https://api.example.com/v1/x"}
	if got := plain.URLFor(map[string]string{"region": "eu"}); got != plain.DefaultURL {
		t.Errorf("without Endpoint: %s", got)
	}
	regional := Spec{DefaultURL: "https://us.example.com/x", Endpoint: func(c map[string]string) string { return "https://" + c["region"] + ".example.com/x" }}
	if got := regional.URLFor(map[string]string{"region": "eu"}); got != "https://eu.example.com/x" {
		t.Errorf("with Endpoint: %s", got)
	}
}

func TestScriptEnvFor(t *testing.T) {
	env := map[string]string{"a": "mine", "b": "2"}
	if got := (Spec{}).ScriptEnvFor(map[string]string{"key": "k"}, env); !maps.Equal(got, env) {
		t.Errorf("without ScriptEnv: %v", got)
	}
	s := Spec{ScriptEnv: func(c map[string]string) map[string]string { return map[string]string{"a": c["key"], "c": "3"} }}
	got := s.ScriptEnvFor(map[string]string{"key": "k"}, env)
	if want := map[string]string{"a": "mine", "b": "2", "c": "3"}; !maps.Equal(got, want) {
		t.Errorf("got %v, want %v (the destination's env wins)", got, want)
	}
	if env["c"] != "" {
		t.Error("the destination's env was changed")
	}
}

func TestChoice(t *testing.T) {
	for _, tc := range []struct {
		value, want, err string
	}{
		{"", "us", ""},
		{"eu", "eu", ""},
		{"EU", "", `region: "EU" is not one of us, eu`},
	} {
		got, err := Choice(map[string]string{"region": tc.value}, "region", "us", "us", "eu")
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("Choice(%q) = %q, %v", tc.value, got, err)
		}
	}
}
