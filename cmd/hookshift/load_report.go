package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

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
	// NullHTTP is --compare-http's run against the null handler; HTTPRatio
	// is the receiver's throughput ÷ its.
	NullHTTP  *loadRunStats `json:"null_http,omitempty"`
	HTTPRatio float64       `json:"receiver_to_null_http_throughput,omitempty"`
	// NullHTTPRedis is --compare-http-redis's run against the null handler
	// that stores each body in Redis first; HTTPRedisRatio is the receiver's
	// throughput ÷ its.
	NullHTTPRedis  *loadRunStats `json:"null_http_redis,omitempty"`
	HTTPRedisRatio float64       `json:"receiver_to_null_http_redis_throughput,omitempty"`
	// Processing is --compare-processing's bare asynq run; ProcessingRatio
	// is delivered events/s ÷ (its rate ÷ 2 hops).
	Processing      *loadProcessingStats `json:"processing,omitempty"`
	ProcessingRatio float64              `json:"delivered_to_processing_per_event,omitempty"`
	// Pipeline is --compare-pipeline's two-stage bare asynq run that posts
	// each body; PipelineRatio is delivered events/s ÷ its events/s.
	Pipeline      *loadProcessingStats `json:"pipeline,omitempty"`
	PipelineRatio float64              `json:"delivered_to_pipeline,omitempty"`
}

func (r *loadReport) failed() bool {
	for _, s := range []*loadRunStats{r.Baseline, r.NullHTTP, r.NullHTTPRedis, r.Receiver} {
		if s != nil && (s.Errors > 0 || s.Accepted == 0) {
			return true
		}
	}
	return r.Delivery != nil && r.Delivery.Missing > 0
}

func (r *loadReport) print(w io.Writer) {
	if p := r.Processing; p != nil {
		fmt.Fprintf(w, "bare asynq no-op processing (concurrency %d, same Redis)\n  %d of %d tasks in %.2fs: %.0f tasks/s, %.0f events/s over two hops\n",
			p.Concurrency, p.Processed, p.Tasks, p.ElapsedSec, p.PerSecond, p.PerEvent)
	}
	if p := r.Pipeline; p != nil {
		fmt.Fprintf(w, "bare asynq two-stage pipeline posting each body (concurrency %d, same Redis)\n  %d of %d events in %.2fs: %.0f events/s\n",
			p.Concurrency, p.Processed, p.Tasks, p.ElapsedSec, p.PerEvent)
	}
	for _, s := range []*loadRunStats{r.Baseline, r.NullHTTP, r.NullHTTPRedis, r.Receiver} {
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
	if r.NullHTTP != nil && r.Receiver != nil {
		fmt.Fprintf(w, "receiver/null-http throughput: %.3f (%.0f ÷ %.0f req/s)\n", r.HTTPRatio, r.Receiver.Throughput, r.NullHTTP.Throughput)
	}
	if r.NullHTTPRedis != nil && r.Receiver != nil {
		fmt.Fprintf(w, "receiver/null-http-redis throughput: %.3f (%.0f ÷ %.0f req/s)\n", r.HTTPRedisRatio, r.Receiver.Throughput, r.NullHTTPRedis.Throughput)
	}
	if d := r.Delivery; d != nil {
		fmt.Fprintf(w, "delivery to sink\n  accepted %d  delivered %d  missing %d  repeats %d  untracked %d\n", d.Accepted, d.Delivered, d.Missing, d.Repeats, d.Untracked)
		fmt.Fprintf(w, "  %.0f events/s delivered (first send to last delivery, %.2fs)\n", d.DeliveredPS, d.ElapsedSec)
		fmt.Fprintf(w, "  end-to-end ms  p50 %.2f  p95 %.2f  p99 %.2f  max %.2f  mean %.2f\n", d.EndToEnd.P50, d.EndToEnd.P95, d.EndToEnd.P99, d.EndToEnd.Max, d.EndToEnd.Mean)
		if p := r.Processing; p != nil {
			fmt.Fprintf(w, "delivered/processing-per-event: %.3f (%.0f ÷ (%.0f ÷ 2) events/s)\n", r.ProcessingRatio, d.DeliveredPS, p.PerSecond)
		}
		if p := r.Pipeline; p != nil {
			fmt.Fprintf(w, "delivered/pipeline: %.3f (%.0f ÷ %.0f events/s)\n", r.PipelineRatio, d.DeliveredPS, p.PerEvent)
		}
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
