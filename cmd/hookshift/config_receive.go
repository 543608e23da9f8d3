package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/hookshift/hookshift/integrations/inbound"
)

// maxLiveSecretsCeiling bounds --max-live-secrets: every live secret costs
// one pass over each inbound body.
const maxLiveSecretsCeiling = 16

// The bounds of --event-state-max-bytes: room for a few attempts at least,
// and at most what Redis can rewrite on every attempt without holding up
// other clients for long.
const (
	minEventStateBytes = 4 << 10
	maxEventStateBytes = 4 << 20
)

// receiveEnvInt reads an integer setting of the receive path from the
// environment; a value that is not an integer is kept as -1 so that
// checkReceiveLimits names it instead of silently using the default.
func receiveEnvInt(name string, def int) int {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// checkReceiveLimits refuses receive-path and storage limits outside their range.
func checkReceiveLimits(c config) error {
	if c.MaxJSONDepth < 1 || c.MaxJSONDepth > inbound.MaxDepthCeiling {
		return fmt.Errorf("--max-json-depth (HOOKSHIFT_MAX_JSON_DEPTH) is %d; expected an integer from 1 to %d", c.MaxJSONDepth, inbound.MaxDepthCeiling)
	}
	if c.EventStateMaxBytes < minEventStateBytes || c.EventStateMaxBytes > maxEventStateBytes {
		return fmt.Errorf("--event-state-max-bytes (HOOKSHIFT_EVENT_STATE_MAX_BYTES) is %d; expected an integer from %d to %d (every attempt rewrites the event's key, up to this size)", c.EventStateMaxBytes, minEventStateBytes, maxEventStateBytes)
	}
	if c.MaxLiveSecrets < 2 || c.MaxLiveSecrets > maxLiveSecretsCeiling {
		return fmt.Errorf("--max-live-secrets (HOOKSHIFT_MAX_LIVE_SECRETS) is %d; expected an integer from 2 to %d (the new secret and the one it replaces, at least)", c.MaxLiveSecrets, maxLiveSecretsCeiling)
	}
	return nil
}
