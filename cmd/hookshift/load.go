package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"syscall"
	"time"

	"github.com/hookshift/hookshift/internal/redisconn"
)

// `hookshift load` measures the receiver the way a payment platform loads it:
// every request is a signed event with a fresh webhook-id, so none is a
// duplicate, posted in a closed loop (--concurrency workers, each waiting for
// its answer) or an open loop (--rate requests/s whatever the answers do).
// --baseline runs a bare asynq enqueue of an equivalent task against the same
// Redis, the floor the receiver is compared with; --sink-addr receives the
// deliveries itself and reports end-to-end latency; --redis-url reports the
// Redis bytes kept per accepted event.
//
// It only ever talks to loopback addresses: it is a benchmark, not a traffic
// generator for other people's servers.

const loadUsage = `usage: hookshift load [flags]

Post signed events to a standard-webhooks source and report throughput and
latency. Bounded: it stops after --requests or --duration (default 10s).

  # an existing source
  hookshift load --url http://127.0.0.1:8080/v1/webhooks/src_... --secret whsec_... --concurrency 16 --requests 20000
  # create a tenant and source first (root token), open loop at 2,000/s
  hookshift load --api http://127.0.0.1:8080 --admin-token $ROOT --rate 2000 --duration 30s
  # receiver vs bare asynq enqueue on the same Redis
  hookshift load --compare --url ... --secret ... --redis-url redis://127.0.0.1:6379 --requests 20000
  # end to end: a local sink, a destination pointing at it, delivery latency
  hookshift load --api http://127.0.0.1:8080 --admin-token $ROOT --sink-addr 127.0.0.1:9999 --requests 5000
  # issue 13's ratios in one run: receiver ÷ null net/http handler, end to end ÷ bare asynq processing
  hookshift load --api ... --admin-token $ROOT --compare-http --concurrency 32 --requests 20000
  hookshift load --api ... --admin-token $ROOT --compare-processing --redis-url redis://127.0.0.1:6379 --sink-addr 127.0.0.1:9999
  # end to end ÷ the same requests through the path doing the least it can (bare asynq, one POST per event)
  hookshift load --api ... --admin-token $ROOT --compare-pipeline --redis-url redis://127.0.0.1:6379 --sink-addr 127.0.0.1:9999 --requests 10000
  # ... and ÷ a null handler that stores each body in Redis before answering (the floor of storing first)
  hookshift load --api ... --admin-token $ROOT --compare-http --compare-http-redis --redis-url redis://127.0.0.1:6379 --concurrency 32
`

type loadOptions struct {
	url, secret, eventFile string
	api, adminToken        string
	rate                   float64
	concurrency            int
	duration               time.Duration
	requests               int
	warmup                 int
	timeout                time.Duration
	jsonOut                bool
	baseline, compare      bool
	redisURL               string
	keep                   bool
	sinkAddr               string
	drainTimeout           time.Duration
	// baselines in the same run (load_compare.go)
	compareHTTP, compareProcessing bool
	compareHTTPRedis               bool
	comparePipeline                bool
	varySearchKeys                 bool
	processingTasks                int
	processingConcurrency          int
}

func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o loadOptions
	fs := newCmdFlags("load", loadUsage, stdout, stderr)
	fs.StringVar(&o.url, "url", "", "ingest URL of a standard-webhooks source (loopback only); with --api, the receiver's base URL (default: --api)")
	fs.StringVar(&o.secret, "secret", "", "the source's signing secret (whsec_...)")
	fs.StringVar(&o.eventFile, "event", "testdata/dodo/payment.succeeded.usd.json", "event body to sign and post")
	fs.BoolVar(&o.varySearchKeys, "vary-search-keys", false, "give every request its own customer id, e-mail and payment ids (same lengths), as real traffic has: each event then gets search index entries of its own")
	fs.StringVar(&o.api, "api", "", "admin API base URL: create a fresh tenant and standard-webhooks source (and a destination for --sink-addr) before the run")
	fs.StringVar(&o.adminToken, "admin-token", os.Getenv("HOOKSHIFT_ADMIN_TOKEN"), "root token for --api (HOOKSHIFT_ADMIN_TOKEN)")
	fs.Float64Var(&o.rate, "rate", 0, "requests per second, open loop; 0 = closed loop")
	fs.IntVar(&o.concurrency, "concurrency", 16, "workers (closed loop) or most requests in flight (open loop)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (default 10s unless --requests is set)")
	fs.IntVar(&o.requests, "requests", 0, "stop after this many requests")
	fs.IntVar(&o.warmup, "warmup", 0, "requests sent and not counted before each measured run")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&o.baseline, "baseline", false, "run only the bare asynq enqueue baseline (needs --redis-url)")
	fs.BoolVar(&o.compare, "compare", false, "run the baseline, then the receiver, and print the throughput ratio (needs --redis-url)")
	fs.StringVar(&o.redisURL, "redis-url", "", "the receiver's Redis, any HOOKSHIFT_REDIS_URL form (loopback only): baseline target, and INFO memory before/after for bytes per accepted event")
	fs.BoolVar(&o.keep, "keep-baseline", false, "leave the baseline's tasks in Redis (default: delete them after the run)")
	fs.StringVar(&o.sinkAddr, "sink-addr", "", "run an HTTP sink on this loopback address and measure delivery to it (use with --api, or point a destination at http://ADDR/)")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 2*time.Minute, "with --sink-addr: how long to wait for deliveries after the last request")
	fs.BoolVar(&o.compareHTTP, "compare-http", false, "first run the same load against a built-in null net/http handler (reads the body, answers 202) and print receiver ÷ null handler")
	fs.BoolVar(&o.compareHTTPRedis, "compare-http-redis", false, "first run the same load against a null handler that stores each body in Redis (one RPUSH, waited on) before it answers 202, and print receiver ÷ that handler (needs --redis-url)")
	fs.BoolVar(&o.compareProcessing, "compare-processing", false, "first time bare asynq no-op processing on the same Redis and print end-to-end delivered/s ÷ (its rate ÷ 2 hops) (needs --redis-url and --sink-addr)")
	fs.BoolVar(&o.comparePipeline, "compare-pipeline", false, "first time the same requests through the brief's path doing the least it can on bare asynq (a null receiver enqueues each body, that task enqueues a second, which posts it to a null handler) and print end-to-end delivered/s ÷ its events/s (needs --redis-url, --sink-addr and --requests)")
	fs.IntVar(&o.processingTasks, "processing-tasks", 5000, "with --compare-processing: no-op tasks to run")
	fs.IntVar(&o.processingConcurrency, "processing-concurrency", 64, "with --compare-processing and --compare-pipeline: asynq concurrency of the bare server")
	pos, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return fs.usageError("unexpected argument %q", pos[0])
	}
	if err := o.validate(); err != nil {
		return fs.usageError("%v", err)
	}
	rep, err := runLoad(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "hookshift load:", err)
		return 1
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		rep.print(stdout)
	}
	if rep.failed() {
		return 1
	}
	return 0
}

