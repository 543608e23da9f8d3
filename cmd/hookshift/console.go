package main

import (
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/hookshift/hookshift/httpapi"
)

// Bounds of the console's operator settings.
const (
	maxConsoleSession = 12 * time.Hour
	maxConsoleLinkTTL = 24 * time.Hour
)

// consoleOptions checks the console's flags and builds the API's options;
// assets is the front-end bundle (index.html at its root), nil for none.
func consoleOptions(cfg config, assets fs.FS, closing <-chan struct{}) (httpapi.ConsoleOptions, error) {
	anc, err := httpapi.ParseFrameAncestors(cfg.ConsoleFrameAncestors)
	if err != nil {
		return httpapi.ConsoleOptions{}, fmt.Errorf("HOOKSHIFT_CONSOLE_FRAME_ANCESTORS: %w", err)
	}
	if cfg.ConsolePublicURL != "" {
		u, err := url.Parse(cfg.ConsolePublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return httpapi.ConsoleOptions{}, fmt.Errorf("HOOKSHIFT_CONSOLE_PUBLIC_URL %q: want scheme://host[:port], e.g. https://hooks.example.com", cfg.ConsolePublicURL)
		}
	}
	if cfg.ConsoleSessionTTL < time.Minute || cfg.ConsoleSessionTTL > maxConsoleSession {
		return httpapi.ConsoleOptions{}, fmt.Errorf("--console-session-ttl %v: want 1m to 12h", cfg.ConsoleSessionTTL)
	}
	if cfg.ConsoleLinkTTL < time.Minute || cfg.ConsoleLinkTTL > maxConsoleLinkTTL {
		return httpapi.ConsoleOptions{}, fmt.Errorf("--console-link-ttl %v: want 1m to 24h", cfg.ConsoleLinkTTL)
	}
	if cfg.ConsoleStreams < 1 || cfg.ConsoleStreams > 100 {
		return httpapi.ConsoleOptions{}, fmt.Errorf("--console-streams-per-session %d: want 1 to 100", cfg.ConsoleStreams)
	}
	if cfg.ConsoleStreamPoll < 100*time.Millisecond || cfg.ConsoleStreamPoll > time.Minute {
		return httpapi.ConsoleOptions{}, fmt.Errorf("--console-stream-poll %v: want 100ms to 1m", cfg.ConsoleStreamPoll)
	}
	if cfg.ConsoleStreamMaxAge < time.Minute || cfg.ConsoleStreamMaxAge > 24*time.Hour {
		return httpapi.ConsoleOptions{}, fmt.Errorf("--console-stream-max-age %v: want 1m to 24h", cfg.ConsoleStreamMaxAge)
	}
	if cfg.TransformVersions < 1 || cfg.TransformVersions > 1000 {
		return httpapi.ConsoleOptions{}, fmt.Errorf("--transform-versions %d: want 1 to 1000", cfg.TransformVersions)
	}
	return httpapi.ConsoleOptions{Assets: assets, FrameAncestors: anc, PublicURL: cfg.ConsolePublicURL,
		SessionTTL: cfg.ConsoleSessionTTL, LinkTTL: cfg.ConsoleLinkTTL, StreamPoll: cfg.ConsoleStreamPoll,
		StreamMaxAge: cfg.ConsoleStreamMaxAge, StreamsPerSession: cfg.ConsoleStreams, Closing: closing}, nil
}
