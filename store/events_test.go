package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// The dedupe marker tells a retried ingest task (same receipt: go on) from a
// duplicate that slipped between the receiver's marker check and its
// enqueue (another receipt: drop), and the event is stored once either way.
func TestRecordEventReceipts(t *testing.T) {
	s, rdb, _ := newTestStore(t, time.Hour)
	ctx := context.Background()
	ev := Event{ID: EventID("src_1", "msg_1"), TenantID: "ten_1", SourceID: "src_1", ProviderID: "msg_1",
		Type: "payment.succeeded", ReceivedAt: time.Now(), Payload: json.RawMessage(`{"type":"payment.succeeded"}`)}
	for i, c := range []struct {
		receipt string
		want    bool
	}{{"r1", true}, {"r1", true}, {"r2", false}} {
		fresh, err := s.RecordEvent(ctx, ev, c.receipt, SearchKeys{})
		if err != nil {
			t.Fatal(err)
		}
		if fresh != c.want {
			t.Fatalf("call %d with receipt %s: fresh = %v, want %v", i, c.receipt, fresh, c.want)
		}
	}
	if seen, _ := s.Seen(ctx, ev.ID); !seen {
		t.Fatal("recorded event is not seen as a duplicate")
	}
	got, err := s.GetEvent(ctx, "ten_1", ev.ID)
	if err != nil || string(got.Payload) != `{"type":"payment.succeeded"}` {
		t.Fatalf("event = %+v, %v", got, err)
	}
	if n, _ := rdb.ZCard(ctx, s.kTenantEvents("ten_1")).Result(); n != 1 {
		t.Fatalf("tenant index holds %d entries, want 1", n)
	}
	if ttl, _ := rdb.PTTL(ctx, s.kDedupe(ev.ID)).Result(); ttl <= 0 || ttl > s.opts.DedupeWindow {
		t.Fatalf("dedupe marker TTL = %v, want within the %v window", ttl, s.opts.DedupeWindow)
	}
	if _, err := s.GetEvent(ctx, "ten_other", ev.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another tenant reads the event: %v", err)
	}
}
