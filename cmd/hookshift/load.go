package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
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

Flags:
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
}

func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o loadOptions
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, loadUsage); fs.PrintDefaults() }
	fs.StringVar(&o.url, "url", "", "ingest URL of a standard-webhooks source (loopback only); with --api, the receiver's base URL (default: --api)")
	fs.StringVar(&o.secret, "secret", "", "the source's signing secret (whsec_...)")
	fs.StringVar(&o.eventFile, "event", "testdata/dodo/payment.succeeded.usd.json", "event body to sign and post")
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
	fs.StringVar(&o.redisURL, "redis-url", "", "the receiver's Redis (loopback only): baseline target, and INFO memory before/after for bytes per accepted event")
	fs.BoolVar(&o.keep, "keep-baseline", false, "leave the baseline's tasks in Redis (default: delete them after the run)")
	fs.StringVar(&o.sinkAddr, "sink-addr", "", "run an HTTP sink on this loopback address and measure delivery to it (use with --api, or point a destination at http://ADDR/)")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 2*time.Minute, "with --sink-addr: how long to wait for deliveries after the last request")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "hookshift load: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := o.validate(); err != nil {
		fmt.Fprintln(stderr, "hookshift load:", err)
		return 2
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
	if o.baseline && o.sinkAddr != "" {
		return errors.New("--sink-addr measures deliveries, which the bare baseline does not make")
	}
	if o.redisURL != "" {
		if err := loadLoopbackURL(o.redisURL); err != nil {
			return fmt.Errorf("--redis-url: %w", err)
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

// ---------------------------------------------------------------- report

// latencyMS summarises recorded durations, in milliseconds.
type loadLatency struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// runStats is one measured run.
type loadRunStats struct {
	Target      string  `json:"target"` // receiver or baseline
	Loop        string  `json:"loop"`   // closed or open
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate,omitempty"` // requested, open loop
	Requests    int     `json:"requests"`
	Accepted    int     `json:"accepted"` // 2xx (receiver) or enqueued (baseline)
	Duplicates  int     `json:"duplicates"`
	Errors      int     `json:"errors"` // non-2xx answers and transport errors
	// StatusCodes counts answers by HTTP status; "transport" counts requests
	// with no answer (refused, reset, timed out), "enqueued"/"error" the baseline's.
	StatusCodes map[string]int `json:"status_codes"`
	FirstError  string         `json:"first_error,omitempty"`
	ElapsedSec  float64        `json:"elapsed_s"`
	Throughput  float64        `json:"throughput_rps"` // completed requests per second
	AcceptedRPS float64        `json:"accepted_rps"`
	// Latency is measured from the request's start; in an open loop, from
	// its scheduled start, so a stalled server is not hidden by the load
	// generator waiting for it (coordinated omission).
	Latency loadLatency `json:"latency_ms"`
	// Service is the open loop's latency from the actual send, excluding
	// time spent waiting for a free worker.
	Service *loadLatency `json:"service_ms,omitempty"`
	// PrepareMicros is the mean time to build and sign one request, which
	// is done before its timer starts.
	PrepareMicros float64 `json:"prepare_us"`
}

type loadDeliveryStats struct {
	Accepted    int     `json:"accepted"`
	Delivered   int     `json:"delivered"`
	Missing     int     `json:"missing"`   // accepted, not delivered within --drain-timeout
	Repeats     int     `json:"repeats"`   // extra requests for an event already delivered
	Untracked   int     `json:"untracked"` // deliveries of events this run did not send (warm-up, older runs)
	ElapsedSec  float64 `json:"elapsed_s"` // first send to last delivery
	DeliveredPS float64 `json:"delivered_per_s"`
	// EndToEnd is from the start of the inbound request to the sink
	// receiving the delivery.
	EndToEnd loadLatency `json:"end_to_end_ms"`
}

type loadMemStats struct {
	Before      int64   `json:"used_memory_before"`
	After       int64   `json:"used_memory_after"`
	Accepted    int     `json:"accepted"`
	BytesPerEvt float64 `json:"bytes_per_accepted_event"`
	Settled     bool    `json:"queues_settled"` // ingest and delivery queues empty when measured
	Pending     int     `json:"pending_tasks"`  // tasks still queued when measured
}

type loadReport struct {
	Source   string             `json:"source_id,omitempty"`
	Baseline *loadRunStats      `json:"baseline,omitempty"`
	Receiver *loadRunStats      `json:"receiver,omitempty"`
	Ratio    float64            `json:"receiver_to_baseline_throughput,omitempty"`
	Delivery *loadDeliveryStats `json:"delivery,omitempty"`
	Redis    *loadMemStats      `json:"redis_memory,omitempty"`
}

func (r *loadReport) failed() bool {
	for _, s := range []*loadRunStats{r.Baseline, r.Receiver} {
		if s != nil && (s.Errors > 0 || s.Accepted == 0) {
			return true
		}
	}
	return r.Delivery != nil && r.Delivery.Missing > 0
}

func (r *loadReport) print(w io.Writer) {
	for _, s := range []*loadRunStats{r.Baseline, r.Receiver} {
		if s == nil {
			continue
		}
		fmt.Fprintf(w, "%s (%s loop, concurrency %d", s.Target, s.Loop, s.Concurrency)
		if s.Rate > 0 {
			fmt.Fprintf(w, ", target %.0f/s", s.Rate)
		}
		fmt.Fprintf(w, ")\n  requests %d  accepted %d  errors %d  duplicates %d  in %.2fs\n", s.Requests, s.Accepted, s.Errors, s.Duplicates, s.ElapsedSec)
		fmt.Fprintf(w, "  throughput %.0f req/s (accepted %.0f/s)\n", s.Throughput, s.AcceptedRPS)
		fmt.Fprintf(w, "  latency ms  p50 %.2f  p95 %.2f  p99 %.2f  max %.2f  mean %.2f\n", s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max, s.Latency.Mean)
		if s.Service != nil {
			fmt.Fprintf(w, "  service ms  p50 %.2f  p95 %.2f  p99 %.2f  max %.2f  (from actual send)\n", s.Service.P50, s.Service.P95, s.Service.P99, s.Service.Max)
		}
		codes := make([]string, 0, len(s.StatusCodes))
		for c, n := range s.StatusCodes {
			codes = append(codes, fmt.Sprintf("%s:%d", c, n))
		}
		sort.Strings(codes)
		fmt.Fprintf(w, "  status %s  (prepare+sign %.1fµs/request, untimed)\n", strings.Join(codes, " "), s.PrepareMicros)
		if s.FirstError != "" {
			fmt.Fprintf(w, "  first error: %s\n", s.FirstError)
		}
	}
	if r.Ratio > 0 {
		fmt.Fprintf(w, "receiver/baseline throughput: %.0f%%\n", 100*r.Ratio)
	}
	if d := r.Delivery; d != nil {
		fmt.Fprintf(w, "delivery to sink\n  accepted %d  delivered %d  missing %d  repeats %d  untracked %d\n", d.Accepted, d.Delivered, d.Missing, d.Repeats, d.Untracked)
		fmt.Fprintf(w, "  %.0f events/s delivered (first send to last delivery, %.2fs)\n", d.DeliveredPS, d.ElapsedSec)
		fmt.Fprintf(w, "  end-to-end ms  p50 %.2f  p95 %.2f  p99 %.2f  max %.2f  mean %.2f\n", d.EndToEnd.P50, d.EndToEnd.P95, d.EndToEnd.P99, d.EndToEnd.Max, d.EndToEnd.Mean)
	}
	if m := r.Redis; m != nil {
		fmt.Fprintf(w, "redis used_memory %d -> %d: %.0f bytes per accepted event (%d events; queues settled: %v, pending tasks %d)\n",
			m.Before, m.After, m.BytesPerEvt, m.Accepted, m.Settled, m.Pending)
	}
}

// summarize sorts ds in place and returns its percentiles (nearest rank).
func loadSummarize(ds []time.Duration) loadLatency {
	if len(ds) == 0 {
		return loadLatency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	pct := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		i = max(0, min(i, len(ds)-1))
		return loadMS(ds[i])
	}
	return loadLatency{P50: pct(0.50), P95: pct(0.95), P99: pct(0.99), Max: loadMS(ds[len(ds)-1]), Mean: loadMS(sum / time.Duration(len(ds)))}
}

func loadMS(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// ---------------------------------------------------------------- generator

// target is what a run loads: prepare builds request i outside the timer
// (signing, encoding), do sends it.
type loadTarget interface {
	name() string
	prepare(i int) (any, error)
	do(ctx context.Context, req any) (loadOutcome, error)
}

type loadOutcome struct {
	code      string // HTTP status, or the baseline's "enqueued"
	ok        bool
	duplicate bool
	eventID   string
}

type loadSample struct {
	start     time.Time     // actual send
	latency   time.Duration // from scheduled (open loop) or actual start
	service   time.Duration // from actual start
	ok        bool
	eventID   string
	code      string
	errString string
}

// generate runs t under o's loop and bounds. Samples are kept in request
// order.
func loadGenerate(ctx context.Context, o loadOptions, t loadTarget, n int, d time.Duration, rate float64) (loadRunStats, []loadSample) {
	var (
		samples  = make([]loadSample, 0, max(n, 1024))
		mu       sync.Mutex
		prepTime atomic.Int64
		prepN    atomic.Int64
	)
	record := func(s loadSample) {
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
	}
	one := func(i int, scheduled time.Time) {
		p0 := time.Now()
		req, err := t.prepare(i)
		prepTime.Add(int64(time.Since(p0)))
		prepN.Add(1)
		if err != nil {
			record(loadSample{start: p0, code: "prepare", errString: err.Error()})
			return
		}
		rctx, cancel := context.WithTimeout(ctx, o.timeout)
		start := time.Now()
		out, err := t.do(rctx, req)
		end := time.Now()
		cancel()
		if scheduled.IsZero() {
			scheduled = start
		}
		s := loadSample{start: start, latency: end.Sub(scheduled), service: end.Sub(start), ok: out.ok, eventID: out.eventID, code: out.code}
		if err != nil {
			s.code, s.errString = "transport", err.Error()
		} else if !out.ok {
			s.errString = "status " + out.code
		}
		if out.duplicate {
			s.code += "-duplicate"
		}
		record(s)
	}

	begin := time.Now()
	var deadline time.Time
	if d > 0 {
		deadline = begin.Add(d)
	}
	var wg sync.WaitGroup
	if rate <= 0 {
		var next atomic.Int64
		for w := 0; w < o.concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					i := int(next.Add(1) - 1)
					if (n > 0 && i >= n) || (!deadline.IsZero() && !time.Now().Before(deadline)) {
						return
					}
					one(i, time.Time{})
				}
			}()
		}
	} else {
		type job struct {
			i  int
			at time.Time
		}
		jobs := make(chan job)
		for w := 0; w < o.concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					one(j.i, j.at)
				}
			}()
		}
		interval := time.Duration(float64(time.Second) / rate)
	schedule:
		for i := 0; n <= 0 || i < n; i++ {
			at := begin.Add(time.Duration(i) * interval)
			if !deadline.IsZero() && !at.Before(deadline) {
				break
			}
			if wait := time.Until(at); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					break schedule
				}
			}
			// Blocks while every worker is busy; the job keeps its
			// scheduled time, so the wait shows up in its latency.
			select {
			case jobs <- job{i, at}:
			case <-ctx.Done():
				break schedule
			}
		}
		close(jobs)
	}
	wg.Wait()
	elapsed := time.Since(begin)

	st := loadRunStats{Target: t.name(), Loop: "closed", Concurrency: o.concurrency, StatusCodes: map[string]int{}, ElapsedSec: elapsed.Seconds()}
	if rate > 0 {
		st.Loop, st.Rate = "open", rate
	}
	lat := make([]time.Duration, 0, len(samples))
	svc := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		st.Requests++
		code := s.code
		if c, ok := strings.CutSuffix(code, "-duplicate"); ok {
			code = c
			st.Duplicates++
		}
		st.StatusCodes[code]++
		if s.ok {
			st.Accepted++
		} else {
			st.Errors++
			if st.FirstError == "" {
				st.FirstError = s.errString
			}
		}
		if s.code != "prepare" {
			lat = append(lat, s.latency)
			svc = append(svc, s.service)
		}
	}
	st.Throughput = float64(st.Requests) / elapsed.Seconds()
	st.AcceptedRPS = float64(st.Accepted) / elapsed.Seconds()
	st.Latency = loadSummarize(lat)
	if rate > 0 {
		sv := loadSummarize(svc)
		st.Service = &sv
	}
	if n := prepN.Load(); n > 0 {
		st.PrepareMicros = math.Round(float64(prepTime.Load())/float64(n)/100) / 10
	}
	return st, samples
}

