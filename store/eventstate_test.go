package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// An event is one key: its record, its receipt, its deliveries and their
// attempts. Nothing else of it is left in Redis when the dedupe window is
// within the retention, and every write keeps the key's retention.
func TestOneKeyPerEvent(t *testing.T) {
	rdb := redistest.Start(t).Client()
	redistest.GuardSlots(rdb, func(msg string) { t.Error(msg) })
	s := New(rdb, nil, Options{EventRetention: time.Hour, DedupeWindow: time.Hour})
	ctx := context.Background()
	ev := Event{ID: "evt_one", TenantID: "ten_1", SourceID: "src_1", ProviderID: "msg_1", Type: "payment.succeeded",
		ReceivedAt: time.Now(), Payload: json.RawMessage(`{"type":"payment.succeeded","data":{"amount":100}}`)}
	if seen, err := s.Seen(ctx, ev.ID); err != nil || seen {
		t.Fatalf("seen before it was recorded: %v, %v", seen, err)
	}
	if ok, err := s.RecordEvent(ctx, ev, "r1", SearchKeys{}); err != nil || !ok {
		t.Fatalf("record: %v, %v", ok, err)
	}
	if seen, err := s.Seen(ctx, ev.ID); err != nil || !seen {
		t.Fatalf("recorded event not seen: %v, %v", seen, err)
	}
	if _, err := s.InitDeliveries(ctx, ev.ID, []string{"dst_a", "dst_b", "dst_a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, ev.ID, "dst_a", Attempt{Number: 1, Outcome: "retry", Error: "HTTP 503"}, StatusRetrying); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, ev.ID, "dst_a", Attempt{Number: 2, Outcome: "permanent", Error: "HTTP 400"}, StatusFailed); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, ev.ID, "dst_b", Attempt{Number: 1, Outcome: "delivered", StatusCode: 200}, StatusDelivered); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "*{e:evt_one}*").Result()
	if err != nil || len(keys) != 1 || keys[0] != s.kEvent(ev.ID) {
		t.Fatalf("keys of the event = %v, %v; want only %s", keys, err, s.kEvent(ev.ID))
	}
	if ttl := rdb.PTTL(ctx, s.kEvent(ev.ID)).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("event TTL after the writes = %v, want within the 1h retention", ttl)
	}
	ds, err := s.Deliveries(ctx, ev.ID)
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	if a := ds[0]; a.DestinationID != "dst_a" || a.Status != StatusFailed || a.AttemptCount != 2 || a.LastError != "HTTP 400" ||
		len(a.Attempts) != 2 || a.Attempts[0].Error != "HTTP 503" || a.Attempts[1].Number != 2 {
		t.Fatalf("dst_a = %+v", a)
	}
	if b := ds[1]; b.DestinationID != "dst_b" || b.Status != StatusDelivered || len(b.Attempts) != 1 || b.Attempts[0].StatusCode != 200 {
		t.Fatalf("dst_b = %+v", b)
	}
	got, err := s.GetEvent(ctx, "ten_1", ev.ID)
	if err != nil || string(got.Payload) != string(ev.Payload) || got.Type != ev.Type {
		t.Fatalf("event after the state writes = %+v, %v", got, err)
	}
	states, err := s.DeliveryStates(ctx, []string{ev.ID, "evt_gone"})
	if err != nil || len(states[ev.ID]) != 2 || len(states["evt_gone"]) != 0 {
		t.Fatalf("delivery states = %+v, %v", states, err)
	}

	// A replay claims a failed delivery once; the delivered one is not
	// claimed; the event's other delivery is left as it was.
	// The replay that claimed it may claim it again (its task run again
	// after a crash); another may not, and the claim shows to its re-run's
	// listing only.
	for i, c := range []struct {
		stamp string
		want  bool
	}{{"rp1", true}, {"rp2", false}, {"", false}, {"rp1", true}} {
		if ok, err := s.ReplayFailed(ctx, ev.ID, "dst_a", c.stamp); err != nil || ok != c.want {
			t.Fatalf("replay %d (%q) of dst_a = %v, %v; want %v", i, c.stamp, ok, err, c.want)
		}
	}
	for _, c := range []struct {
		by   string
		want int
	}{{"", 0}, {"rp2", 0}, {"rp1", 1}} {
		if fs, _, err := s.FailedDeliveries(ctx, "dst_a", time.Time{}, 10, "", c.by); err != nil || len(fs) != c.want {
			t.Fatalf("failed deliveries claimed by %q = %+v, %v; want %d", c.by, fs, err, c.want)
		}
	}
	if ok, err := s.ReplayFailed(ctx, ev.ID, "dst_b", "rp1"); err != nil || ok {
		t.Fatalf("replay of a delivered delivery = %v, %v", ok, err)
	}
	if ok, err := s.ReplayFailed(ctx, "evt_gone", "dst_b", "rp1"); err != nil || ok {
		t.Fatalf("replay of a gone event = %v, %v", ok, err)
	}
	ds, _ = s.Deliveries(ctx, ev.ID)
	if ds[0].Status != StatusPending || len(ds[0].Attempts) != 2 || ds[1].Status != StatusDelivered {
		t.Fatalf("after the replay: %+v", ds)
	}
	// The claim ends with the delivery's next attempt.
	if err := s.RecordAttempt(ctx, ev.ID, "dst_a", Attempt{Number: 3, Outcome: "retrying", Error: "HTTP 503"}, StatusRetrying); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ReplayFailed(ctx, ev.ID, "dst_a", "rp1"); err != nil || ok {
		t.Fatalf("a claim outlived the attempt it was for: %v, %v", ok, err)
	}
	if err := s.SetDeliveryStatus(ctx, ev.ID, "dst_c", StatusCancelled); err != nil {
		t.Fatal(err)
	}
	if ds, _ = s.Deliveries(ctx, ev.ID); len(ds) != 3 || ds[2].Status != StatusCancelled {
		t.Fatalf("after a status for a new destination: %+v", ds)
	}
	// A gone event takes no state: nothing is created beside it.
	if err := s.RecordAttempt(ctx, "evt_gone", "dst_a", Attempt{Number: 1}, StatusDelivered); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDeliveryStatus(ctx, "evt_gone", "dst_a", StatusPending); !errors.Is(err, ErrEventNotFound) {
		t.Fatalf("status of a gone event: %v", err)
	}
	if keys, _ := rdb.Keys(ctx, "*{e:evt_gone}*").Result(); len(keys) != 0 {
		t.Fatalf("writes to a gone event made %v", keys)
	}
}

// A delivery keeps its last maxAttemptsKept attempts, in order, and the
// other deliveries' attempts are untouched by the trim.
func TestAttemptsTrimmed(t *testing.T) {
	s, _, _ := newTestStore(t, time.Hour)
	ctx := context.Background()
	recordTestEvent(t, s, "evt_t")
	if err := s.RecordAttempt(ctx, "evt_t", "dst_other", Attempt{Number: 1, Error: "kept"}, StatusRetrying); err != nil {
		t.Fatal(err)
	}
	n := maxAttemptsKept + 5
	for i := 1; i <= n; i++ {
		if err := s.RecordAttempt(ctx, "evt_t", "dst_a", Attempt{Number: i, Error: fmt.Sprint("try ", i)}, StatusRetrying); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := s.Deliveries(ctx, "evt_t")
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	a := ds[0].Attempts
	if len(a) != maxAttemptsKept || a[0].Number != n-maxAttemptsKept+1 || a[len(a)-1].Number != n || ds[0].AttemptCount != n {
		t.Fatalf("dst_a kept %d attempts, %d..%d (count %d); want the last %d of %d",
			len(a), a[0].Number, a[len(a)-1].Number, ds[0].AttemptCount, maxAttemptsKept, n)
	}
	if o := ds[1].Attempts; len(o) != 1 || o[0].Error != "kept" {
		t.Fatalf("dst_other's attempts = %+v", o)
	}
}

// A dedupe window longer than the retention keeps a marker of its own, so a
// copy is still refused once the event has expired; a receipt that could
// not be told from the state's separators is refused.
func TestDedupeWindowBeyondRetention(t *testing.T) {
	rdb := redistest.Start(t).Client()
	s := New(rdb, nil, Options{EventRetention: time.Hour, DedupeWindow: 3 * time.Hour})
	ctx := context.Background()
	ev := Event{ID: "evt_w", TenantID: "ten_1", SourceID: "src_1", Type: "t", ReceivedAt: time.Now(), Payload: json.RawMessage(`{}`)}
	if ok, err := s.RecordEvent(ctx, ev, "r1", SearchKeys{}); err != nil || !ok {
		t.Fatalf("record: %v, %v", ok, err)
	}
	if ttl := rdb.PTTL(ctx, s.kDedupe(ev.ID)).Val(); ttl <= 2*time.Hour {
		t.Fatalf("marker TTL = %v, want the 3h window", ttl)
	}
	rdb.Del(ctx, s.kEvent(ev.ID)) // the retention passes
	if seen, _ := s.Seen(ctx, ev.ID); !seen {
		t.Fatal("expired event inside the window not seen")
	}
	if ok, err := s.RecordEvent(ctx, ev, "r2", SearchKeys{}); err != nil || ok {
		t.Fatalf("copy inside the window recorded: %v, %v", ok, err)
	}
	if ok, err := s.RecordEvent(ctx, ev, "r1", SearchKeys{}); err != nil || ok {
		t.Fatalf("retry after the event expired recorded it again: %v, %v", ok, err)
	}
	if _, err := s.RecordEvent(ctx, Event{ID: "evt_x", TenantID: "ten_1"}, "bad\x1ereceipt", SearchKeys{}); err == nil {
		t.Fatal("receipt with a separator accepted")
	}
	if n := rdb.Exists(ctx, s.kEvent("evt_x")).Val(); n != 0 {
		t.Fatal("refused receipt wrote the event")
	}
	// Nor can a destination id break the state apart.
	if ok, err := s.RecordEvent(ctx, Event{ID: "evt_y", TenantID: "ten_1", Payload: json.RawMessage(`{}`)}, "r1", SearchKeys{}); err != nil || !ok {
		t.Fatalf("record evt_y: %v, %v", ok, err)
	}
	bad := "dst_a\x1fd\x1fdst_b"
	if _, err := s.InitDeliveries(ctx, "evt_y", []string{"dst_ok", bad}); err == nil {
		t.Fatal("init deliveries took a destination id with a separator")
	}
	if err := s.RecordAttempt(ctx, "evt_y", bad, Attempt{Number: 1}, StatusDelivered); err == nil {
		t.Fatal("record attempt took a destination id with a separator")
	}
	if err := s.SetDeliveryStatus(ctx, "evt_y", bad, StatusPending); err == nil {
		t.Fatal("set delivery status took a destination id with a separator")
	}
	if _, err := s.ReplayFailed(ctx, "evt_y", bad, "rp"); err == nil {
		t.Fatal("replay took a destination id with a separator")
	}
	if ds, err := s.Deliveries(ctx, "evt_y"); err != nil || len(ds) != 0 {
		t.Fatalf("refused writes left deliveries: %+v, %v", ds, err)
	}

}

// The compact stored forms give back what was stored (times to the
// millisecond), and the earlier forms still read.
func TestStoredForms(t *testing.T) {
	at := time.Date(2026, 12, 2, 5, 33, 15, 546824973, time.UTC)
	d := Delivery{DestinationID: "dst_1", Status: StatusRetrying, AttemptCount: 3, LastError: "HTTP 503", UpdatedAt: at}
	b := encodeDelivery(d)
	got, err := decodeDelivery("dst_1", b)
	d.UpdatedAt = at.Truncate(time.Millisecond)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(d) {
		t.Fatalf("delivery %s read back as %+v, %v; want %+v", b, got, err, d)
	}
	old := `{"destination_id":"dst_1","status":"failed","attempt_count":2,"last_error":"x","updated_at":"2026-01-01T00:00:00Z","attempts":null}`
	if got, err := decodeDelivery("dst_1", []byte(old)); err != nil || got.Status != StatusFailed || got.AttemptCount != 2 || got.LastError != "x" || got.UpdatedAt.Year() != 2026 {
		t.Fatalf("earlier delivery form: %+v, %v", got, err)
	}

	a := Attempt{Number: 2, At: at, Outcome: "retry", StatusCode: 503, DurationMS: 12.5, Error: "HTTP 503", Line: 7,
		Logs: []string{"one", "two"}, Request: "POST https://example.com/hook"}
	ab, err := encodeAttempt(a)
	if err != nil {
		t.Fatal(err)
	}
	ga, err := decodeAttempt(ab)
	a.At = at.Truncate(time.Millisecond)
	if err != nil || fmt.Sprint(ga) != fmt.Sprint(a) {
		t.Fatalf("attempt %s read back as %+v, %v; want %+v", ab, ga, err, a)
	}
	oldA, _ := json.Marshal(a)
	if ga, err := decodeAttempt(oldA); err != nil || fmt.Sprint(ga) != fmt.Sprint(a) {
		t.Fatalf("earlier attempt form %s read as %+v, %v", oldA, ga, err)
	}

	for _, ev := range []Event{
		{ID: "evt_1", TenantID: "ten_1", SourceID: "src_1", ProviderID: "msg_1", Type: "payment.succeeded", ReceivedAt: at},
		{ID: "evt_2"}, // every field empty, zero time
	} {
		rec := encodeEventRecord(ev, []byte("PAYLOAD"))
		got, payload, err := decodeEventMeta(ev.ID, encodeEventV2(rec, "r1"))
		if err != nil || fmt.Sprint(got) != fmt.Sprint(ev) || string(payload) != "PAYLOAD" {
			t.Fatalf("event %+v read back as %+v, %q, %v", ev, got, payload, err)
		}
	}
	ev := Event{ID: "evt_1", TenantID: "ten_1", Type: "t", ReceivedAt: at}
	v1 := legacyEventRecord(mustJSONBytes(t, ev), []byte("P"))
	if got, payload, err := decodeEventMeta(ev.ID, v1); err != nil || fmt.Sprint(got) != fmt.Sprint(ev) || string(payload) != "P" {
		t.Fatalf("format 1 read as %+v, %q, %v", got, payload, err)
	}
}

// Whatever bytes an event key holds, reading them errs or succeeds, never
// panics; and a record written from any field values reads back the same.
func FuzzEventRecord(f *testing.F) {
	f.Add("ten_1", "src_1", "msg_1", "payment.succeeded", int64(1764653595546824973), []byte("{}"), "r1")
	f.Add("", "", "", "", int64(0), []byte{}, "x")
	f.Fuzz(func(t *testing.T, tenant, source, provider, typ string, ns int64, payload []byte, receipt string) {
		ev := Event{ID: "evt_f", TenantID: tenant, SourceID: source, ProviderID: provider, Type: typ}
		if ns != 0 {
			ev.ReceivedAt = time.Unix(0, ns).UTC()
		}
		b := encodeEventV2(encodeEventRecord(ev, payload), receipt)
		got, p, err := decodeEventMeta(ev.ID, b)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(ev) || string(p) != string(payload) {
			t.Fatalf("%+v read back as %+v, %q, %v", ev, got, p, err)
		}
		if checkStateField("receipt", receipt) == nil {
			_, st, err := splitEventV2(ev.ID, b)
			if err != nil {
				t.Fatal(err)
			}
			if es, err := parseEventState(ev.ID, st); err != nil || es.receipt != receipt {
				t.Fatalf("state of receipt %q read as %+v, %v", receipt, es, err)
			}
		}
		// Arbitrary bytes: no panic.
		_, _, _ = decodeEventMeta(ev.ID, payload)
		if _, st, err := splitEventV2(ev.ID, payload); err == nil {
			_, _ = parseEventState(ev.ID, st)
		}
		_, _ = parseEventState(ev.ID, payload)
	})
}

// An event's state stays under Options.MaxEventStateBytes: a delivery whose
// attempts carry large logs keeps its newest ones, in order, and never
// drops another delivery's.
func TestEventStateBounded(t *testing.T) {
	rdb := redistest.Start(t).Client()
	const max = 4 << 10
	s := New(rdb, nil, Options{EventRetention: time.Hour, MaxEventStateBytes: max})
	ctx := context.Background()
	recordTestEvent(t, s, "evt_b")
	if err := s.RecordAttempt(ctx, "evt_b", "dst_other", Attempt{Number: 1, Logs: []string{strings.Repeat("o", 1500)}}, StatusRetrying); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 600)
	for i := 1; i <= 20; i++ {
		if err := s.RecordAttempt(ctx, "evt_b", "dst_a", Attempt{Number: i, Logs: []string{big}}, StatusRetrying); err != nil {
			t.Fatal(err)
		}
		raw, err := rdb.Get(ctx, s.kEvent("evt_b")).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		_, st, _ := splitEventV2("evt_b", raw)
		if len(st) > max {
			t.Fatalf("after attempt %d the state is %d bytes, over the %d bound", i, len(st), max)
		}
	}
	ds, err := s.Deliveries(ctx, "evt_b")
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	a := ds[0].Attempts
	if len(a) < 2 || a[len(a)-1].Number != 20 || ds[0].AttemptCount != 20 {
		t.Fatalf("dst_a kept %+v (count %d); want its newest attempts, up to 20", a, ds[0].AttemptCount)
	}
	for k := 1; k < len(a); k++ {
		if a[k].Number != a[k-1].Number+1 {
			t.Fatalf("dst_a's attempts out of order or with a gap: %d then %d", a[k-1].Number, a[k].Number)
		}
	}
	if o := ds[1].Attempts; len(o) != 1 || len(o[0].Logs[0]) != 1500 {
		t.Fatalf("dst_other's attempt = %+v; want it kept whole", o)
	}
	// A delivery whose one attempt is over the bound by itself still
	// records it (and only it).
	if err := s.RecordAttempt(ctx, "evt_b", "dst_a", Attempt{Number: 21, Logs: []string{strings.Repeat("y", max)}}, StatusFailed); err != nil {
		t.Fatal(err)
	}
	ds, _ = s.Deliveries(ctx, "evt_b")
	if a := ds[0].Attempts; len(a) != 1 || a[0].Number != 21 || ds[0].Status != StatusFailed {
		t.Fatalf("after an attempt larger than the bound: %+v", ds[0])
	}
}

// The fan-out's QueueInitDeliveries writes destination ids into the state
// as InitDeliveries does, so it refuses the same ids: one with a separator
// would break the event's state apart, and every delivery of the event
// would then fail to load.
func TestQueueInitDeliveriesRefusesSeparators(t *testing.T) {
	s, rdb, _ := newTestStore(t, time.Hour)
	ctx := context.Background()
	recordTestEvent(t, s, "evt_qi")
	var done func() error
	_, _ = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		done = s.QueueInitDeliveries(ctx, p, "evt_qi", []string{"dst_ok", "dst_b\x1e"})
		return nil
	})
	if err := done(); err == nil {
		t.Fatal("queued init deliveries took a destination id with a separator")
	}
	if _, err := s.deliveryRecord(ctx, "evt_qi", "dst_ok"); err != nil {
		t.Fatalf("the event's other delivery no longer loads: %v", err)
	}
	if ds, err := s.Deliveries(ctx, "evt_qi"); err != nil || len(ds) != 0 {
		t.Fatalf("refused write left deliveries: %+v, %v", ds, err)
	}
}
