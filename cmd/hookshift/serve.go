package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
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
	"github.com/hookshift/hookshift/internal/redisconn"
	"github.com/hookshift/hookshift/metrics"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

const serveUsage = `usage: hookshift serve [--roles receiver,worker,api] [--NAME VALUE]...

Runs the receiver, the workers, the admin API, /metrics and /monitoring/ in one
process (or the roles given). Without HOOKSHIFT_REDIS_URL it runs an embedded,
throw-away Redis for trying it out. Every flag can come from its environment
variable instead; a flag given on the command line wins.
`

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, fs, err := parseServeFlags(args)
	f := wrapFlags(fs, "serve", serveUsage, stdout, stderr)
	f.envAll = true
	if err != nil {
		return f.parseError(err) // --help, a bad flag, or a bad HOOKSHIFT_ variable
	}
	if fs.NArg() == 1 && fs.Arg(0) == "help" {
		f.printHelp(stdout)
		return 0
	}
	if fs.NArg() > 0 {
		return f.usageError("serve takes no arguments (got %q)", fs.Args())
	}
	log := newLogger(stdout, cfg.LogLevel)
	if err := serve(ctx, cfg, log, stderr); err != nil {
		// A process that never started says why in one line, on stderr.
		if !errors.As(err, new(startError)) {
			log.Error().Err(err).Msg("hookshift stopped")
		}
		fmt.Fprintln(stderr, "hookshift:", err)
		return 1
	}
	return 0
}

// startError is a failure before serve listens: the process never ran.
type startError struct{ error }

func (e startError) Unwrap() error { return e.error }

// embeddedAddr is the default address in embedded (try-it) mode: it prints
// the root token, so it is reachable from this machine only.
const embeddedAddr = "127.0.0.1:8080"

// listenAddr is where serve listens: the address given, else embeddedAddr
// in embedded mode (the flag default, :8080, otherwise).
func listenAddr(cfg config, embedded bool) string {
	if embedded && !cfg.addrSet {
		return embeddedAddr
	}
	return cfg.Addr
}

// startPingTimeout bounds the start-up check that Redis answers.
const startPingTimeout = 5 * time.Second

// pingRedis checks at start that Redis answers, so a wrong address fails
// fast with one line instead of a process that listens and then logs
// connection errors. Once started, serve rides out outages.
func pingRedis(ctx context.Context, rdb redis.UniversalClient, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, startPingTimeout)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cannot reach Redis at %s: %v; start Redis there, or set HOOKSHIFT_REDIS_URL (--redis-url) to a running one (unset it to try hookshift with an embedded, throw-away Redis)", addr, err)
	}
	return nil
}

// warnRedisSettings says loudly, at start, when Redis may lose acknowledged
// events: no AOF, or a maxmemory-policy that evicts. /readyz shows the same.
func warnRedisSettings(ctx context.Context, st *store.Store, log zerolog.Logger, banner io.Writer) {
	rs, err := st.RedisSettings(ctx)
	if err != nil {
		log.Warn().Err(err).Msg("could not read the Redis settings (INFO); check appendonly yes and maxmemory-policy noeviction yourself")
		return
	}
	for _, w := range rs.Warnings() {
		log.Warn().Bool("aof", rs.AOF).Str("maxmemory_policy", rs.MaxmemoryPolicy).Msg(w)
		fmt.Fprintln(banner, "WARNING:", w)
	}
}

func newLogger(w io.Writer, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("service", "hookshift").Logger()
}