// ---------------------------------------------------------------- receiver

type loadReceiverTarget struct {
	url    string
	secret string
	kind   inbound.Kind
	body   []byte
	runID  string
	client *http.Client
}

type loadSignedReq struct {
	h    http.Header
	body []byte
}

func (r *loadReceiverTarget) name() string { return "receiver" }

func (r *loadReceiverTarget) prepare(i int) (any, error) {
	id := "msg_load_" + r.runID + "_" + strconv.Itoa(i)
	h, b, err := r.kind.Sign(nil, r.secret, id, r.body, time.Now())
	if err != nil {
		return nil, err
	}
	h.Set("Content-Type", "application/json")
	return loadSignedReq{h, b}, nil
}

func (r *loadReceiverTarget) do(ctx context.Context, v any) (loadOutcome, error) {
	sr := v.(loadSignedReq)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(sr.body))
	if err != nil {
		return loadOutcome{}, err
	}
	req.Header = sr.h
	resp, err := r.client.Do(req)
	if err != nil {
		return loadOutcome{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	out := loadOutcome{code: strconv.Itoa(resp.StatusCode), ok: resp.StatusCode >= 200 && resp.StatusCode < 300}
	if out.ok {
		var ack struct {
			EventID   string `json:"event_id"`
			Duplicate bool   `json:"duplicate"`
		}
		if err := json.Unmarshal(raw, &ack); err != nil || ack.EventID == "" {
			out.ok = false
			return out, fmt.Errorf("2xx without an event_id: %.200s", raw)
		}
		out.eventID, out.duplicate = ack.EventID, ack.Duplicate
	}
	return out, nil
}

// ---------------------------------------------------------------- baseline

// baselineTarget enqueues what the receiver enqueues, minus the HTTP request,
// the source lookup, the signature check and the dedupe read: the same
// payload size, a unique TaskID, queue "ingest" and the same options. Its
// task type is not one the workers handle, so run it against a receiver-only
// process; its tasks are deleted after the run unless --keep-baseline.
type loadBaselineTarget struct {
	ac    *asynq.Client
	body  []byte
	runID string
	mu    sync.Mutex
	ids   []string
}

const loadBaselineTaskType = "load:baseline"

type loadBaselineReq struct {
	id      string
	payload []byte
}

func (b *loadBaselineTarget) name() string { return "baseline" }

func (b *loadBaselineTarget) prepare(i int) (any, error) {
	pid := "msg_load_" + b.runID + "_b" + strconv.Itoa(i)
	p := queue.IngestPayload{
		Receipt: loadRandomHex(12), EventID: store.EventID("src_loadbaseline00000000", pid), TenantID: "ten_loadbaseline00000000",
		SourceID: "src_loadbaseline00000000", ProviderID: pid, Type: "payment.succeeded", ReceivedAt: time.Now().UTC(), Body: b.body,
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return loadBaselineReq{p.EventID, raw}, nil
}

func (b *loadBaselineTarget) do(ctx context.Context, v any) (loadOutcome, error) {
	r := v.(loadBaselineReq)
	_, err := b.ac.EnqueueContext(ctx, asynq.NewTask(loadBaselineTaskType, r.payload),
		asynq.TaskID(r.id), asynq.Queue(queue.QueueIngest), asynq.MaxRetry(25))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return loadOutcome{code: "enqueued", ok: true, duplicate: true, eventID: r.id}, nil
	}
	if err != nil {
		return loadOutcome{code: "error"}, err
	}
	b.mu.Lock()
	b.ids = append(b.ids, r.id)
	b.mu.Unlock()
	return loadOutcome{code: "enqueued", ok: true, eventID: r.id}, nil
}

func (b *loadBaselineTarget) cleanup(insp *asynq.Inspector) (deleted int) {
	for _, id := range b.ids {
		if insp.DeleteTask(queue.QueueIngest, id) == nil {
			deleted++
		}
	}
	b.ids = nil
	return deleted
}

func loadRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ---------------------------------------------------------------- sink

// sink is a local destination: it answers 200 to every request and records
// when each event first arrived, keyed by the event id it reads from the
// Idempotency-Key header (event id + ":" + destination id).
type loadSink struct {
	mu      sync.Mutex
	first   map[string]time.Time
	repeats int
	srv     *http.Server
	addr    string
}

func startLoadSink(addr string) (*loadSink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	s := &loadSink{first: map[string]time.Time{}, addr: ln.Addr().String()}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *loadSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 8<<20))
	id, _, _ := strings.Cut(r.Header.Get("Idempotency-Key"), ":")
	s.mu.Lock()
	if _, ok := s.first[id]; ok {
		s.repeats++
	} else {
		s.first[id] = now
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *loadSink) arrived(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.first[id]
	return t, ok
}

