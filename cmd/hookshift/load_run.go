package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/internal/redisconn"
	"github.com/hookshift/hookshift/queue"
	"github.com/redis/go-redis/v9"
)

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
	var vary *loadVariants
	if o.varySearchKeys {
		if vary, err = newLoadVariants(body); err != nil {
			return nil, err
		}
	}

	var rdb redis.UniversalClient
	if o.redisURL != "" {
		// Any topology serve takes (internal/redisconn); every dial stays on loopback.
		target, err := redisconn.Parse(o.redisURL)
		if err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
		ro := redisconn.ServeOptions
		ro.PoolSize = o.concurrency + 4
		ro.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return loadLoopbackDialer.DialContext(ctx, network, addr)
		}
		rdb = target.Client(ro)
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
	if o.compareProcessing {
		ps, err := loadProcessingBaseline(ctx, rdb, runID, o.processingTasks, o.processingConcurrency, o.drainTimeout)
		if err != nil {
			return nil, err
		}
		rep.Processing = ps
	}
	nullRun := func(target, idSuffix string, store func(context.Context, []byte) error) (*loadRunStats, error) {
		ns, err := startLoadNullServer(store)
		if err != nil {
			return nil, err
		}
		defer ns.close()
		nt := &loadReceiverTarget{url: ns.url, secret: "whsec_" + "bnVsbC1oYW5kbGVyLWtleS0xMjM0NTY3OA==", kind: kind, body: body, vary: vary, runID: runID + idSuffix, client: client}
		if o.warmup > 0 {
			loadGenerate(ctx, o, nt, o.warmup, 0, 0)
		}
		st, _ := loadGenerate(ctx, o, nt, o.requests, o.duration, o.rate)
		st.Target = target
		return &st, nil
	}
	if o.compareHTTP {
		st, err := nullRun("null-http", "n", nil)
		if err != nil {
			return nil, err
		}
		rep.NullHTTP = st
	}
	if o.compareHTTPRedis {
		// One list per run, gone afterwards; memory is measured after this.
		list := "hookshift-load:null-http-redis:" + runID
		st, err := nullRun("null-http-redis", "r", func(ctx context.Context, b []byte) error {
			return rdb.RPush(ctx, list, b).Err()
		})
		if err != nil {
			return nil, err
		}
		if err := rdb.Del(ctx, list).Err(); err != nil {
			return nil, fmt.Errorf("null-http-redis: delete %s: %w", list, err)
		}
		rep.NullHTTPRedis = st
	}
	if o.comparePipeline {
		ps, err := loadPipelineBaseline(ctx, rdb, runID, o.requests, o.processingConcurrency, o.drainTimeout, func(url string) int {
			pt := &loadReceiverTarget{url: url, secret: "whsec_" + "bnVsbC1oYW5kbGVyLWtleS0xMjM0NTY3OA==", kind: kind, body: body, vary: vary, runID: runID + "p", client: client}
			st, _ := loadGenerate(ctx, o, pt, o.requests, 0, o.rate)
			return st.Accepted
		})
		if err != nil {
			return nil, err
		}
		rep.Pipeline = ps
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
	rt := &loadReceiverTarget{url: ingest, secret: secret, kind: kind, body: body, vary: vary, runID: runID, client: client}
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
	if rep.NullHTTP != nil {
		rep.HTTPRatio = loadRatio(st.Throughput, rep.NullHTTP.Throughput)
	}
	if rep.NullHTTPRedis != nil {
		rep.HTTPRedisRatio = loadRatio(st.Throughput, rep.NullHTTPRedis.Throughput)
	}
	if sk != nil {
		rep.Delivery = loadDrain(ctx, sk, samples, o.drainTimeout)
		if rep.Processing != nil {
			rep.ProcessingRatio = loadRatio(rep.Delivery.DeliveredPS, rep.Processing.PerEvent)
		}
		if rep.Pipeline != nil {
			rep.PipelineRatio = loadRatio(rep.Delivery.DeliveredPS, rep.Pipeline.PerEvent)
		}
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
func loadSettle(ctx context.Context, rdb redis.UniversalClient, timeout time.Duration) (bool, int) {
	insp := asynq.NewInspectorFromRedisClient(rdb)
	qs := append([]string{queue.QueueIngest}, queue.DeliveryQueuesIn(rdb, 1)...) // every delivery shard there is
	count := func() int {
		n := 0
		for _, q := range qs {
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

// redisUsedMemory is used_memory of the server, or the sum over a
// cluster's masters.
func redisUsedMemory(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		var sum int64
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := redisUsedMemory(ctx, c)
			mu.Lock()
			sum += n
			mu.Unlock()
			return err
		})
		return sum, err
	}
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
