package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
)

// config is everything `hookshift serve` can be told, from the environment
// with flag overrides.
type config struct {
	Addr           string
	RedisURL       string
	AdminToken     string
	SecretKey      string
	EgressAllow    string
	Roles          string
	MaxBodyBytes   int64
	DedupeWindow   time.Duration
	EventRetention time.Duration
	// EventStateMaxBytes bounds an event's stored deliveries and attempts (store.Options.MaxEventStateBytes).
	EventStateMaxBytes int
	Concurrency        int
	ShutdownTimeout    time.Duration
	TransformTime      time.Duration
	LogLevel           string
	// MonitoringReadOnly makes /monitoring/ view-only (no delete, run or archive).
	MonitoringReadOnly bool
	// operators
	MetricsAddr string // own listener for /metrics, without auth; empty serves it on Addr behind the root token
	addrSet     bool   // --addr or HOOKSHIFT_ADDR was given; embedded mode binds 127.0.0.1:8080 otherwise
	// receive path (issue 9): nesting of inbound JSON, live secrets per source
	MaxJSONDepth   int
	MaxLiveSecrets int
	// Limits are the per-tenant quotas and config field bounds (rules.Limits).
	Limits rules.Limits
	// The merchant console (cmd/hookshift/console.go checks these).
	ConsoleFrameAncestors string
	ConsolePublicURL      string
	ConsoleSessionTTL     time.Duration
	ConsoleLinkTTL        time.Duration
	ConsoleStreams        int
	ConsoleStreamPoll     time.Duration
	ConsoleStreamMaxAge   time.Duration
	TransformVersions     int
	// transformer fairness: one tenant's runs at once per pool, and the preview pool's size (0: defaults)
	TransformTenantRuns  int
	TransformPreviewRuns int
	// TransformLimits are the sandbox's size and memory limits (config_transform.go).
	TransformLimits transformLimits
	// alerts (issue 14): one alert per destination and type per window; links to the console
	AlertWindow time.Duration
	PublicURL   string
	// Redis Cluster (issue 12): delivery queues, chosen by destination
	DeliveryShards int
	// durable acknowledgement (issue 12; config_ack.go)
	AckReplicas int
	AckTimeout  time.Duration
	// Redis topologies (issue 12; config_topology.go): the receiver's bound on its Redis work
	ReceiveTimeout time.Duration
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// envIntDefault reads an integer from the environment, def if unset or not
// an integer.
func envIntDefault(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func parseServeFlags(args []string) (config, *flag.FlagSet, error) {
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // cmdServe prints errors and --help (flags.go)
	fs.StringVar(&c.Addr, "hookshift-addr", env("HOOKSHIFT_ADDR", ":8080"), "listen address (HOOKSHIFT_ADDR)")
	fs.StringVar(&c.RedisURL, "hookshift-redis-url", env("HOOKSHIFT_REDIS_URL", ""), "redis:// or rediss:// URL; empty runs an embedded, throw-away Redis (HOOKSHIFT_REDIS_URL)")
	fs.StringVar(&c.AdminToken, "hookshift-admin-token", env("HOOKSHIFT_ADMIN_TOKEN", ""), "operator root token (HOOKSHIFT_ADMIN_TOKEN)")
	fs.StringVar(&c.SecretKey, "hookshift-secret-key", env("HOOKSHIFT_SECRET_KEY", ""), "key that encrypts secrets at rest, 16+ characters (HOOKSHIFT_SECRET_KEY)")
	fs.StringVar(&c.EgressAllow, "hookshift-egress-allow", env("HOOKSHIFT_EGRESS_ALLOW", ""), "CIDRs destinations may reach although private (HOOKSHIFT_EGRESS_ALLOW)")
	// The same settings under short names: --addr, --redis-url, ...
	for _, a := range []struct {
		p    *string
		name string
	}{{&c.Addr, "addr"}, {&c.RedisURL, "redis-url"}, {&c.AdminToken, "admin-token"}, {&c.SecretKey, "secret-key"}, {&c.EgressAllow, "egress-allow"}} {
		fs.StringVar(a.p, a.name, *a.p, "same as --hookshift-"+a.name)
	}
	fs.StringVar(&c.Roles, "roles", env("HOOKSHIFT_ROLES", "receiver,worker,api"), "comma list of receiver, worker, api")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 1<<20, "largest inbound webhook body")
	fs.DurationVar(&c.DedupeWindow, "dedupe-window", envDuration("HOOKSHIFT_DEDUPE_WINDOW", 72*time.Hour), "how long a webhook id answers duplicates, at least: an event kept (--event-retention) answers them as long as it is kept; at least 1m")
	fs.DurationVar(&c.EventRetention, "event-retention", envDuration("HOOKSHIFT_EVENT_RETENTION", 72*time.Hour), "how long events and attempts are kept; at least the delivery retry schedule (34h)")
	fs.IntVar(&c.EventStateMaxBytes, "event-state-max-bytes", receiveEnvInt("HOOKSHIFT_EVENT_STATE_MAX_BYTES", store.DefaultMaxEventStateBytes),
		fmt.Sprintf("most bytes of deliveries and attempts one event keeps, %d to %d: a delivery's oldest attempts go first (HOOKSHIFT_EVENT_STATE_MAX_BYTES)", minEventStateBytes, maxEventStateBytes))
	fs.IntVar(&c.Concurrency, "concurrency", 20, "worker tasks run at once")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 25*time.Second, "how long in-flight work may drain on SIGTERM")
	fs.DurationVar(&c.TransformTime, "transform-timeout", envDuration("HOOKSHIFT_TRANSFORM_TIMEOUT", time.Second), "wall-time limit of one transform run")
	fs.BoolVar(&c.MonitoringReadOnly, "monitoring-read-only", os.Getenv("HOOKSHIFT_MONITORING_READ_ONLY") == "true", "make the /monitoring/ UI view-only")
	fs.StringVar(&c.LogLevel, "log-level", env("HOOKSHIFT_LOG_LEVEL", "info"), "debug, info, warn or error")
	// operators
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("HOOKSHIFT_METRICS_ADDR", ""), "serve /metrics here, without auth (keep it private); empty serves it on the main address behind the root token (HOOKSHIFT_METRICS_ADDR)")
	// receive path (issue 9)
	fs.IntVar(&c.MaxJSONDepth, "max-json-depth", receiveEnvInt("HOOKSHIFT_MAX_JSON_DEPTH", inbound.DefaultMaxDepth), fmt.Sprintf("deepest JSON nesting of an inbound webhook body, 1 to %d (HOOKSHIFT_MAX_JSON_DEPTH)", inbound.MaxDepthCeiling))
	fs.IntVar(&c.MaxLiveSecrets, "max-live-secrets", receiveEnvInt("HOOKSHIFT_MAX_LIVE_SECRETS", store.DefaultMaxLiveSecrets), "secrets a source may hold at once: the current one and rotated-out ones in their grace window, 2 to 16 (HOOKSHIFT_MAX_LIVE_SECRETS)")
	// Tenant quotas and config bounds (package rules).
	lim := rules.DefaultLimits()
	for _, l := range []struct {
		p          *int
		name, help string
		def        int
	}{
		{&c.Limits.MaxSources, "max-sources-per-tenant", "sources one tenant may have", lim.MaxSources},
		{&c.Limits.MaxDestinations, "max-destinations-per-tenant", "destinations one tenant may have", lim.MaxDestinations},
		{&c.Limits.MaxNameChars, "max-name-chars", "characters of a tenant's, source's or destination's name", lim.MaxNameChars},
		{&c.Limits.MaxURLBytes, "max-url-bytes", "bytes of a destination URL", lim.MaxURLBytes},
		{&c.Limits.MaxHeaders, "max-headers", "headers of a destination", lim.MaxHeaders},
		{&c.Limits.MaxHeaderBytes, "max-header-bytes", "bytes of a destination's header names and values together", lim.MaxHeaderBytes},
		{&c.Limits.MaxEnv, "max-env", "env variables of a destination", lim.MaxEnv},
		{&c.Limits.MaxEnvBytes, "max-env-bytes", "bytes of a destination's env names and values together", lim.MaxEnvBytes},
		{&c.Limits.MaxConfigBytes, "max-config-bytes", "bytes of a destination's config, or a source's config JSON", lim.MaxConfigBytes},
		{&c.Limits.MaxEventTypes, "max-event-types", "entries of a destination's event_types filter", lim.MaxEventTypes},
	} {
		ev := "HOOKSHIFT_" + strings.ToUpper(strings.ReplaceAll(l.name, "-", "_"))
		fs.IntVar(l.p, l.name, envLimit(ev, l.def), "most "+l.help+" ("+ev+")")
	}
	// The merchant console.
	fs.StringVar(&c.ConsoleFrameAncestors, "console-frame-ancestors", env("HOOKSHIFT_CONSOLE_FRAME_ANCESTORS", ""), "origins allowed to frame /console/, e.g. https://dashboard.example.com; empty refuses framing (HOOKSHIFT_CONSOLE_FRAME_ANCESTORS)")
	fs.StringVar(&c.ConsolePublicURL, "console-public-url", env("HOOKSHIFT_CONSOLE_PUBLIC_URL", ""), "scheme://host portal links point at; empty uses the host the API was called on (HOOKSHIFT_CONSOLE_PUBLIC_URL)")
	fs.DurationVar(&c.ConsoleSessionTTL, "console-session-ttl", envDuration("HOOKSHIFT_CONSOLE_SESSION_TTL", 12*time.Hour), "lifetime of a console session, at most 12h (HOOKSHIFT_CONSOLE_SESSION_TTL)")
	fs.DurationVar(&c.ConsoleLinkTTL, "console-link-ttl", envDuration("HOOKSHIFT_CONSOLE_LINK_TTL", 15*time.Minute), "default lifetime of a portal link (HOOKSHIFT_CONSOLE_LINK_TTL)")
	fs.IntVar(&c.ConsoleStreams, "console-streams-per-session", 3, "open live-update streams per console session")
	fs.DurationVar(&c.ConsoleStreamPoll, "console-stream-poll", 2*time.Second, "how often a live-update stream reads the event log")
	fs.DurationVar(&c.ConsoleStreamMaxAge, "console-stream-max-age", 10*time.Minute, "a live-update stream closes after this; the browser reconnects")
	fs.IntVar(&c.TransformVersions, "transform-versions", 50, "transform versions kept per destination")
	// transformer fairness
	fs.IntVar(&c.TransformTenantRuns, "transform-tenant-runs", envIntDefault("HOOKSHIFT_TRANSFORM_TENANT_RUNS", 0), "one tenant's transform runs at once, in each of the delivery and preview pools; 0: half of the pool (HOOKSHIFT_TRANSFORM_TENANT_RUNS)")
	fs.IntVar(&c.TransformPreviewRuns, "transform-preview-runs", envIntDefault("HOOKSHIFT_TRANSFORM_PREVIEW_RUNS", 0), "transform test (preview) runs at once, apart from deliveries; 0: max(2, cores/2) (HOOKSHIFT_TRANSFORM_PREVIEW_RUNS)")
	registerTransformLimits(fs, &c.TransformLimits)
	// alerts
	fs.DurationVar(&c.AlertWindow, "alert-window", queue.DefaultAlertWindow, "at most one alert per destination and type in this window; the rest are counted into the next (HOOKSHIFT_ALERT_WINDOW)")
	fs.StringVar(&c.PublicURL, "public-url", "", "scheme://host of the console that alerts link to; empty uses --console-public-url, else no links (HOOKSHIFT_PUBLIC_URL)")
	// Redis Cluster (issue 12)
	fs.IntVar(&c.DeliveryShards, "delivery-shards", 1, fmt.Sprintf("delivery queues, chosen by destination, so that on a Redis Cluster they spread over the masters; 1 to %d (HOOKSHIFT_DELIVERY_SHARDS)", queue.MaxDeliveryShards))
	// durable acknowledgement
	fs.IntVar(&c.AckReplicas, "ack-replicas", 0, "answer 2xx only once this many replicas hold the event's task as well as the primary (HOOKSHIFT_ACK_REPLICAS)")
	fs.DurationVar(&c.AckTimeout, "ack-timeout", queue.DefaultAckTimeout, "how long the receiver waits for --ack-replicas before answering 503 (HOOKSHIFT_ACK_TIMEOUT)")
	// Redis topologies
	fs.DurationVar(&c.ReceiveTimeout, "receive-timeout", defaultReceiveTimeout, "the receiver's bound on its Redis work: with Redis (or the Sentinel primary) away, a webhook is answered 503 within it (HOOKSHIFT_RECEIVE_TIMEOUT)")
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	_, c.addrSet = os.LookupEnv("HOOKSHIFT_ADDR")
	fs.Visit(func(f *flag.Flag) { c.addrSet = c.addrSet || f.Name == "addr" || f.Name == "hookshift-addr" })
	// Every flag also reads HOOKSHIFT_<NAME>, set or not above (flags.go).
	if err := applyEnv(fs); err != nil {
		return c, fs, err
	}
	if err := checkAck(c); err != nil {
		return c, fs, err
	}
	if c.DeliveryShards < 1 || c.DeliveryShards > queue.MaxDeliveryShards {
		return c, fs, fmt.Errorf("--delivery-shards (HOOKSHIFT_DELIVERY_SHARDS) is %d; expected 1 to %d", c.DeliveryShards, queue.MaxDeliveryShards)
	}
	if err := checkReceiveTimeout(c); err != nil {
		return c, fs, err
	}
	if err := checkRetention(c, queue.DefaultSchedule()); err != nil {
		return c, fs, err
	}
	return c, fs, checkReceiveLimits(c)
}

type roles struct{ receiver, worker, api bool }

func parseRoles(s string) (roles, error) {
	var r roles
	for _, p := range strings.Split(s, ",") {
		switch strings.TrimSpace(p) {
		case "receiver":
			r.receiver = true
		case "worker":
			r.worker = true
		case "api":
			r.api = true
		case "":
		default:
			return r, fmt.Errorf("--roles: unknown role %q; expected a comma list of receiver, worker, api", p)
		}
	}
	if !r.receiver && !r.worker && !r.api {
		return r, fmt.Errorf("--roles: no role given; expected a comma list of receiver, worker, api")
	}
	return r, nil
}

// envLimit reads a positive whole number from the environment, or def.
func envLimit(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
