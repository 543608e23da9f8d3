// Package httpapi is hookshift's HTTP surface: the webhook receiver, the admin
// API, health and metrics. Handlers validate input, call the store, queue and
// transformer, and write JSON; they hold no business rules of their own.
package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/integrations/egress"
	"github.com/hookshift/hookshift/metrics"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

// Server holds what the handlers need. Zero-valued options take defaults.
type Server struct {
	Store     *store.Store
	Queue     *queue.Client
	Engine    *transformer.Engine
	Egress    egress.Policy
	RootToken string
	Log       zerolog.Logger
	Now       func() time.Time
	Metrics   *metrics.Metrics // nil records nothing
	// /metrics is served on every role, behind the root token (nil: not
	// served; serve's --metrics-addr serves it on a listener of its own,
	// without auth, instead); /monitoring/ only with the api role, behind
	// the root token (nil: not served).
	MetricsHandler    http.Handler
	MonitoringHandler http.Handler

	Console ConsoleOptions // the merchant console (console.go)

	// SourceCacheTTL is how long the receiver reuses a loaded source; 0
	// reads it from Redis on every webhook. serve uses 2s.
	SourceCacheTTL time.Duration

	MaxBodyBytes   int64         // inbound webhook body cap, default 1 MiB
	ReceiveTimeout time.Duration // bound on the receiver's Redis work, default 3s
	RotationGrace  time.Duration // how long a rotated-out secret stays valid, default 24h
	MaxJSONDepth   int           // deepest JSON nesting of an inbound body, default inbound.DefaultMaxDepth (64)
	MaxLiveSecrets int           // live secrets per source (current + rotated in grace), default store.DefaultMaxLiveSecrets (3)
	Limits         rules.Limits  // per-tenant quotas and config field bounds; zero fields take the defaults

	cacheOnce   sync.Once
	sources     *sourceCache
	bodies      sync.Pool // receiver body buffers (receiver.go)
	ingestOnce  sync.Once
	ingest      *queue.IngestBatcher // the receiver's group commit (receiver.go)
	deadLetters *queue.DeadLetters
}

func (s *Server) sourceCache() *sourceCache {
	s.cacheOnce.Do(func() { s.sources = newSourceCache(s.SourceCacheTTL, 10000) })
	return s.sources
}

// ingestBatcher is the receiver's group commit of enqueues and marker
// checks, made on first use; each round trip is bounded by ReceiveTimeout.
func (s *Server) ingestBatcher() *queue.IngestBatcher {
	s.ingestOnce.Do(func() { s.ingest = queue.NewIngestBatcher(s.Queue, s.Store, s.receiveTimeout()) })
	return s.ingest
}

// Roles selects what a process serves.
type Roles struct {
	Receiver bool
	API      bool
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handler returns the routes for the given roles. Health and readiness are
// always served.
func (s *Server) Handler(roles Roles) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	if s.MetricsHandler != nil {
		mux.Handle("GET /metrics", s.rootOnly(s.MetricsHandler.ServeHTTP))
	}
	if s.MonitoringHandler != nil && roles.API {
		mux.Handle("/monitoring/", s.monitoring(s.MonitoringHandler))
	}
	if roles.Receiver {
		mux.HandleFunc("POST /v1/webhooks/{source_id}", s.receive)
	}
	if roles.API {
		s.adminRoutes(mux)
		s.operatorRoutes(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return s.requestID(s.recoverer(mux))
}

type requestIDKey struct{}

// requestID gives every request an id: the caller's X-Request-Id when it is
// a sane token, otherwise a new one. It is echoed in the response and
// carried in the logs, so a merchant's support ticket leads to the log line.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			id = newReceipt()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// reqLog is the server's logger with the request's id.
func (s *Server) reqLog(r *http.Request) zerolog.Logger {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return s.Log.With().Str("request_id", id).Logger()
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "redis_unavailable", "redis does not answer: "+err.Error())
		return
	}
	// Ready, but say what an operator must fix for events to be durable.
	out := map[string]any{"status": "ready"}
	if rs, err := s.Store.RedisSettings(ctx); err == nil {
		warnings := rs.Warnings()
		if warnings == nil {
			warnings = []string{}
		}
		out["redis"] = map[string]any{"aof": rs.AOF, "maxmemory_policy": rs.MaxmemoryPolicy, "warnings": warnings}
	}
	writeJSON(w, http.StatusOK, out)
}

// recoverer turns a handler panic into a 500 (and a log line) instead of a
// dropped connection; nothing is acknowledged by a 500.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error().Interface("panic", v).Str("path", r.URL.Path).Msg("handler panic")
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