func serve(ctx context.Context, cfg config, log zerolog.Logger, banner io.Writer) (err error) {
	listening := false
	defer func() {
		if err != nil && !listening {
			err = startError{err}
		}
	}()
	rl, err := parseRoles(cfg.Roles)
	if err != nil {
		return err
	}
	allow, err := egress.ParseAllow(cfg.EgressAllow)
	if err != nil {
		return err
	}
	embedded := cfg.RedisURL == ""
	// go-redis's own notices, as JSON like ours; silent during the start
	// ping, whose failure is said once, in the error.
	starting := new(atomic.Bool)
	starting.Store(true)
	redis.SetLogger(redisLogger{l: log, quiet: starting})
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
		cfg.Addr = listenAddr(cfg, true)
	} else {
		// One server, a Sentinel group or a cluster (internal/redisconn); the
		// error names what is wrong in the URL, never its password.
		target, err := redisconn.Parse(cfg.RedisURL)
		if err != nil {
			return err
		}
		if cfg.SecretKey == "" {
			return errors.New("HOOKSHIFT_SECRET_KEY is required with a real Redis: it encrypts webhook secrets and API keys at rest (16+ characters, keep it safe and stable)")
		}
		if cfg.AdminToken == "" {
			return errors.New("HOOKSHIFT_ADMIN_TOKEN is required with a real Redis: it is the operator's root token")
		}
		// Short timeouts: with Redis down, or no primary during a failover,
		// the receiver answers 503 fast, never hangs the platform's request.
		// The client follows a failover by itself (asking the sentinels, or
		// the cluster's slot map), so every component here follows too.
		rdb = target.Client(redisconn.ServeOptions)
		if err := pingRedis(ctx, rdb, target.String()); err != nil {
			_ = rdb.Close()
			return err
		}
	}
	starting.Store(false)
	defer rdb.Close()
	sealer, err := store.NewSealer(cfg.SecretKey)
	if err != nil {
		return fmt.Errorf("HOOKSHIFT_SECRET_KEY: %w", err)
	}
	st := store.New(rdb, sealer, store.Options{EventRetention: cfg.EventRetention, DedupeWindow: cfg.DedupeWindow,
		TransformVersions: cfg.TransformVersions, MaxEventStateBytes: cfg.EventStateMaxBytes})
	if !embedded {
		warnRedisSettings(ctx, st, log, banner)
		// Data written before hash-tagged keys is copied once (store/migrate.go).
		if rep, ran, err := st.EnsureLayout(ctx); err != nil {
			return fmt.Errorf("upgrade the Redis key layout (hookshift migrate --help): %w", err)
		} else if ran {
			log.Info().Int("copied", rep.Copied).Int("present", rep.Present).Msg("redis key layout upgraded")
		}
	}
	schedule := queue.DefaultSchedule()
	qc := queue.NewClient(rdb, schedule, queue.WithDurableAck(queue.DurableAck{Replicas: cfg.AckReplicas, Timeout: cfg.AckTimeout})).
		WithDeliveryShards(cfg.DeliveryShards)
	defer qc.Close()
	if err := qc.EnsureQueues(ctx, rdb); err != nil {
		return fmt.Errorf("create the queues: %w", err)
	}
	topts := transformerOptions(cfg)
	topts.Helpers = integrations.ScriptHelpers()
	engine := transformer.New(topts)
	policy := egress.Policy{Allow: allow}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	reg.MustRegister(metrics.QueueCollector{Inspector: insp, Queues: queue.QueuesIn(rdb, cfg.DeliveryShards), Ping: st.Ping},
		&metrics.DestinationCollector{Integrations: integrationNames(), Census: func(ctx context.Context) (map[string]int, map[string]int, error) {
			c, err := st.DestinationCensus(ctx)
			return c.Disabled, c.CircuitOpen, err
		}})
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	var apiMetrics http.Handler = metricsHandler // on the main address, behind the root token
	if cfg.MetricsAddr != "" {
		apiMetrics = nil
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler)
		ms := &http.Server{Addr: cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on --metrics-addr %s: %w", cfg.MetricsAddr, err)
		}
		go func() { _ = ms.Serve(mln) }()
		defer ms.Close()
		log.Info().Str("addr", mln.Addr().String()).Msg("metrics listening (no auth: keep this address private)")
	}

	if rl.worker {
		fan := &queue.FanOut{Store: st, Client: qc, Log: log}
		del := &queue.Deliverer{Store: st, Engine: engine, HTTP: policy.Client(30 * time.Second), Schedule: schedule, Log: log, Metrics: m}
		// alerts: operational events about the tenant's destinations
		if err := checkAlertWindow(cfg); err != nil {
			return err
		}
		del.Alerts = &queue.Alerter{Store: st, Client: qc, Window: cfg.AlertWindow, PublicURL: cmp.Or(cfg.PublicURL, cfg.ConsolePublicURL), Log: log}
		rep := &queue.Replayer{Store: st, Client: qc, Log: log}
		srv, mux := queue.NewServer(rdb, queue.WorkerOptions{Concurrency: cfg.Concurrency, ShutdownTimeout: cfg.ShutdownTimeout, Schedule: schedule, Log: log, DeliveryShards: cfg.DeliveryShards}, fan, del, rep)
		if err := srv.Start(mux); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		// Shutdown waits up to ShutdownTimeout for in-flight tasks, then
		// hands the rest back to the queue: nothing acknowledged is lost.
		defer srv.Shutdown()
	}

	api := &httpapi.Server{Store: st, Queue: qc, Engine: engine, Egress: policy, RootToken: cfg.AdminToken, Log: log,
		MaxBodyBytes: cfg.MaxBodyBytes, SourceCacheTTL: 2 * time.Second, Limits: cfg.Limits, Metrics: m, MetricsHandler: apiMetrics,
		MonitoringHandler: asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: sharedRedis{rdb},
			PayloadFormatter: asynqmon.PayloadFormatterFunc(queue.RedactPayload), ReadOnly: cfg.MonitoringReadOnly})}
	api.MaxJSONDepth, api.MaxLiveSecrets = cfg.MaxJSONDepth, cfg.MaxLiveSecrets // receive path (issue 9)
	api.ReceiveTimeout = cfg.ReceiveTimeout                                     // 503 within it while Redis is away (issue 12)
	closing := make(chan struct{})                                              // ends the console's live streams at shutdown
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
	listening = true
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
type redisLogger struct {
	l     zerolog.Logger
	quiet *atomic.Bool // while true, notices are dropped
}

