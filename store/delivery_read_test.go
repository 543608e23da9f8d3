package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// ClaimDelivery reads what an attempt needs in one go, says which half of a
// delivery is gone, and reads a delivery record in the form written before
// records dropped their destination id and attempts.
func TestClaimDeliveryReads(t *testing.T) {
	s, rdb, _ := newTestStore(t, time.Hour)
	sealer, err := NewSealer("load-delivery-test-key-0123")
	if err != nil {
		t.Fatal(err)
	}
	s.sealer = sealer
	ctx := context.Background()
	ev := Event{ID: "evt_ld", TenantID: "ten_1", SourceID: "src_1", ProviderID: "p", Type: "payment.succeeded",
		ReceivedAt: time.Now().UTC().Truncate(time.Millisecond), Payload: json.RawMessage(`{"a":1}`)}
	dest := Destination{ID: "dst_ld", TenantID: "ten_1", SourceID: "src_1", Name: "d", Integration: "http",
		URL: "https://example.com/hook", Headers: map[string]string{"X-K": "v"}}

	if _, err := loadDelivery(t, s, ev.ID, dest.ID); !errors.Is(err, ErrEventNotFound) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("no event: err = %v, want ErrEventNotFound", err)
	}
	if _, err := s.RecordEvent(ctx, ev, "r", SearchKeys{}); err != nil {
		t.Fatal(err)
	}
	if _, err := loadDelivery(t, s, ev.ID, dest.ID); !errors.Is(err, ErrDestinationNotFound) {
		t.Fatalf("no destination: err = %v, want ErrDestinationNotFound", err)
	}
	if err := s.SaveDestination(ctx, dest); err != nil {
		t.Fatal(err)
	}
	in, err := loadDelivery(t, s, ev.ID, dest.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(in.Event.Payload) != `{"a":1}` || in.Event.Type != ev.Type || in.Destination.URL != dest.URL ||
		in.Delivery.Status != StatusPending || in.Delivery.AttemptCount != 0 || in.Health != (Health{}) {
		t.Fatalf("inputs = %+v", in)
	}
	// A caller changing its copy does not change the next caller's.
	in.Destination.Headers["X-K"] = "changed"
	if again, _ := loadDelivery(t, s, ev.ID, dest.ID); again.Destination.Headers["X-K"] != "v" {
		t.Fatalf("decoded destination shared between callers: %v", again.Destination.Headers)
	}

	// An event in the old form (a v1 record, its deliveries in a hash of
	// their own, in the record's old JSON form) still loads, and its
	// attempts go on being written there.
	if err := rdb.Set(ctx, s.kEvent(ev.ID), legacyEventRecord(mustJSONBytes(t, Event{ID: ev.ID, TenantID: ev.TenantID, Type: ev.Type}), nil), 0).Err(); err != nil {
		t.Fatal(err)
	}
	old := `{"destination_id":"dst_ld","status":"retrying","attempt_count":2,"last_error":"HTTP 503","updated_at":"2026-01-01T00:00:00Z","attempts":null}`
	if err := rdb.HSet(ctx, s.kDeliveries(ev.ID), dest.ID, old).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordHealth(ctx, dest.ID, false, CircuitPolicy{Threshold: 10}); err != nil {
		t.Fatal(err)
	}
	in, err = loadDelivery(t, s, ev.ID, dest.ID)
	if err != nil || in.Delivery.Status != StatusRetrying || in.Delivery.AttemptCount != 2 || in.Delivery.LastError != "HTTP 503" ||
		in.Delivery.DestinationID != dest.ID || in.Health.ConsecutiveFailures != 1 {
		t.Fatalf("old record: %+v, %v", in, err)
	}
	if err := s.RecordAttempt(ctx, ev.ID, dest.ID, Attempt{Number: 3, Outcome: "delivered"}, StatusDelivered); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Deliveries(ctx, ev.ID)
	if err != nil || len(ds) != 1 || ds[0].DestinationID != dest.ID || ds[0].Status != StatusDelivered || ds[0].AttemptCount != 3 || len(ds[0].Attempts) != 1 {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	if n := rdb.LLen(ctx, s.kAttempts(ev.ID, dest.ID)).Val(); n != 1 {
		t.Fatalf("old form's attempt list holds %d, want 1", n)
	}
	// An event stored as a hash (before events were one string) still loads.
	meta, _ := json.Marshal(Event{ID: ev.ID, TenantID: ev.TenantID, Type: ev.Type})
	if err := rdb.Del(ctx, s.kEvent(ev.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, s.kEvent(ev.ID), "meta", meta, "payload", `{"old":true}`).Err(); err != nil {
		t.Fatal(err)
	}
	if in, err := loadDelivery(t, s, ev.ID, dest.ID); err != nil || string(in.Event.Payload) != `{"old":true}` || in.Event.Type != ev.Type {
		t.Fatalf("old event form: %+v, %v", in.Event, err)
	}
}

// InitDeliveries makes every missing record pending in one call and leaves
// an existing one as it is, so a fan-out run twice skips what is done.
func TestInitDeliveries(t *testing.T) {
	s, _, _ := newTestStore(t, time.Hour)
	ctx := context.Background()
	if _, err := s.InitDeliveries(ctx, "evt_i", []string{"dst_a"}); !errors.Is(err, ErrEventNotFound) {
		t.Fatalf("init deliveries of an event not recorded: %v, want ErrEventNotFound", err)
	}
	recordTestEvent(t, s, "evt_i")
	if err := s.RecordAttempt(ctx, "evt_i", "dst_b", Attempt{Number: 1, Outcome: "delivered"}, StatusDelivered); err != nil {
		t.Fatal(err)
	}
	ds, err := s.InitDeliveries(ctx, "evt_i", []string{"dst_a", "dst_b", "dst_c"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{StatusPending, StatusDelivered, StatusPending}
	for i, d := range ds {
		if d.Status != want[i] || d.DestinationID != []string{"dst_a", "dst_b", "dst_c"}[i] {
			t.Fatalf("delivery %d = %+v, want status %s", i, d, want[i])
		}
	}
	all, err := s.Deliveries(ctx, "evt_i")
	if err != nil || len(all) != 3 {
		t.Fatalf("deliveries = %+v, %v", all, err)
	}
}

// RecordEventForFanOut records, indexes and returns the source's
// destinations (on a Redis that has not seen the scripts yet, so the
// pipelined script calls fall back to loading them); a copy with another
// receipt gets nothing, and a destination deleted meanwhile is skipped.
func TestRecordEventForFanOut(t *testing.T) {
	s, _, _ := newTestStore(t, time.Hour)
	sealer, err := NewSealer("fan-out-test-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	s.sealer = sealer
	ctx := context.Background()
	for _, id := range []string{"dst_1", "dst_2"} {
		if err := s.SaveDestination(ctx, Destination{ID: id, TenantID: "ten_1", SourceID: "src_1", Integration: "http", URL: "https://example.com/" + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveDestination(ctx, Destination{ID: "dst_other", TenantID: "ten_1", SourceID: "src_2", Integration: "http"}); err != nil {
		t.Fatal(err)
	}
	ev := Event{ID: "evt_f", TenantID: "ten_1", SourceID: "src_1", ProviderID: "p", Type: "payment.succeeded",
		ReceivedAt: time.Now(), Payload: json.RawMessage(`{"x":1}`)}
	rec, err := s.RecordEventForFanOut(ctx, ev, "r1")
	if err != nil || !rec.Fresh || !rec.First || len(rec.Dests) != 2 || rec.Dests[0].URL == "" {
		t.Fatalf("first run: %+v err=%v", rec, err)
	}
	if found, _, err := s.SearchEvents(ctx, "ten_1", EventFilter{}, 10, ""); err != nil || len(found) != 0 {
		t.Fatalf("indexed before IndexEvent: %+v, %v", found, err)
	}
	if err := s.IndexEvent(ctx, ev, SearchKeys{}); err != nil {
		t.Fatal(err)
	}
	if found, _, err := s.SearchEvents(ctx, "ten_1", EventFilter{}, 10, ""); err != nil || len(found) != 1 {
		t.Fatalf("indexed: %+v, %v", found, err)
	}
	// The destinations are read beside the record once their ids are
	// known; a change to one, with the same ids, is read all the same.
	changed, err := s.GetDestination(ctx, "ten_1", "dst_1")
	if err != nil {
		t.Fatal(err)
	}
	changed.URL = "https://example.com/changed"
	if err := s.SaveDestination(ctx, changed); err != nil {
		t.Fatal(err)
	}
	rec, err = s.RecordEventForFanOut(ctx, ev, "r1")
	if err != nil || len(rec.Dests) != 2 || rec.Dests[0].URL != "https://example.com/changed" {
		t.Fatalf("after a change to dst_1: %+v err=%v", rec, err)
	}
	if err := s.DeleteDestination(ctx, "ten_1", "dst_2"); err != nil {
		t.Fatal(err)
	}
	rec, err = s.RecordEventForFanOut(ctx, ev, "r1") // the same task again
	if err != nil || !rec.Fresh || rec.First || len(rec.Dests) != 1 || rec.Dests[0].ID != "dst_1" {
		t.Fatalf("retried task: %+v err=%v", rec, err)
	}
	rec, err = s.RecordEventForFanOut(ctx, ev, "r2") // a duplicate
	if err != nil || rec.Fresh || rec.First || rec.Dests != nil {
		t.Fatalf("duplicate: %+v err=%v", rec, err)
	}

	// The event's record is its own dedupe marker: a copy that comes after
	// the dedupe window, while the event is kept, is a duplicate too.
	if _, err := s.InitDeliveries(ctx, ev.ID, []string{"dst_1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.Del(ctx, s.kDedupe(ev.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	if rec, err = s.RecordEventForFanOut(ctx, ev, "r3"); err != nil || rec.Fresh {
		t.Fatalf("copy after the marker expired, record kept: %+v err=%v, want a duplicate", rec, err)
	}

	// An event in the old form whose marker expired but whose delivery
	// records are still there: a copy that comes now is recorded, but not
	// as a first, so the fan-out reads the records and does not send a
	// delivery that is done again; the record is left in its old form.
	old := Event{ID: "evt_old", TenantID: "ten_1", SourceID: "src_1", Type: "t", ReceivedAt: time.Now()}
	v1 := legacyEventRecord(mustJSONBytes(t, old), nil)
	if err := s.rdb.Set(ctx, s.kEvent(old.ID), v1, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.HSet(ctx, s.kDeliveries(old.ID), "dst_1", `{"status":"delivered","updated_at":"2026-01-01T00:00:00Z"}`).Err(); err != nil {
		t.Fatal(err)
	}
	if rec, err = s.RecordEventForFanOut(ctx, old, "r3"); err != nil || !rec.Fresh || rec.First {
		t.Fatalf("copy of an old-form event: %+v err=%v, want fresh and not first", rec, err)
	}
	if ds, err := s.InitDeliveries(ctx, old.ID, []string{"dst_1"}); err != nil || ds[0].Status != StatusDelivered {
		t.Fatalf("old-form delivery after the copy: %+v, %v", ds, err)
	}
	if got := s.rdb.Get(ctx, s.kEvent(old.ID)).Val(); got != string(v1) {
		t.Fatalf("old-form record rewritten: %q", got)
	}
	// Its delivery records outlived the record itself: a copy is a
	// duplicate, not a new event whose deliveries would be sent again.
	if err := s.rdb.Del(ctx, s.kEvent(old.ID), s.kDedupe(old.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	if rec, err = s.RecordEventForFanOut(ctx, old, "r4"); err != nil || rec.Fresh {
		t.Fatalf("copy after an old-form record expired before its deliveries: %+v err=%v, want a duplicate", rec, err)
	}
	if ok, err := s.RecordEvent(ctx, Event{ID: "evt_g", TenantID: "ten_1", SourceID: "src_1", Type: "t", ReceivedAt: time.Now(),
		Payload: json.RawMessage(`{}`)}, "r1", SearchKeys{}); err != nil || !ok {
		t.Fatalf("RecordEvent of a new event = %v, %v", ok, err)
	}
}

// recordTestEvent records a bare event of ten_1/src_1, so that deliveries
// of it can be written.
func recordTestEvent(t testing.TB, s *Store, id string) {
	t.Helper()
	ev := Event{ID: id, TenantID: "ten_1", SourceID: "src_1", Type: "t", ReceivedAt: s.now(), Payload: json.RawMessage(`{}`)}
	if ok, err := s.RecordEvent(context.Background(), ev, "r-"+id, SearchKeys{}); err != nil || !ok {
		t.Fatalf("record %s: %v, %v", id, ok, err)
	}
}

func mustJSONBytes(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// legacyEventRecord is an event record of format 1 (meta as JSON), as
// written before one key per event.
func legacyEventRecord(meta, payload []byte) []byte {
	b := binary.AppendUvarint([]byte{eventRecordV1}, uint64(len(meta)))
	return append(append(b, meta...), payload...)
}

// A delivery's send lease is held by one run at a time; the attempt's record
// gives it up in the same step for its own token only, and ReleaseDelivery
// does the same for a run that recorded nothing.
func TestDeliverySendLease(t *testing.T) {
	s, _, _ := newTestStore(t, time.Hour)
	sealer, err := NewSealer("send-lease-test-key-0123456")
	if err != nil {
		t.Fatal(err)
	}
	s.sealer = sealer
	ctx := context.Background()
	recordTestEvent(t, s, "evt_ls")
	if err := s.SaveDestination(ctx, Destination{ID: "dst_ls", TenantID: "ten_1", SourceID: "src_1", Name: "d", Integration: "http", URL: "https://example.com/h"}); err != nil {
		t.Fatal(err)
	}
	claim := func(token string) bool {
		t.Helper()
		_, ok, err := s.ClaimDelivery(ctx, "evt_ls", "dst_ls", token, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("a") || claim("b") {
		t.Fatal("the lease is not held by one run at a time")
	}
	att := Attempt{Number: 1, Outcome: "retry", Error: "HTTP 503"}
	if err := s.RecordAttemptReleasing(ctx, "evt_ls", "dst_ls", att, StatusRetrying, "b"); err != nil {
		t.Fatal(err)
	}
	if claim("c") {
		t.Fatal("a record with another run's token gave the lease up")
	}
	att.Number = 2
	if err := s.RecordAttemptReleasing(ctx, "evt_ls", "dst_ls", att, StatusRetrying, "a"); err != nil {
		t.Fatal(err)
	}
	if !claim("c") {
		t.Fatal("the record with the holder's token left the lease held")
	}
	if err := s.ReleaseDelivery(ctx, "evt_ls", "dst_ls", "a"); err != nil || claim("d") {
		t.Fatalf("a release with a stale token freed the lease (%v)", err)
	}
	if err := s.ReleaseDelivery(ctx, "evt_ls", "dst_ls", "c"); err != nil || !claim("d") {
		t.Fatalf("the holder's release left the lease held (%v)", err)
	}
	if ds, err := s.Deliveries(ctx, "evt_ls"); err != nil || len(ds) != 1 || ds[0].AttemptCount != 2 {
		t.Fatalf("deliveries = %+v, %v; want both attempts recorded", ds, err)
	}
}

// loadDelivery is ClaimDelivery's reads, its lease aside (each call takes a
// lease of its own token, held or not).
func loadDelivery(t testing.TB, s *Store, eventID, destID string) (DeliveryInputs, error) {
	t.Helper()
	in, _, err := s.ClaimDelivery(context.Background(), eventID, destID, rand.Text(), time.Minute)
	return in, err
}
