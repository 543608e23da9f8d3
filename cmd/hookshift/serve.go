package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/console"
	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/egress"
	"github.com/hookshift/hookshift/metrics"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, _, err := parseServeFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := newLogger(stdout, cfg.LogLevel)
	if err := serve(ctx, cfg, log, stderr); err != nil {
		log.Error().Err(err).Msg("hookshift stopped")
		fmt.Fprintln(stderr, "hookshift:", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("service", "hookshift").Logger()
}

func serve(ctx context.Context, cfg config, log zerolog.Logger, banner io.Writer) error {
	rl, err := parseRoles(cfg.Roles)
	if err != nil {
		return err
	}
	allow, err := egress.ParseAllow(cfg.EgressAllow)
	if err != nil {
		return err
	}
	embedded := cfg.RedisURL == ""
	var rdb redis.UniversalClient
	if embedded {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		defer mr.Close()
		rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
		if cfg.SecretKey == "" {
			cfg.SecretKey = randomToken()
		}
		if cfg.AdminToken == "" {
			cfg.AdminToken = "hsroot_" + randomToken()
		}
		if cfg.EgressAllow == "" {
			// Try-it mode delivers to a local sink; production never does this.
			allow, _ = egress.ParseAllow("127.0.0.0/8")
		}
	} else {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("HOOKSHIFT_REDIS_URL: %w; expected redis://[user:password@]host:port/db or rediss://...", err)
		}
		// Short timeouts: with Redis down the receiver must answer 503 fast,
		// never hang the platform's request.
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = time.Second, 2*time.Second, 2*time.Second, 2*time.Second
		rdb = redis.NewClient(opt)
		if cfg.SecretKey == "" {
			return errors.New("HOOKSHIFT_SECRET_KEY is required with a real Redis: it encrypts webhook secrets and API keys at rest (16+ characters, keep it safe and stable)")
		}
		if cfg.AdminToken == "" {
			return errors.New("HOOKSHIFT_ADMIN_TOKEN is required with a real Redis: it is the operator's root token")
		}
	}
	defer rdb.Close()
	redis.SetLogger(redisLogger{log}) // go-redis's own notices, as JSON like ours
	sealer, err := store.NewSealer(cfg.SecretKey)
	if err != nil {
		return fmt.Errorf("HOOKSHIFT_SECRET_KEY: %w", err)
	}
	st := store.New(rdb, sealer, store.Options{EventRetention: cfg.EventRetention, DedupeWindow: cfg.DedupeWindow,
		TransformVersions: cfg.TransformVersions})
	schedule := queue.DefaultSchedule()
	qc := queue.NewClient(rdb, schedule)
	defer qc.Close()
	engine := transformer.New(transformer.Options{Timeout: cfg.TransformTime, Helpers: integrations.ScriptHelpers()})
	policy := egress.Policy{Allow: allow}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	reg.MustRegister(metrics.QueueCollector{Inspector: insp, Queues: []string{queue.QueueIngest, queue.QueueFanout, queue.QueueDelivery}})

	if rl.worker {
		fan := &queue.FanOut{Store: st, Client: qc, Log: log}
		del := &queue.Deliverer{Store: st, Engine: engine, HTTP: policy.Client(30 * time.Second), Schedule: schedule, Log: log, Metrics: m}
		rep := &queue.Replayer{Store: st, Client: qc, Log: log}
		srv, mux := queue.NewServer(rdb, queue.WorkerOptions{Concurrency: cfg.Concurrency, ShutdownTimeout: cfg.ShutdownTimeout, Schedule: schedule, Log: log}, fan, del, rep)
		if err := srv.Start(mux); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		// Shutdown waits up to ShutdownTimeout for in-flight tasks, then
		// hands the rest back to the queue: nothing acknowledged is lost.
		defer srv.Shutdown()
	}

	api := &httpapi.Server{Store: st, Queue: qc, Engine: engine, Egress: policy, RootToken: cfg.AdminToken, Log: log,
		MaxBodyBytes: cfg.MaxBodyBytes, SourceCacheTTL: 2 * time.Second, Metrics: m, MetricsHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		MonitoringHandler: asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: sharedRedis{rdb},
			PayloadFormatter: asynqmon.PayloadFormatterFunc(queue.RedactPayload), ReadOnly: cfg.MonitoringReadOnly})}
	closing := make(chan struct{}) // ends the console's live streams at shutdown
	// The console's front end is the bundle embedded from console/dist.
	if api.Console, err = consoleOptions(cfg, console.FS(), closing); err != nil {
		return err
	}
	hs := &http.Server{Addr: cfg.Addr, Handler: api.Handler(httpapi.Roles{Receiver: rl.receiver, API: rl.api}),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	hs.RegisterOnShutdown(func() { close(closing) })
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info().Str("addr", ln.Addr().String()).Str("roles", cfg.Roles).Bool("embedded_redis", embedded).Msg("hookshift listening")
	if embedded {
		printEmbeddedBanner(banner, ln.Addr().String(), cfg.AdminToken)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down: draining requests and in-flight tasks")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return nil
}

// redisLogger routes go-redis's internal notices (reconnects, pool errors)
// into the process log.
type redisLogger struct{ l zerolog.Logger }

func (r redisLogger) Printf(_ context.Context, format string, v ...any) {
	r.l.Warn().Str("component", "redis").Msgf(format, v...)
}

// sharedRedis hands asynqmon the process's Redis client instead of a second
// connection pool.
type sharedRedis struct{ c redis.UniversalClient }

// MakeRedisClient implements asynq.RedisConnOpt.
func (s sharedRedis) MakeRedisClient() any { return s.c }

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func printEmbeddedBanner(w io.Writer, addr, token string) {
	host := addr
	if strings.HasPrefix(host, "[::]") || strings.HasPrefix(host, "0.0.0.0") || strings.HasPrefix(host, ":") {
		host = "localhost" + host[strings.LastIndex(host, ":"):]
	}
	base := "http://" + host
	fmt.Fprintf(w, `
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  EMBEDDED MODE: HOOKSHIFT_REDIS_URL is not set. Redis runs in memory     !!
!!  inside this process. EVERYTHING IS LOST AT EXIT. For trying out only.   !!
!!  Destinations may reach 127.0.0.0/8 (unless HOOKSHIFT_EGRESS_ALLOW set). !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

Root token: %[2]s
Console:    %[1]s/console/ (sign in with a tenant token, made below)

Try the whole flow (needs curl and jq). In a second terminal, a local destination:

  go run ./cmd/hookshift sink --addr 127.0.0.1:9000

In a third terminal:

  export HS=%[1]s ROOT=%[2]s
  TOKEN=$(curl -s -X POST $HS/v1/tenants -H "Authorization: Bearer $ROOT" -d '{"name":"demo"}' | jq -r .token)
  SRC=$(curl -s -X POST $HS/v1/sources -H "Authorization: Bearer $TOKEN" -d '{"name":"dodo","kind":"standard-webhooks"}')
  SRC_ID=$(echo $SRC | jq -r .id); SECRET=$(echo $SRC | jq -r .secret)
  curl -s -X POST $HS/v1/destinations -H "Authorization: Bearer $TOKEN" \
    -d '{"source_id":"'$SRC_ID'","name":"local","integration":"http","url":"http://127.0.0.1:9000/hook"}'
  go run ./cmd/hookshift send --url $HS/v1/webhooks/$SRC_ID --secret $SECRET testdata/dodo/payment.succeeded.usd.json
  EVT=$(curl -s $HS/v1/events -H "Authorization: Bearer $TOKEN" | jq -r '.data[0].id')
  curl -s $HS/v1/events/$EVT -H "Authorization: Bearer $TOKEN" | jq .deliveries

`, base, token)
}