func (r redisLogger) Printf(_ context.Context, format string, v ...any) {
	if r.quiet != nil && r.quiet.Load() {
		return
	}
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

Try the whole flow (needs curl and jq; the README's tour explains each step). In a
second terminal, from the repository's root, the CLI and a local destination:

  go build -o bin/hookshift ./cmd/hookshift && export PATH="$PWD/bin:$PATH"
  hookshift sink --addr 127.0.0.1:9000

In a third terminal, from the repository's root:

  export PATH="$PWD/bin:$PATH" HS=%[1]s ROOT=%[2]s
  TOKEN=$(curl -s -X POST $HS/v1/tenants -H "Authorization: Bearer $ROOT" -d '{"name":"demo"}' | jq -r .token)
  SRC=$(curl -s -X POST $HS/v1/sources -H "Authorization: Bearer $TOKEN" -d '{"name":"dodo","kind":"standard-webhooks"}')
  SRC_ID=$(echo $SRC | jq -r .id); SECRET=$(echo $SRC | jq -r .secret)
  DST_ID=$(curl -s -X POST $HS/v1/destinations -H "Authorization: Bearer $TOKEN" \
    -d '{"source_id":"'$SRC_ID'","name":"local","integration":"http","url":"http://127.0.0.1:9000/hook"}' | jq -r .id)
  hookshift send --url $HS/v1/webhooks/$SRC_ID --secret $SECRET --id msg_tour_1 testdata/dodo/payment.succeeded.usd.json
  hookshift send --url $HS/v1/webhooks/$SRC_ID --secret $SECRET --id msg_tour_1 testdata/dodo/payment.succeeded.usd.json
  export HOOKSHIFT_API=$HS HOOKSHIFT_TOKEN=$TOKEN
  hookshift events search
  hookshift events show $(hookshift events search --json | jq -r '.data[0].id')

`, base, token)
}

// integrationNames are the catalog's integrations, the label values of the
// destination gauges.
func integrationNames() []string {
	var out []string
	for _, sp := range integrations.Catalog() {
		out = append(out, sp.Name)
	}
	return out
}
