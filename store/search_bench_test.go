package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkSearch measures event search latency over a log of 100,000 events
// (and 1,000,000 with HOOKSHIFT_BENCH_1M=1: about 2 GB of Redis memory and a
// minute or two of filling), one tenant, on a private redis-server. It
// reports, besides ns/op, the p50/p99 of single searches and the Redis bytes
// per event: in total (event, payload, dedupe marker, indexes) and of the
// search indexes alone (the tenant's event list included).
//
//	go test -run '^$' -bench BenchmarkSearch -benchtime 2000x ./store
//	HOOKSHIFT_BENCH_1M=1 go test -run '^$' -bench BenchmarkSearch -benchtime 2000x -timeout 30m ./store
func BenchmarkSearch(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("HOOKSHIFT_BENCH_1M") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) { benchSearchAt(b, n) })
	}
}

// benchPayload is a Dodo payment.succeeded body of the usual size (~1 KB).
const benchPayload = `{"business_id":"bus_9kTq2LmXw4RzP7sVn3Hd1","type":"payment.succeeded","timestamp":"2026-03-01T12:00:00.000000Z","data":{"payload_type":"Payment","payment_id":"%s","business_id":"bus_9kTq2LmXw4RzP7sVn3Hd1","brand_id":"bus_9kTq2LmXw4RzP7sVn3Hd1","total_amount":2999,"settlement_amount":2999,"tax":0,"currency":"USD","settlement_currency":"USD","status":"succeeded","customer":{"customer_id":"%s","email":"%s","name":"Customer","phone_number":null},"metadata":{"datafast_visitor_id":"4f6c2d1e-9b8a-4c7d-a1e2-3f4b5c6d7e8f"},"subscription_id":null,"payment_method":"card","payment_method_type":"credit","card_network":"VISA","card_type":"CREDIT","card_last_four":"4242","card_issuing_country":"US","payment_link":"https://checkout.dodopayments.com/buy/%s","refunds":[],"disputes":[],"product_cart":[{"product_id":"pdt_1","quantity":1}],"discount_id":null,"error_code":null,"error_message":null,"created_at":"2026-03-01T12:00:00.000000Z","updated_at":null}}`

// benchShape says how n events spread over keys, as in a merchant's log:
// 20 event types of uneven frequency, 2 sources, a customer per 20 events
// and a payment per 2 events (a payment and its refund or renewal).
type benchShape struct{ n int }

func (s benchShape) customer(i int) int { return (i * 7919) % max(s.n/20, 1) }
func (s benchShape) payment(i int) int  { return i / 2 }
func (benchShape) typ(i int) string {
	// type k has about 1/2^(k+1) of the events, the rest share type 19.
	for k := range 19 {
		if i%(2<<k) == (1<<k)-1 {
			return "type." + strconv.Itoa(k)
		}
	}
	return "type.19"
}

