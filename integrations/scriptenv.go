package integrations

import "github.com/hookshift/hookshift/integrations/outbound"

// ScriptEnv is the env a destination's transform runs with: the
// integration's ScriptConfig fields taken from its config (Resend's from
// and to), then the destination's own env, which wins. Secret fields are
// never copied, whatever ScriptConfig says, so a script cannot log a key.
// Without ScriptConfig it returns env unchanged.
func ScriptEnv(spec outbound.Spec, config, env map[string]string) map[string]string {
	if len(spec.ScriptConfig) == 0 {
		return env
	}
	secret := spec.SecretFields()
	out := make(map[string]string, len(spec.ScriptConfig)+len(env))
	for _, name := range spec.ScriptConfig {
		if v := config[name]; v != "" && !secret[name] {
			out[name] = v
		}
	}
	for k, v := range env {
		out[k] = v
	}
	return out
}
