package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// The two baselines issue 13's targets are ratios of, measured in the same
// run as the receiver so that both sides see the same machine:
//
//   - --compare-http: a null net/http handler on a loopback port that reads
//     the body and answers 202, posted to by the same loader, with the same
//     signed requests, at the same concurrency. receiver ÷ null handler is
//     what the HTTP layer leaves for hookshift's own work.
//   - --compare-http-redis: the same null handler, but it stores each body
//     in Redis (one RPUSH, waited on) before it answers: the least any
//     receiver that stores an event before acknowledging it must do.
//     receiver ÷ this is what verification, parsing and the enqueue's own
//     work cost beyond the store's round trip.
//   - --compare-pipeline: the brief's path doing the least it can on bare
//     asynq and the same Redis, fed by the same loader: a null receiver
//     enqueues each body, that task enqueues a second, which posts the body
//     to a null handler. end to end ÷ this is what hookshift's own work
//     (verify, record, transform, state) costs.
//   - --compare-processing: bare asynq no-op processing on the same Redis at
//     concurrency 64 (--processing-concurrency). An event takes two asynq
//     hops (ingest, then delivery), so end to end is compared with half of
//     that rate.

// loadNullAnswer is what the null handler answers: the receiver's shape, so
// the loader parses it exactly as it parses the receiver's.
var loadNullAnswer = []byte(`{"event_id":"evt_null","duplicate":false}`)

// loadNullServer is the --compare-http handler: read the body, answer 202;
// with a store (--compare-http-redis), store the body first and answer 503
// if that fails.
type loadNullServer struct {
	srv *http.Server
	url string
}

func startLoadNullServer(store func(ctx context.Context, body []byte) error) (*loadNullServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("null handler: %w", err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if store == nil {
			_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 1<<20))
		} else {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
			if err == nil {
				err = store(r.Context(), body)
			}
			if err != nil {
				http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(loadNullAnswer)
	})
	s := &loadNullServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, url: "http://" + ln.Addr().String() + "/v1/webhooks/null"}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *loadNullServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// loadProcessingStats is the --compare-processing baseline: how fast bare
// asynq runs no-op tasks on the same Redis.
type loadProcessingStats struct {
	Tasks       int     `json:"tasks"`
	Processed   int     `json:"processed"`
	Concurrency int     `json:"concurrency"`
	ElapsedSec  float64 `json:"elapsed_s"`
	PerSecond   float64 `json:"tasks_per_s"`
	// PerEvent is PerSecond ÷ 2: an event takes two asynq hops (ingest,
	// delivery), so this is the end-to-end rate bare asynq would allow.
	PerEvent float64 `json:"events_per_s_two_hops"`
}

const loadNoopTaskType = "load:noop"

// loadProcessingBaseline enqueues n no-op tasks to a private queue (outside
// the timer), then times an asynq server at the given concurrency draining
// it, and deletes the queue afterwards.
func loadProcessingBaseline(ctx context.Context, rdb redis.UniversalClient, runID string, n, concurrency int, timeout time.Duration) (*loadProcessingStats, error) {
	q := "load-noop-" + runID
	ac := asynq.NewClientFromRedisClient(rdb)
	for i := 0; i < n; i++ {
		if _, err := ac.EnqueueContext(ctx, asynq.NewTask(loadNoopTaskType, []byte(`{}`)), asynq.Queue(q), asynq.MaxRetry(0)); err != nil {
			_ = asynq.NewInspectorFromRedisClient(rdb).DeleteQueue(q, true)
			return nil, fmt.Errorf("processing baseline: enqueue: %w", err)
		}
	}
	return loadBareAsynq(ctx, rdb, q, n, concurrency, timeout, nil, nil)
}

