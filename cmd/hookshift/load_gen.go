package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
)

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

type loadReceiverTarget struct {
	url    string
	secret string
	kind   inbound.Kind
	body   []byte
	vary   *loadVariants // nil: every request posts body as it is
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
	body := r.body
	if r.vary != nil {
		body = r.vary.body(body, i)
	}
	h, b, err := r.kind.Sign(nil, r.secret, id, body, time.Now())
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
