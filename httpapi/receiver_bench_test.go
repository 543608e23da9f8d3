package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
)

// benchReceiver is the receiver in-process (no listener, no HTTP client):
// its handler, a private redis-server, a source made through the admin API,
// and n signed Dodo payment.succeeded events with distinct webhook-ids,
// signed before the timer starts. The 1.7 kB body is testdata's.
type benchReceiver struct {
	h    http.Handler
	reqs []benchReq
}

type benchReq struct {
	path string
	h    http.Header
	body []byte
}

func newBenchReceiver(b *testing.B, n int, opts ...queue.ClientOption) *benchReceiver {
	b.Helper()
	rs := redistest.Start(b)
	if len(opts) > 0 {
		redistest.StartReplica(rs) // for durable acknowledgement
	}
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, PoolSize: 64})
	b.Cleanup(func() { _ = rdb.Close() })
	sealer, err := store.NewSealer("bench-secret-key-0123456789")
	if err != nil {
		b.Fatal(err)
	}
	st := store.New(rdb, sealer, store.Options{})
	srv := &httpapi.Server{Store: st, Queue: queue.NewClient(rdb, queue.DefaultSchedule(), opts...), RootToken: rootToken,
		Log: zerolog.New(io.Discard), SourceCacheTTL: 2 * time.Second}
	h := srv.Handler(httpapi.Roles{Receiver: true, API: true})
	call := func(path, token string, in any) map[string]any {
		j, _ := json.Marshal(in)
		req := httptest.NewRequest("POST", path, bytes.NewReader(j))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := map[string]any{}
		if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
			b.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		return out
	}
	tok := call("/v1/tenants", rootToken, map[string]any{"name": "bench"})["token"].(string)
	src := call("/v1/sources", tok, map[string]any{"name": "dodo", "kind": "standard-webhooks"})
	body, err := os.ReadFile("../testdata/dodo/payment.succeeded.usd.json")
	if err != nil {
		b.Fatal(err)
	}
	k, _ := inbound.Lookup("standard-webhooks")
	br := &benchReceiver{h: h, reqs: make([]benchReq, n)}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range br.reqs {
		hd, sb, err := k.Sign(nil, src["secret"].(string), "msg_bench_"+run+"_"+strconv.Itoa(i), body, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		hd.Set("Content-Type", "application/json")
		br.reqs[i] = benchReq{path: "/v1/webhooks/" + src["id"].(string), h: hd, body: sb}
	}
	return br
}

// serve posts request i and fails unless it is answered 202.
func (br *benchReceiver) serve(b *testing.B, i int) {
	r := br.reqs[i]
	req := httptest.NewRequest("POST", r.path, bytes.NewReader(r.body))
	req.Header = r.h
	req.ContentLength = int64(len(r.body))
	rec := httptest.NewRecorder()
	br.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		b.Errorf("request %d: %d %s", i, rec.Code, rec.Body)
	}
}

// BenchmarkReceive is one signed Dodo event → 202, one at a time: the
// receiver's CPU and allocations per webhook plus its Redis round trips.
//
//	go test ./httpapi -run '^$' -bench 'Receive$' -benchmem -benchtime 5000x
func BenchmarkReceive(b *testing.B) {
	br := newBenchReceiver(b, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		br.serve(b, i)
	}
}

// BenchmarkReceiveParallel is the same with 32 requests in flight (the
// target's concurrency), where requests that arrive together may share a
// Redis round trip.
func BenchmarkReceiveParallel(b *testing.B) {
	br := newBenchReceiver(b, b.N)
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // × GOMAXPROCS (2 here) = 32 in flight
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			br.serve(b, int(next.Add(1)-1))
		}
	})
}

// BenchmarkReceiveAckReplica is BenchmarkReceiveParallel with
// HOOKSHIFT_ACK_REPLICAS=1 and one local replica: the cost of durable
// acknowledgement (a barrier write and WAIT per webhook).
func BenchmarkReceiveAckReplica(b *testing.B) {
	br := newBenchReceiver(b, b.N, queue.WithDurableAck(queue.DurableAck{Replicas: 1}))
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			br.serve(b, int(next.Add(1)-1))
		}
	})
}