func benchSearchAt(b *testing.B, n int) {
	st, rdb, clk := newTestStore(b, 72*time.Hour)
	ctx := bg
	shape := benchShape{n}
	base := clk.Now().Add(-24 * time.Hour)
	spacing := 24 * time.Hour / time.Duration(n) // several events share a ms at 1M

	usedMemory := func() int64 {
		info := rdb.Info(ctx, "memory").Val()
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				m, _ := strconv.ParseInt(v, 10, 64)
				return m
			}
		}
		b.Fatal("no used_memory in INFO")
		return 0
	}
	id := func(i int) string { return fmt.Sprintf("evt_%026d", i) }

	before := usedMemory()
	start := time.Now()
	sha, err := recordEventV2.Load(ctx, rdb).Result()
	if err != nil {
		b.Fatal(err)
	}
	ixSHA, err := indexEvent.Load(ctx, rdb).Result()
	if err != nil {
		b.Fatal(err)
	}
	const batch = 2000
	for lo := 0; lo < n; lo += batch {
		pipe := rdb.Pipeline()
		for i := lo; i < min(lo+batch, n); i++ {
			cus := "cus_" + strconv.Itoa(shape.customer(i))
			pay := "pay_" + strconv.Itoa(shape.payment(i))
			email := "Customer" + strconv.Itoa(shape.customer(i)) + "@Example.com"
			ev := Event{ID: id(i), TenantID: "ten_bench", SourceID: "src_" + strconv.Itoa(i%2), ProviderID: "msg_" + strconv.Itoa(i),
				Type: shape.typ(i), ReceivedAt: base.Add(time.Duration(i) * spacing)}
			pipe.EvalSha(ctx, sha, []string{st.kEvent(ev.ID), st.kDedupe(ev.ID), st.kDeliveries(ev.ID)}, "rcpt", st.opts.DedupeWindow.Milliseconds(),
				encodeEventV2(encodeEventRecord(ev, []byte(fmt.Sprintf(benchPayload, pay, cus, email, pay))), "rcpt"),
				st.opts.EventRetention.Milliseconds(), "0")
			keys := append([]string{st.kTenantEvents(ev.TenantID)},
				st.indexKeys(ev, SearchKeys{CustomerID: cus, Email: email, PaymentIDs: []string{pay}})...)
			pipe.EvalSha(ctx, ixSHA, keys, ev.ReceivedAt.UnixMilli(), ev.ID,
				"("+strconv.FormatInt(clk.Now().Add(-st.opts.EventRetention).UnixMilli(), 10), st.opts.EventRetention.Milliseconds(),
				(st.opts.EventRetention + indexSlack(st.opts.EventRetention)).Milliseconds())
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	filled := time.Since(start)
	total := usedMemory() - before
	b.Logf("%d events filled in %v; Redis used_memory +%d bytes (%.0f bytes/event)", n, filled.Round(time.Millisecond), total, float64(total)/float64(n))

	rng := rand.New(rand.NewPCG(1, 2))
	randomCursor := func() string {
		i := rng.IntN(n)
		return strconv.FormatInt(base.Add(time.Duration(i)*spacing).UnixMilli(), 10) + ":" + id(i)
	}
	queries := []struct {
		name   string
		filter func() EventFilter
		cursor func() string
	}{
		{"list", func() EventFilter { return EventFilter{} }, nil},
		{"list-deep-page", func() EventFilter { return EventFilter{} }, randomCursor},
		{"type-common", func() EventFilter { return EventFilter{Type: "type.0"} }, nil},
		{"type-rare", func() EventFilter { return EventFilter{Type: "type.12"} }, nil},
		{"source", func() EventFilter { return EventFilter{SourceID: "src_1"} }, nil},
		{"customer", func() EventFilter {
			return EventFilter{CustomerID: "cus_" + strconv.Itoa(shape.customer(rng.IntN(n)))}
		}, nil},
		{"email", func() EventFilter {
			return EventFilter{Email: "customer" + strconv.Itoa(shape.customer(rng.IntN(n))) + "@example.com"}
		}, nil},
		{"payment", func() EventFilter { return EventFilter{PaymentID: "pay_" + strconv.Itoa(shape.payment(rng.IntN(n)))} }, nil},
		{"type+customer", func() EventFilter {
			return EventFilter{Type: "type.0", CustomerID: "cus_" + strconv.Itoa(shape.customer(rng.IntN(n)))}
		}, nil},
		// Two big indexes that never meet: the scan bound ends the request.
		{"type+source-sparse", func() EventFilter { return EventFilter{Type: "type.1", SourceID: "src_0"} }, nil},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			found := 0
			b.ResetTimer()
			for range b.N {
				f, c := q.filter(), ""
				if q.cursor != nil {
					c = q.cursor()
				}
				t0 := time.Now()
				evs, _, err := st.SearchEvents(ctx, "ten_bench", f, 50, c)
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				found += len(evs)
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(found)/float64(b.N), "events/op")
		})
	}

	// What the indexes cost: drop everything else and measure what is left.
	withAll := usedMemory()
	for lo := 0; lo < n; lo += 10_000 {
		pipe := rdb.Pipeline()
		for i := lo; i < min(lo+10_000, n); i++ {
			pipe.Unlink(ctx, st.kEvent(id(i)), st.kDedupe(id(i)))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(time.Second) // UNLINK frees in the background
	idx := usedMemory() - before
	list := rdb.MemoryUsage(ctx, st.kTenantEvents("ten_bench"), 0).Val()
	keys := rdb.DBSize(ctx).Val()
	b.Logf("indexes: %d keys, %d bytes (%.0f bytes/event), of which the tenant's event list %d (%.0f bytes/event); everything else %.0f bytes/event",
		keys, idx, float64(idx)/float64(n), list, float64(list)/float64(n), float64(withAll-before-idx)/float64(n))
}