func (s *loadSink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// ---------------------------------------------------------------- command

func runLoad(ctx context.Context, o loadOptions, stderr io.Writer) (*loadReport, error) {
	rep := &loadReport{}
	runID := strings.ToLower(loadRandomHex(4))
	body, err := os.ReadFile(o.eventFile)
	if err != nil {
		return nil, fmt.Errorf("--event: %w", err)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("--event %s is not valid JSON", o.eventFile)
	}

	var rdb *redis.Client
	if o.redisURL != "" {
		opt, err := redis.ParseURL(o.redisURL)
		if err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
		opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return loadLoopbackDialer.DialContext(ctx, network, addr)
		}
		opt.PoolSize = max(opt.PoolSize, o.concurrency+4)
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = time.Second, 2*time.Second, 2*time.Second, 2*time.Second
		rdb = redis.NewClient(opt)
		defer rdb.Close()
		if err := rdb.Ping(ctx).Err(); err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
	}

	if o.baseline || o.compare {
		ac := asynq.NewClientFromRedisClient(rdb)
		bt := &loadBaselineTarget{ac: ac, body: body, runID: runID}
		if o.warmup > 0 {
			bt.runID = runID + "w"
			loadGenerate(ctx, o, bt, o.warmup, 0, 0)
			bt.runID = runID
		}
		st, _ := loadGenerate(ctx, o, bt, o.requests, o.duration, o.rate)
		rep.Baseline = &st
		if !o.keep {
			n := bt.cleanup(asynq.NewInspectorFromRedisClient(rdb))
			fmt.Fprintf(stderr, "hookshift load: deleted %d baseline tasks\n", n)
		}
		if o.baseline {
			return rep, nil
		}
	}

	// Standard-webhooks carries the event id in a header, so every request
	// can be a new event with the same body.
	kind, ok := inbound.Lookup("standard-webhooks")
	if !ok {
		return nil, errors.New("the standard-webhooks scheme is not registered")
	}
	transport := &http.Transport{
		DialContext:         loadLoopbackDialer.DialContext,
		MaxIdleConns:        2 * o.concurrency,
		MaxIdleConnsPerHost: 2 * o.concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	var sk *loadSink
	if o.sinkAddr != "" {
		var err error
		if sk, err = startLoadSink(o.sinkAddr); err != nil {
			return nil, err
		}
		defer sk.close()
	}
	ingest, secret := o.url, o.secret
	if o.api != "" {
		var err error
		ingest, secret, rep.Source, err = loadSetupSource(ctx, client, o, runID, sk)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "hookshift load: created source %s, posting to %s\n", rep.Source, ingest)
	}
	rt := &loadReceiverTarget{url: ingest, secret: secret, kind: kind, body: body, runID: runID, client: client}
	if o.warmup > 0 {
		rt.runID = runID + "w"
		loadGenerate(ctx, o, rt, o.warmup, 0, 0)
		rt.runID = runID
	}

	var memBefore int64
	if rdb != nil {
		var err error
		if memBefore, err = redisUsedMemory(ctx, rdb); err != nil {
			return nil, err
		}
	}
	st, samples := loadGenerate(ctx, o, rt, o.requests, o.duration, o.rate)
	rep.Receiver = &st
	if rep.Baseline != nil && rep.Baseline.Throughput > 0 {
		rep.Ratio = math.Round(st.Throughput/rep.Baseline.Throughput*1000) / 1000
	}
	if sk != nil {
		rep.Delivery = loadDrain(ctx, sk, samples, o.drainTimeout)
	}
	if rdb != nil {
		m := &loadMemStats{Before: memBefore, Accepted: st.Accepted}
		// Wait for the workers, if any, to finish: memory is measured once
		// nothing is moving. With no workers the tasks stay queued.
		m.Settled, m.Pending = loadSettle(ctx, rdb, o.drainTimeout)
		after, err := redisUsedMemory(ctx, rdb)
		if err != nil {
			return nil, err
		}
		m.After = after
		if st.Accepted > 0 {
			m.BytesPerEvt = math.Round(float64(after-memBefore) / float64(st.Accepted))
		}
		rep.Redis = m
	}
	return rep, nil
}