func (o *loadOptions) validate() error {
	if o.concurrency < 1 {
		return errors.New("--concurrency must be at least 1")
	}
	if o.rate < 0 || o.requests < 0 || o.duration < 0 || o.warmup < 0 {
		return errors.New("--rate, --requests, --duration and --warmup cannot be negative")
	}
	if o.requests == 0 && o.duration == 0 {
		o.duration = 10 * time.Second
	}
	if (o.baseline || o.compare) && o.redisURL == "" {
		return errors.New("--baseline and --compare need --redis-url (the receiver's Redis)")
	}
	if o.compareProcessing && (o.redisURL == "" || o.sinkAddr == "") {
		return errors.New("--compare-processing compares end-to-end delivery with bare asynq on the same Redis: it needs --redis-url and --sink-addr")
	}
	if o.comparePipeline && (o.redisURL == "" || o.sinkAddr == "" || o.requests == 0) {
		return errors.New("--compare-pipeline compares end-to-end delivery with a bare pipeline fed by the same requests on the same Redis: it needs --redis-url, --sink-addr and --requests")
	}
	if o.compareHTTPRedis && o.redisURL == "" {
		return errors.New("--compare-http-redis stores each body in the receiver's Redis: it needs --redis-url")
	}
	if o.processingTasks < 1 || o.processingConcurrency < 1 {
		return errors.New("--processing-tasks and --processing-concurrency must be at least 1")
	}
	if o.baseline && (o.compareHTTP || o.compareHTTPRedis || o.compareProcessing || o.comparePipeline) {
		return errors.New("--baseline runs the bare enqueue alone; use --compare-http, --compare-http-redis, --compare-processing or --compare-pipeline with a receiver run")
	}
	if o.baseline && o.sinkAddr != "" {
		return errors.New("--sink-addr measures deliveries, which the bare baseline does not make")
	}
	if o.redisURL != "" {
		target, err := redisconn.Parse(o.redisURL)
		if err != nil {
			return fmt.Errorf("--redis-url: %w", err)
		}
		for _, a := range target.Addrs { // the sentinels or seed nodes too
			if err := loadLoopbackAddr(a); err != nil {
				return fmt.Errorf("--redis-url: %w", err)
			}
		}
	}
	if o.baseline {
		return nil
	}
	if o.api != "" {
		if err := loadLoopbackURL(o.api); err != nil {
			return fmt.Errorf("--api: %w", err)
		}
		if o.adminToken == "" {
			return errors.New("--api needs --admin-token (or HOOKSHIFT_ADMIN_TOKEN): the root token creates the load test's tenant")
		}
		if o.url == "" {
			o.url = o.api
		}
	} else if o.url == "" || o.secret == "" {
		return errors.New("give --url and --secret of a standard-webhooks source, or --api and --admin-token to create one")
	}
	if err := loadLoopbackURL(o.url); err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	if o.sinkAddr != "" {
		if err := loadLoopbackAddr(o.sinkAddr); err != nil {
			return fmt.Errorf("--sink-addr: %w", err)
		}
	}
	return nil
}

// loopbackURL refuses any URL whose host is not a loopback literal or localhost.
func loadLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	return loadLoopbackHost(u.Hostname())
}

func loadLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	return loadLoopbackHost(host)
}

func loadLoopbackHost(host string) error {
	if host == "localhost" {
		return nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Unmap().IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: the load tool only targets this machine (127.0.0.1, ::1, localhost)", host)
	}
	return nil
}

// loopbackDialer refuses, at connect time, anything but loopback, so that
// neither DNS nor a redirect can send load elsewhere.
var loadLoopbackDialer = &net.Dialer{
	Timeout: 5 * time.Second,
	Control: func(_, address string, _ syscall.RawConn) error {
		return loadLoopbackAddr(address)
	},
}
