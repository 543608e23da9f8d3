package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// config is everything `hookshift serve` can be told, from the environment
// with flag overrides.
type config struct {
	Addr            string
	RedisURL        string
	AdminToken      string
	SecretKey       string
	EgressAllow     string
	Roles           string
	MaxBodyBytes    int64
	DedupeWindow    time.Duration
	EventRetention  time.Duration
	Concurrency     int
	ShutdownTimeout time.Duration
	TransformTime   time.Duration
	LogLevel        string
	// MonitoringReadOnly makes /monitoring/ view-only (no delete, run or archive).
	MonitoringReadOnly bool
	// The merchant console (cmd/hookshift/console.go checks these).
	ConsoleFrameAncestors string
	ConsolePublicURL      string
	ConsoleSessionTTL     time.Duration
	ConsoleLinkTTL        time.Duration
	ConsoleStreams        int
	ConsoleStreamPoll     time.Duration
	ConsoleStreamMaxAge   time.Duration
	TransformVersions     int
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

func parseServeFlags(args []string) (config, *flag.FlagSet, error) {
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
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
	fs.DurationVar(&c.DedupeWindow, "dedupe-window", envDuration("HOOKSHIFT_DEDUPE_WINDOW", 72*time.Hour), "how long a webhook id answers duplicates")
	fs.DurationVar(&c.EventRetention, "event-retention", envDuration("HOOKSHIFT_EVENT_RETENTION", 72*time.Hour), "how long events and attempts are kept")
	fs.IntVar(&c.Concurrency, "concurrency", 20, "worker tasks run at once")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 25*time.Second, "how long in-flight work may drain on SIGTERM")
	fs.DurationVar(&c.TransformTime, "transform-timeout", envDuration("HOOKSHIFT_TRANSFORM_TIMEOUT", time.Second), "wall-time limit of one transform run")
	fs.BoolVar(&c.MonitoringReadOnly, "monitoring-read-only", os.Getenv("HOOKSHIFT_MONITORING_READ_ONLY") == "true", "make the /monitoring/ UI view-only")
	fs.StringVar(&c.LogLevel, "log-level", env("HOOKSHIFT_LOG_LEVEL", "info"), "debug, info, warn or error")
	// The merchant console.
	fs.StringVar(&c.ConsoleFrameAncestors, "console-frame-ancestors", env("HOOKSHIFT_CONSOLE_FRAME_ANCESTORS", ""), "origins allowed to frame /console/, e.g. https://dashboard.example.com; empty refuses framing (HOOKSHIFT_CONSOLE_FRAME_ANCESTORS)")
	fs.StringVar(&c.ConsolePublicURL, "console-public-url", env("HOOKSHIFT_CONSOLE_PUBLIC_URL", ""), "scheme://host portal links point at; empty uses the host the API was called on (HOOKSHIFT_CONSOLE_PUBLIC_URL)")
	fs.DurationVar(&c.ConsoleSessionTTL, "console-session-ttl", envDuration("HOOKSHIFT_CONSOLE_SESSION_TTL", 12*time.Hour), "lifetime of a console session, at most 12h (HOOKSHIFT_CONSOLE_SESSION_TTL)")
	fs.DurationVar(&c.ConsoleLinkTTL, "console-link-ttl", envDuration("HOOKSHIFT_CONSOLE_LINK_TTL", 15*time.Minute), "default lifetime of a portal link (HOOKSHIFT_CONSOLE_LINK_TTL)")
	fs.IntVar(&c.ConsoleStreams, "console-streams-per-session", 3, "open live-update streams per console session")
	fs.DurationVar(&c.ConsoleStreamPoll, "console-stream-poll", 2*time.Second, "how often a live-update stream reads the event log")
	fs.DurationVar(&c.ConsoleStreamMaxAge, "console-stream-max-age", 10*time.Minute, "a live-update stream closes after this; the browser reconnects")
	fs.IntVar(&c.TransformVersions, "transform-versions", 50, "transform versions kept per destination")
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	return c, fs, nil
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