// setupSource creates a tenant and a standard-webhooks source through the
// admin API, and, with a sink, an http destination pointing at it.
func loadSetupSource(ctx context.Context, c *http.Client, o loadOptions, runID string, sk *loadSink) (ingest, secret, sourceID string, err error) {
	api := strings.TrimSuffix(o.api, "/")
	call := func(path, token string, in any, out any) error {
		b, _ := json.Marshal(in)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("POST %s: %w", path, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(raw))
		}
		return json.Unmarshal(raw, out)
	}
	var ten struct{ Token string }
	if err := call("/v1/tenants", o.adminToken, map[string]string{"name": "load-" + runID}, &ten); err != nil {
		return "", "", "", err
	}
	var src struct {
		ID         string `json:"id"`
		Secret     string `json:"secret"`
		IngestPath string `json:"ingest_path"`
	}
	if err := call("/v1/sources", ten.Token, map[string]string{"name": "load", "kind": "standard-webhooks"}, &src); err != nil {
		return "", "", "", err
	}
	if sk != nil {
		var dst struct{ ID string }
		err := call("/v1/destinations", ten.Token, map[string]any{"source_id": src.ID, "name": "load-sink", "integration": "http",
			"url": "http://" + sk.addr + "/"}, &dst)
		if err != nil {
			return "", "", "", fmt.Errorf("%w (the server needs HOOKSHIFT_EGRESS_ALLOW=127.0.0.0/8 to deliver to a local sink)", err)
		}
	}
	base := strings.TrimSuffix(o.url, "/")
	if u, err := url.Parse(base); err == nil && u.Path != "" {
		return "", "", "", fmt.Errorf("with --api, --url is the receiver's base URL (e.g. http://127.0.0.1:8080), not %q", o.url)
	}
	return base + src.IngestPath, src.Secret, src.ID, nil
}

