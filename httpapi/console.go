package httpapi

import (
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/hookshift/hookshift/store"
)

// ConsoleOptions configure the merchant console: its assets, framing,
// sessions and live stream. Zero values take the defaults.
type ConsoleOptions struct {
	// Assets holds the built front-end with index.html at its root; nil
	// serves no /console/ pages (the console's API still works).
	Assets fs.FS
	// FrameAncestors are the CSP frame-ancestors sources allowed to frame the
	// console (HOOKSHIFT_CONSOLE_FRAME_ANCESTORS); empty refuses framing.
	FrameAncestors []string
	// PublicURL is the scheme://host portal links point at; empty uses the
	// host the caller of POST /v1/portal-links reached.
	PublicURL  string
	SessionTTL time.Duration // lifetime of a console session, default 12h
	LinkTTL    time.Duration // default lifetime of a portal link, default 15m

	StreamPoll        time.Duration // how often a live stream reads the event index, default 2s
	StreamHeartbeat   time.Duration // idle comment to keep proxies from closing a stream, default 15s
	StreamMaxAge      time.Duration // a stream closes after this (the browser reconnects), default 10m
	StreamsPerSession int           // open streams per session (or bearer tenant), default 3
	// Closing, once closed, ends every open stream: serve closes it when the
	// HTTP server shuts down, which would otherwise wait for the streams.
	Closing <-chan struct{}
}

func (o ConsoleOptions) sessionTTL() time.Duration { return orDefault(o.SessionTTL, 12*time.Hour) }
func (o ConsoleOptions) linkTTL() time.Duration    { return orDefault(o.LinkTTL, 15*time.Minute) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// consoleRoutes registers the console: its pages, its sign-in and session
// endpoints, and the tenant API it adds (versions, samples, portal links,
// the live stream).
func (s *Server) consoleRoutes(mux *http.ServeMux) {
	// The root token may mint a link for any tenant, and may come as a
	// browser's basic auth (rootOnly): a cross-site request is refused.
	mux.Handle("POST /v1/portal-links", s.sameOriginOnly(http.HandlerFunc(s.createPortalLink)))
	mux.HandleFunc("GET "+portalAuthPath, s.openPortalLink)
	mux.HandleFunc("POST /console/auth/token", s.signInWithToken)
	mux.HandleFunc("GET /console/api/session", s.getSession)
	mux.HandleFunc("POST /console/api/logout", s.logout)
	mux.HandleFunc("GET /console/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})

	mux.HandleFunc("GET /v1/destinations/{id}/transform/versions", s.tenantOnly(s.listTransformVersions))
	mux.HandleFunc("POST /v1/destinations/{id}/transform/rollback", s.tenantOnly(s.rollbackTransform))
	mux.HandleFunc("GET /v1/samples", s.tenantOnly(s.listSamples))
	streams := newStreamLimiter(s.Console.StreamsPerSession)
	mux.HandleFunc("GET /v1/events/stream", s.tenantOnly(func(w http.ResponseWriter, r *http.Request, t store.Tenant) {
		s.streamEvents(w, r, t, streams)
	}))

	if s.Console.Assets == nil {
		return
	}
	sh, err := newShell(s.Console.Assets, s.Console.FrameAncestors)
	if err != nil {
		s.Log.Error().Err(err).Msg("console assets unusable; /console/ is not served")
		return
	}
	mux.Handle("GET /console/", sh)
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
	})
}

// ParseFrameAncestors reads HOOKSHIFT_CONSOLE_FRAME_ANCESTORS: sources
// separated by commas or spaces, each 'self' or scheme://host[:port] (a
// leading *. in the host allowed). Anything else is refused rather than
// pasted into the Content-Security-Policy.
func ParseFrameAncestors(v string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if f == "'self'" {
			out = append(out, f)
			continue
		}
		scheme, host, ok := strings.Cut(f, "://")
		if !ok || (scheme != "https" && scheme != "http") || host == "" ||
			strings.ContainsAny(host, "/;'\"\\?#@") || strings.Contains(strings.TrimPrefix(host, "*."), "*") {
			return nil, fmt.Errorf("console frame ancestor %q: want 'self' or https://host[:port] (e.g. https://dashboard.example.com)", f)
		}
		out = append(out, f)
	}
	return out, nil
}
