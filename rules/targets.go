package rules

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sort"

	"github.com/hookshift/hookshift/store"
)

// Takes reports whether destination d takes events of this type: it is
// enabled and its filter matches. An empty filter means every event; "*"
// too; an entry ending in ".*" matches a family ("payment.*").
func Takes(d store.Destination, eventType string) bool {
	if d.Disabled {
		return false
	}
	if len(d.EventTypes) == 0 {
		return true
	}
	for _, t := range d.EventTypes {
		if t == eventType || t == "*" {
			return true
		}
		if n := len(t); n > 2 && t[n-2:] == ".*" && len(eventType) > n-2 && eventType[:n-1] == t[:n-1] {
			return true
		}
	}
	return false
}

// Targets are the destinations, of those given, that take an event of this
// type: the fan-out delivers to them, and a replay of the whole event runs
// them again.
func Targets(dests []store.Destination, eventType string) []store.Destination {
	var out []store.Destination
	for _, d := range dests {
		if Takes(d, eventType) {
			out = append(out, d)
		}
	}
	return out
}

// ErrNotOnSource is a replay naming a destination that is not on the
// event's source (or not the tenant's).
var ErrNotOnSource = errors.New("no such destination on this event's source")

// ReplayTargets are the destinations a replay of ev runs again: the one
// named by destID (whatever its filter: the merchant asked for it), or
// every destination of the event's source that takes the event now.
// tenantID "" is the operator, who may replay any tenant's event. An
// operational event goes to the tenant's alert destinations instead.
func ReplayTargets(ctx context.Context, st *store.Store, tenantID string, ev store.Event, destID string) ([]store.Destination, error) {
	if IsOperationalEvent(ev) { // an alert: to alert destinations, not a source's (alerts.go)
		return alertReplayTargets(ctx, st, ev, destID)
	}
	if destID != "" {
		d, err := st.GetDestination(ctx, tenantID, destID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (d.SourceID != ev.SourceID || d.TenantID != ev.TenantID)) {
			return nil, ErrNotOnSource
		}
		if err != nil {
			return nil, err
		}
		return []store.Destination{d}, nil
	}
	all, err := st.ListDestinations(ctx, ev.TenantID, ev.SourceID)
	if err != nil {
		return nil, err
	}
	return Targets(all, ev.Type), nil
}

// credentialName matches env variable names that hold credentials; their
// values are secret whether or not secret_env lists them.
var credentialName = regexp.MustCompile(`(?i)key|token|secret|password|passwd|pwd|auth|credential|signature|cookie|session|private`)

// IsSecretEnv reports whether the env variable k of d is a secret: listed in
// its SecretEnv, or named like a credential. Secret values are given to the
// script but never shown by the API.
func IsSecretEnv(d store.Destination, k string) bool {
	return slices.Contains(d.SecretEnv, k) || credentialName.MatchString(k)
}

// MaskedEnv is d's env as the API shows it, and as a preview's script sees
// it: secret values (IsSecretEnv) replaced by Masked.
func MaskedEnv(d store.Destination) map[string]string {
	env := make(map[string]string, len(d.Env))
	for k, v := range d.Env {
		if IsSecretEnv(d, k) {
			v = Masked
		}
		env[k] = v
	}
	return env
}

// SecretEnvNames are the names of d's env variables that are secret, sorted.
func SecretEnvNames(d store.Destination) []string {
	out := []string{}
	for k := range d.Env {
		if IsSecretEnv(d, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