// drain waits until every accepted event has reached the sink, or timeout.
func loadDrain(ctx context.Context, sk *loadSink, samples []loadSample, timeout time.Duration) *loadDeliveryStats {
	sent := map[string]time.Time{}
	var first time.Time
	for _, s := range samples {
		if s.ok && s.eventID != "" {
			sent[s.eventID] = s.start
			if first.IsZero() || s.start.Before(first) {
				first = s.start
			}
		}
	}
	deadline := time.Now().Add(timeout)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		n := 0
		for id := range sent {
			if _, ok := sk.arrived(id); ok {
				n++
			}
		}
		if n == len(sent) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	d := &loadDeliveryStats{Accepted: len(sent)}
	var last time.Time
	e2e := make([]time.Duration, 0, len(sent))
	for id, t0 := range sent {
		at, ok := sk.arrived(id)
		if !ok {
			d.Missing++
			continue
		}
		d.Delivered++
		e2e = append(e2e, at.Sub(t0))
		if at.After(last) {
			last = at
		}
	}
	sk.mu.Lock()
	d.Repeats = sk.repeats
	for id := range sk.first {
		if _, ok := sent[id]; !ok {
			d.Untracked++
		}
	}
	sk.mu.Unlock()
	if d.Delivered > 0 {
		el := last.Sub(first)
		d.ElapsedSec = el.Seconds()
		if el > 0 {
			d.DeliveredPS = math.Round(float64(d.Delivered) / el.Seconds())
		}
	}
	d.EndToEnd = loadSummarize(e2e)
	return d
}