// loadPipelineBaseline is --compare-pipeline: the brief's path doing the
// least it can, on bare asynq and the same Redis, fed by the same loader as
// the end-to-end run. send posts the run's n requests to the receiver URL it
// is given and returns how many were answered 2xx; that null receiver
// enqueues each body as a task (one enqueue, waited on) and answers 202; the
// task enqueues a second with the body, which posts it to a null handler.
// Timed from the first request to the last post, as end to end is; PerEvent
// is events delivered per second.
func loadPipelineBaseline(ctx context.Context, rdb redis.UniversalClient, runID string, n, concurrency int, timeout time.Duration, send func(url string) int) (*loadProcessingStats, error) {
	q := "load-pipeline-" + runID
	ac := asynq.NewClientFromRedisClient(rdb)
	recv, err := startLoadNullServer(func(ctx context.Context, body []byte) error {
		_, err := ac.EnqueueContext(ctx, asynq.NewTask(loadNoopTaskType, body), asynq.Queue(q), asynq.MaxRetry(0))
		return err
	})
	if err != nil {
		return nil, err
	}
	defer recv.close()
	sink, err := startLoadNullServer(nil)
	if err != nil {
		return nil, err
	}
	defer sink.close()
	tr := &http.Transport{DialContext: loadLoopbackDialer.DialContext, MaxIdleConnsPerHost: concurrency, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	post := func(ctx context.Context, b []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, sink.url, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("null handler answered %s", resp.Status)
		}
		return nil
	}
	return loadBareAsynq(ctx, rdb, q, n, concurrency, timeout, post, func() error {
		if got := send(recv.url); got != n {
			return fmt.Errorf("pipeline baseline: the null receiver took %d of %d requests", got, n)
		}
		return nil
	})
}

const loadDeliverTaskType = "load:deliver"

// loadBareAsynq runs an asynq server at the given concurrency on the private
// queue q, calls feed (if any) once it is running, and times it until n
// events are done, from its start; the queue is deleted afterwards. With
// post nil each task is an event's no-op hop, and PerEvent is half the task
// rate (two hops); with post, each task enqueues a second one with its
// payload, which calls post, and an event is done when its post returned.
func loadBareAsynq(ctx context.Context, rdb redis.UniversalClient, q string, n, concurrency int, timeout time.Duration, post func(context.Context, []byte) error, feed func() error) (*loadProcessingStats, error) {
	what := "processing baseline"
	if post != nil {
		what = "pipeline baseline"
	}
	ac := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	defer func() { _ = insp.DeleteQueue(q, true) }()

	var done, failed atomic.Int64
	finished := make(chan struct{})
	var last atomic.Int64
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: concurrency, Queues: map[string]int{q: 1}, LogLevel: asynq.FatalLevel,
		TaskCheckInterval: 10 * time.Millisecond, ShutdownTimeout: 2 * time.Second,
	})
	count := func() {
		if done.Add(1) == int64(n) {
			last.Store(time.Now().UnixNano())
			close(finished)
		}
	}
	mux := asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		var err error
		switch {
		case post == nil:
			count()
		case t.Type() == loadNoopTaskType:
			_, err = ac.EnqueueContext(ctx, asynq.NewTask(loadDeliverTaskType, t.Payload()), asynq.Queue(q), asynq.MaxRetry(0))
		default:
			if err = post(ctx, t.Payload()); err == nil {
				count()
			}
		}
		if err != nil {
			failed.Add(1)
		}
		return err
	})
	begin := time.Now()
	if err := srv.Start(mux); err != nil {
		return nil, fmt.Errorf("%s: start asynq server: %w", what, err)
	}
	if feed != nil {
		if err := feed(); err != nil {
			srv.Shutdown()
			return nil, err
		}
	}
	select {
	case <-finished:
	case <-time.After(timeout):
	case <-ctx.Done():
	}
	srv.Shutdown()
	st := &loadProcessingStats{Tasks: n, Processed: int(done.Load()), Concurrency: concurrency}
	end := time.Now()
	if l := last.Load(); l != 0 {
		end = time.Unix(0, l)
	}
	st.ElapsedSec = end.Sub(begin).Seconds()
	if st.ElapsedSec > 0 {
		st.PerSecond = math.Round(float64(st.Processed) / st.ElapsedSec)
		st.PerEvent = math.Round(st.PerSecond / 2)
		if post != nil {
			st.PerEvent = st.PerSecond
		}
	}
	if st.Processed < n {
		return st, fmt.Errorf("%s: %d of %d events ran within %s (%d task errors)", what, st.Processed, n, timeout, failed.Load())
	}
	return st, nil
}

// loadRatio is a/b to three decimals, 0 when b is 0.
func loadRatio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return math.Round(a/b*1000) / 1000
}
