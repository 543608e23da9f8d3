package outbound

import (
	"fmt"
	"strings"
)

// URLFor is the URL a destination of this integration is saved with when
// the URL is not given: Endpoint's for this config, else DefaultURL.
func (s Spec) URLFor(config map[string]string) string {
	if s.Endpoint != nil {
		return s.Endpoint(config)
	}
	return s.DefaultURL
}

// ScriptEnvFor is the env a destination's transform sees: the values
// ScriptEnv takes from the config, overridden by the destination's own env,
// so a merchant's script can be pointed elsewhere without a config change.
func (s Spec) ScriptEnvFor(config, env map[string]string) map[string]string {
	if s.ScriptEnv == nil {
		return env
	}
	out := s.ScriptEnv(config)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// Choice reads an optional config field that takes one of a few values (a
// region): the value, or def when it is not set. Any other value is an error
// that names the field and the values expected.
func Choice(config map[string]string, field, def string, options ...string) (string, error) {
	v := config[field]
	if v == "" {
		return def, nil
	}
	for _, o := range options {
		if v == o {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s: %q is not one of %s", field, v, strings.Join(options, ", "))
}