// settle waits until the ingest and delivery queues hold nothing pending,
// active or scheduled, or until their size has not moved for two seconds
// (no workers: the tasks stay queued), or timeout.
func loadSettle(ctx context.Context, rdb *redis.Client, timeout time.Duration) (bool, int) {
	insp := asynq.NewInspectorFromRedisClient(rdb)
	count := func() int {
		n := 0
		for _, q := range []string{queue.QueueIngest, queue.QueueDelivery} {
			if qi, err := insp.GetQueueInfo(q); err == nil {
				n += qi.Pending + qi.Active + qi.Scheduled + qi.Retry
			}
		}
		return n
	}
	deadline := time.Now().Add(timeout)
	last, since := count(), time.Now()
	for ctx.Err() == nil && time.Now().Before(deadline) && last > 0 && time.Since(since) < 2*time.Second {
		time.Sleep(50 * time.Millisecond)
		if n := count(); n != last {
			last, since = n, time.Now()
		}
	}
	if last == 0 {
		// A finished task's bookkeeping (attempt record, counters) lands
		// just after the task leaves the queue: give it a moment.
		time.Sleep(500 * time.Millisecond)
		last = count()
	}
	return last == 0, last
}

func redisUsedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("INFO memory: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("INFO memory has no used_memory")
}
