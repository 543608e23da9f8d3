package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookshift/hookshift/internal/redistest"
)

// Paging the dead letters while deliveries die and others are replayed
// shows every remaining one once, newest first, and none twice.
func TestDeadLettersPageStably(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	ac := asynq.NewClientFromRedisClient(rdb)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 1, Queues: map[string]int{QueueDelivery: 1},
		TaskCheckInterval: 20 * time.Millisecond, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeDelivery, func(ctx context.Context, t *asynq.Task) error {
		return fmt.Errorf("HTTP 400 for bob@example.org: %w", asynq.SkipRetry)
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	dl := NewDeadLetters(rdb, nil)
	for i := range 10 {
		b, _ := json.Marshal(DeliveryPayload{EventID: fmt.Sprintf("evt_%02d", i), DestinationID: "dst_1", TenantID: "ten_1", Integration: "http"})
		if _, err := ac.Enqueue(asynq.NewTask(TypeDelivery, b), asynq.Queue(QueueDelivery), asynq.TaskID(fmt.Sprintf("evt_%02d:dst_1", i))); err != nil {
			t.Fatal(err)
		}
		if i%4 == 3 {
			time.Sleep(1100 * time.Millisecond) // spread failures over several seconds: asynq orders by second
		}
	}
	waitFor(t, func() bool { return countArchivedBefore(dl) == 10 })

	seen := map[string]int{}
	var order []DeadLetter
	cursor := ""
	for page := 0; page < 10; page++ {
		got, next, err := dl.List(context.Background(), 3, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range got {
			seen[d.EventID]++
			order = append(order, d)
			if d.Reason == "" || strings.Contains(d.Reason, "bob@example.org") || !strings.Contains(d.Reason, "b***@example.org") {
				t.Fatalf("reason not redacted: %q", d.Reason)
			}
		}
		if page == 0 {
			// Meanwhile: one seen and one unseen (the oldest) are replayed.
			if _, err := dl.Replay(context.Background(), []string{got[0].ID, "evt_00:dst_1"}); err != nil {
				t.Fatal(err)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for i := 1; i < 10; i++ {
		if n := seen[fmt.Sprintf("evt_%02d", i)]; n != 1 {
			t.Errorf("evt_%02d listed %d times, want once; order %v", i, n, order)
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i].FailedAt.After(order[i-1].FailedAt) {
			t.Fatalf("not newest first at %d: %v", i, order)
		}
	}
	if order[0].EventID != "evt_09" {
		t.Fatalf("newest is %s, want evt_09", order[0].EventID)
	}
	if _, _, err := dl.List(context.Background(), 3, "bm90LWEtY3Vyc29y"); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func countArchivedBefore(dl *DeadLetters) int {
	info, err := dl.insp.GetQueueInfo(QueueDelivery)
	if err != nil {
		return 0
	}
	return info.Archived
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
