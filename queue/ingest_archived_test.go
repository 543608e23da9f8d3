package queue

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookshift/hookshift/internal/redistest"
)

// An ingest task that asynq archived (its fan-out failed past its retries,
// e.g. for the day a destination could not be read) holds the event's
// TaskID in asynq's archive, where nothing runs it. A copy of the event
// posted again (the platform's retry, or a manual resend) must not be
// answered as the duplicate of a task still to run while that task will
// never run: the enqueue runs the archived task again, once, as asynqmon's
// "run" would, and the copy is its duplicate.
func TestIngestCopyRunsItsArchivedTask(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	ctx := context.Background()
	b := NewIngestBatcher(NewClient(rdb, DefaultSchedule()), ingestStore(t, rdb), 5*time.Second)
	if _, err := b.Enqueue(ctx, ingestPayload("evt_dead")); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	if err := insp.ArchiveTask(QueueIngest, "evt_dead"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second copy finds it pending again: nothing more
		again := ingestPayload("evt_dead")
		again.Receipt = "r_again"
		res, err := b.Enqueue(ctx, again)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Queued {
			t.Fatalf("copy %d: %+v, want a duplicate of the queued task", i, res)
		}
		info, err := insp.GetTaskInfo(QueueIngest, "evt_dead")
		if err != nil || info.State != asynq.TaskStatePending {
			t.Fatalf("copy %d answered %+v while the event's only task is %v (%v); want it pending, to be run", i, res, info.State, err)
		}
		if ids, _ := rdb.LRange(ctx, asynqPendingKey(QueueIngest), 0, -1).Result(); len(ids) != 1 || ids[0] != "evt_dead" {
			t.Fatalf("copy %d: pending list %v, want the event once", i, ids)
		}
		if n, _ := rdb.ZCard(ctx, "asynq:{"+QueueIngest+"}:archived").Result(); n != 0 {
			t.Fatalf("copy %d: %d tasks still archived", i, n)
		}
		// The task run is the first copy's (its receipt): a fan-out cut
		// short after it recorded the event finishes under that receipt.
		if string(info.Payload) == "" || !hasReceipt(info.Payload, "r_evt_dead") {
			t.Fatalf("copy %d: the pending task is %s, want the archived one", i, info.Payload)
		}
	}
}

func hasReceipt(payload []byte, receipt string) bool {
	p, err := decodeIngest(payload)
	return err == nil && p.Receipt == receipt
}
