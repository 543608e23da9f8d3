package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// BenchmarkDelivery is one delivery task (read, send to a local server,
// record) of a 1.7 kB Dodo event, run in-process against a private
// redis-server: the worker's own cost per delivery, for CPU profiles.
//
//	go test -run '^$' -bench BenchmarkDelivery -benchmem -cpuprofile /tmp/cpu.out ./queue
func BenchmarkDelivery(b *testing.B) {
	h := newHotPath(b)
	const pool = 2000
	tasks := make([]*asynq.Task, min(b.N, pool))
	for i := range tasks {
		tasks[i] = h.event(b, i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.del.ProcessTask(ctx, tasks[i%len(tasks)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFanOut is one ingest task: record the event (payload encoded
// once), find its destination and enqueue its delivery.
func BenchmarkFanOut(b *testing.B) {
	h := newHotPath(b)
	body, err := os.ReadFile("../testdata/dodo/payment.succeeded.usd.json")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("evt_fan_%08d", i)
		p, _ := json.Marshal(IngestPayload{Receipt: "r", EventID: id, TenantID: "ten_hot", SourceID: "src_hot",
			ProviderID: id, Type: "payment.succeeded", ReceivedAt: time.Now(), Body: body})
		if err := h.fan.ProcessTask(ctx, asynq.NewTask(TypeIngest, p)); err != nil {
			b.Fatal(err)
		}
	}
}
