package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/internal/redistest"
)

var bg = context.Background()

// testClock is a settable clock for the store.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// newTestStore returns a store on a private Redis, refusing (as a cluster
// would) any script, MULTI or command whose keys span hash slots. Inside
// TestStoreOnCluster it returns a store on that test's cluster instead, with
// a prefix of its own.
func newTestStore(t testing.TB, retention time.Duration) (*Store, redis.UniversalClient, *testClock) {
	t.Helper()
	var rdb redis.UniversalClient
	prefix := ""
	if onCluster != nil {
		rdb, prefix = onCluster.client, fmt.Sprintf("t%d:", onCluster.next.Add(1))
	} else {
		rdb = redistest.Start(t).Client()
		redistest.GuardSlots(rdb, func(msg string) { t.Error(msg) })
	}
	clk := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return New(rdb, nil, Options{Prefix: prefix, EventRetention: retention, Now: clk.Now}), rdb, clk
}

// fixture is one recorded event and the keys it was recorded with.
type fixture struct {
	ev   Event
	keys SearchKeys
}

// record stores fixtures, failing the test on error or a refused duplicate.
func record(t testing.TB, s *Store, fs ...fixture) {
	t.Helper()
	for _, f := range fs {
		ok, err := s.RecordEvent(bg, f.ev, "rcpt-"+f.ev.ID, f.keys)
		if err != nil || !ok {
			t.Fatalf("record %s: ok=%v err=%v", f.ev.ID, ok, err)
		}
	}
}

// mixedEvents are 25 events of one tenant over 2 sources, 3 types, 3
// customers (emails in mixed case) and payments shared by pairs, received in
// groups of three per millisecond so that page edges fall inside a
// millisecond.
func mixedEvents(tenant string, base time.Time) []fixture {
	types := []string{"payment.succeeded", "refund.succeeded", "dispute.opened"}
	emails := []string{"Ann@Example.com", "bob@example.com", "CARL@example.com"}
	var out []fixture
	for i := range 25 {
		c := i % 3
		ev := Event{
			ID:         fmt.Sprintf("evt_%s_%02d", tenant, (i*7)%25), // ids not in time order
			TenantID:   tenant,
			SourceID:   []string{"src_a", "src_b"}[i%2],
			ProviderID: fmt.Sprintf("msg_%d", i),
			Type:       types[(i/2)%3],
			ReceivedAt: base.Add(time.Duration(i/3) * time.Millisecond),
			Payload:    []byte(`{}`),
		}
		out = append(out, fixture{ev, SearchKeys{
			CustomerID: fmt.Sprintf("cus_%d", c),
			Email:      emails[c],
			PaymentIDs: []string{fmt.Sprintf("pay_%d", i/2), "order-" + fmt.Sprint(i/2)},
		}})
	}
	return out
}

// newestFirst is the order the search promises: received time descending,
// event id descending within a millisecond.
func newestFirst(fs []fixture) []string {
	s := slices.Clone(fs)
	slices.SortFunc(s, func(a, b fixture) int {
		if c := b.ev.ReceivedAt.UnixMilli() - a.ev.ReceivedAt.UnixMilli(); c != 0 {
			return int(c)
		}
		return strings.Compare(b.ev.ID, a.ev.ID)
	})
	ids := make([]string, len(s))
	for i, f := range s {
		ids[i] = f.ev.ID
	}
	return ids
}

// searchAll pages through a search and returns every id in order, failing on
// a duplicate or an over-full page.
func searchAll(t *testing.T, s *Store, tenant string, f EventFilter, limit int) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("search does not end")
		}
		evs, next, err := s.SearchEvents(bg, tenant, f, limit, cursor)
		if err != nil {
			t.Fatalf("search %+v: %v", f, err)
		}
		if len(evs) > limit {
			t.Fatalf("page of %d events, limit %d", len(evs), limit)
		}
		for _, ev := range evs {
			if seen[ev.ID] {
				t.Fatalf("event %s returned twice (page %d)", ev.ID, page)
			}
			if ev.TenantID != tenant {
				t.Fatalf("event %s of tenant %s in a search of %s", ev.ID, ev.TenantID, tenant)
			}
			if ev.Payload != nil {
				t.Fatalf("search returned a payload")
			}
			seen[ev.ID] = true
			ids = append(ids, ev.ID)
		}
		if next == "" {
			return ids
		}
		cursor = next
	}
}

func TestSearchReturnsExactlyTheMatchesAcrossPages(t *testing.T) {
	s, _, clk := newTestStore(t, 72*time.Hour)
	base := clk.Now().Add(-time.Hour)
	fs := mixedEvents("t1", base)
	record(t, s, fs...)
	// Another tenant with the same customers, payments and types.
	record(t, s, mixedEvents("t2", base)...)

	match := func(pred func(fixture) bool) []string {
		var sel []fixture
		for _, f := range fs {
			if pred(f) {
				sel = append(sel, f)
			}
		}
		return newestFirst(sel)
	}
	cases := []struct {
		name string
		f    EventFilter
		want []string
	}{
		{"no filter", EventFilter{}, match(func(fixture) bool { return true })},
		{"type", EventFilter{Type: "refund.succeeded"}, match(func(f fixture) bool { return f.ev.Type == "refund.succeeded" })},
		{"source", EventFilter{SourceID: "src_b"}, match(func(f fixture) bool { return f.ev.SourceID == "src_b" })},
		{"customer", EventFilter{CustomerID: "cus_1"}, match(func(f fixture) bool { return f.keys.CustomerID == "cus_1" })},
		{"email any case", EventFilter{Email: "ann@EXAMPLE.com"}, match(func(f fixture) bool { return f.keys.CustomerID == "cus_0" })},
		{"payment", EventFilter{PaymentID: "pay_4"}, match(func(f fixture) bool { return f.keys.PaymentIDs[0] == "pay_4" })},
		{"second payment id", EventFilter{PaymentID: "order-4"}, match(func(f fixture) bool { return f.keys.PaymentIDs[0] == "pay_4" })},
		{"type and customer", EventFilter{Type: "payment.succeeded", CustomerID: "cus_1"}, match(func(f fixture) bool {
			return f.ev.Type == "payment.succeeded" && f.keys.CustomerID == "cus_1"
		})},
		{"source, email and type", EventFilter{SourceID: "src_a", Email: "bob@example.com", Type: "dispute.opened"}, match(func(f fixture) bool {
			return f.ev.SourceID == "src_a" && f.keys.CustomerID == "cus_1" && f.ev.Type == "dispute.opened"
		})},
		{"customer and payment", EventFilter{CustomerID: "cus_0", PaymentID: "pay_6"}, match(func(f fixture) bool {
			return f.keys.CustomerID == "cus_0" && f.keys.PaymentIDs[0] == "pay_6"
		})},
		{"unknown customer", EventFilter{CustomerID: "cus_9"}, nil},
		{"no overlap", EventFilter{CustomerID: "cus_0", Email: "bob@example.com"}, nil},
	}
	defer func(n int) { scanChunk = n }(scanChunk)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name != "unknown customer" && c.name != "no overlap" && len(c.want) == 0 {
				t.Fatal("fixture matches nothing; the case tests nothing")
			}
			// Small script runs resume inside a millisecond too.
			for _, chunk := range []int{1000, 2, 1} {
				scanChunk = chunk
				for _, limit := range []int{7, 1, 3, 100} {
					if got := searchAll(t, s, "t1", c.f, limit); !slices.Equal(got, c.want) {
						t.Fatalf("chunk %d, limit %d:\n got %v\nwant %v", chunk, limit, got, c.want)
					}
				}
			}
		})
	}
}

func TestListEventsIsSearchWithoutFilters(t *testing.T) {
	s, _, clk := newTestStore(t, 72*time.Hour)
	fs := mixedEvents("t1", clk.Now().Add(-time.Minute))
	record(t, s, fs...)
	var got []string
	cursor := ""
	for {
		evs, next, err := s.ListEvents(bg, "t1", 4, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			got = append(got, ev.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if want := newestFirst(fs); !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	// A bare millisecond (the cursor format before ties were broken) resumes
	// before that millisecond.
	ms := fs[5].ev.ReceivedAt.UnixMilli()
	evs, _, err := s.ListEvents(bg, "t1", 100, fmt.Sprint(ms))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.ReceivedAt.UnixMilli() >= ms {
			t.Fatalf("event %s at %d is not before %d", ev.ID, ev.ReceivedAt.UnixMilli(), ms)
		}
	}
}

func TestSearchRejectsForeignCursors(t *testing.T) {
	s, _, _ := newTestStore(t, time.Hour)
	for _, c := range []string{"abc", "-5:evt", "12:evt x", "1.5", strings.Repeat("9", 300), "12:a:b"} {
		if _, _, err := s.SearchEvents(bg, "t1", EventFilter{}, 10, c); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: err = %v, want ErrBadCursor", c, err)
		}
	}
}

func TestSearchStopsAtItsScanBoundWithACursor(t *testing.T) {
	s, _, clk := newTestStore(t, 72*time.Hour)
	defer func(n int) { maxSearchScan = n }(maxSearchScan)
	maxSearchScan = 10
	base := clk.Now().Add(-time.Minute)
	// 31 events of customer c, 30 of type rare, and only the oldest event
	// is both: either index makes the search scan about 30 events to find it.
	var fs []fixture
	for i := range 60 {
		typ, cus := "common", "cus_c"
		if i >= 30 {
			typ, cus = "rare", "cus_other"
		}
		if i == 0 {
			typ = "rare"
		}
		if i == 30 {
			cus = "cus_c"
			typ = "common"
		}
		fs = append(fs, fixture{Event{ID: fmt.Sprintf("evt_%02d", i), TenantID: "t1", SourceID: "src",
			Type: typ, ReceivedAt: base.Add(time.Duration(i) * time.Millisecond)}, SearchKeys{CustomerID: cus}})
	}
	record(t, s, fs...)
	f := EventFilter{Type: "rare", CustomerID: "cus_c"}
	evs, next, err := s.SearchEvents(bg, "t1", f, 5, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 || next == "" {
		t.Fatalf("first page: %d events, cursor %q; want none and a cursor (scan bound hit)", len(evs), next)
	}
	if got := searchAll(t, s, "t1", f, 5); !slices.Equal(got, []string{"evt_00"}) {
		t.Fatalf("paging on found %v, want [evt_00]", got)
	}
}

func TestSearchIsTenantScoped(t *testing.T) {
	s, _, clk := newTestStore(t, 72*time.Hour)
	now := clk.Now()
	record(t, s,
		fixture{Event{ID: "evt_a", TenantID: "ta", SourceID: "src_a", Type: "payment.succeeded", ReceivedAt: now}, SearchKeys{CustomerID: "cus_1", Email: "x@y.z", PaymentIDs: []string{"pay_1"}}},
		fixture{Event{ID: "evt_b", TenantID: "tb", SourceID: "src_a", Type: "payment.succeeded", ReceivedAt: now}, SearchKeys{CustomerID: "cus_1", Email: "x@y.z", PaymentIDs: []string{"pay_1"}}},
	)
	for _, f := range []EventFilter{{}, {Type: "payment.succeeded"}, {SourceID: "src_a"}, {CustomerID: "cus_1"}, {Email: "x@y.z"}, {PaymentID: "pay_1"}} {
		if got := searchAll(t, s, "ta", f, 10); !slices.Equal(got, []string{"evt_a"}) {
			t.Fatalf("tenant ta, filter %+v: %v", f, got)
		}
		if got := searchAll(t, s, "tc", f, 10); len(got) != 0 {
			t.Fatalf("tenant tc, filter %+v: %v", f, got)
		}
	}
}

func TestIndexesAreTrimmedAndExpireWithTheRetention(t *testing.T) {
	s, rdb, clk := newTestStore(t, time.Hour)
	t0 := clk.Now()
	old := fixture{Event{ID: "evt_old", TenantID: "t1", SourceID: "src", Type: "payment.succeeded", ReceivedAt: t0},
		SearchKeys{CustomerID: "cus_1", Email: "a@b.c", PaymentIDs: []string{"pay_1"}}}
	record(t, s, old)
	keys := s.indexKeys(old.ev, old.keys)
	if len(keys) != 5 {
		t.Fatalf("indexed under %d keys, want 5", len(keys))
	}
	for _, k := range append(keys, s.kTenantEvents("t1")) {
		if strings.Contains(k, "cus_1") || strings.Contains(k, "a@b.c") || strings.Contains(k, "pay_1") {
			t.Fatalf("key %q carries a raw value", k)
		}
		ttl := rdb.PTTL(bg, k).Val()
		if ttl < time.Hour || ttl > time.Hour+indexSlack(time.Hour) {
			t.Fatalf("%s: PTTL %v, want the retention (1h) plus at most %v", k, ttl, indexSlack(time.Hour))
		}
	}

	// A minute later (less than the slack), another event: the indexes
	// still outlive its retention, so they are neither trimmed nor given a
	// new expiry.
	clk.Set(t0.Add(time.Minute))
	all := append(keys, s.kTenantEvents("t1"))
	ttl := func(k string) time.Duration { return rdb.PTTL(bg, k).Val() }
	for _, k := range all {
		rdb.PExpire(bg, k, time.Hour+indexSlack(time.Hour)-time.Minute) // Redis's clock is not the test's
	}
	mid := fixture{Event{ID: "evt_mid", TenantID: "t1", SourceID: "src", Type: "payment.succeeded", ReceivedAt: clk.Now()}, old.keys}
	record(t, s, mid)
	for _, k := range all {
		if want := time.Hour + indexSlack(time.Hour) - time.Minute; ttl(k) > want || ttl(k) < want-time.Minute {
			t.Fatalf("%s: PTTL %v after an event of an index that outlives it, want it left at %v", k, ttl(k), want)
		}
	}

	// 61 minutes after the first, another: the first is past the retention
	// and leaves every index it shares (the second is not), and the expiry
	// covers the new one.
	clk.Set(t0.Add(61 * time.Minute))
	for _, k := range all {
		rdb.PExpire(bg, k, 10*time.Minute)
	}
	record(t, s, fixture{Event{ID: "evt_new", TenantID: "t1", SourceID: "src", Type: "payment.succeeded", ReceivedAt: clk.Now()}, old.keys})
	for _, k := range all {
		m := rdb.ZRange(bg, k, 0, -1).Val()
		if !slices.Equal(m, []string{"evt_mid", "evt_new"}) {
			t.Fatalf("%s holds %v, want evt_mid and evt_new", k, m)
		}
		if ttl(k) < time.Hour {
			t.Fatalf("%s: PTTL %v after a new event, want at least the retention", k, ttl(k))
		}
	}
	if got := searchAll(t, s, "t1", EventFilter{PaymentID: "pay_1"}, 10); !slices.Equal(got, []string{"evt_new", "evt_mid"}) {
		t.Fatalf("search after trim: %v", got)
	}
}

func TestFailedDeliveriesFollowTheDeliveryStatus(t *testing.T) {
	s, _, clk := newTestStore(t, 72*time.Hour)
	t0 := clk.Now()
	fail := func(ev string, at time.Duration) {
		t.Helper()
		clk.Set(t0.Add(at))
		recordTestEvent(t, s, ev)
		if err := s.RecordAttempt(bg, ev, "dst_1", Attempt{Number: 1, At: clk.Now(), Outcome: "permanent"}, StatusFailed); err != nil {
			t.Fatal(err)
		}
	}
	fail("evt_1", 0)
	fail("evt_2", time.Minute)
	fail("evt_3", time.Minute) // same millisecond as evt_2
	fail("evt_4", 2*time.Minute)
	fail("evt_5", 3*time.Minute)
	fail("evt_6", 4*time.Minute)
	// evt_4 is replayed and delivered: no longer failed.
	if err := s.RecordAttempt(bg, "evt_4", "dst_1", Attempt{Number: 2}, StatusDelivered); err != nil {
		t.Fatal(err)
	}
	// evt_5 is replayed and waits in the queue: pending, not failed.
	if err := s.SetDeliveryStatus(bg, "evt_5", "dst_1", StatusPending); err != nil {
		t.Fatal(err)
	}
	// Another destination's failures are its own.
	if err := s.RecordAttempt(bg, "evt_1", "dst_2", Attempt{Number: 1}, StatusFailed); err != nil {
		t.Fatal(err)
	}

	all := func(since time.Time, limit int) []string {
		var ids []string
		cursor := ""
		for {
			fs, next, err := s.FailedDeliveries(bg, "dst_1", since, limit, cursor, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				ids = append(ids, f.EventID)
			}
			if next == "" {
				return ids
			}
			cursor = next
		}
	}
	for _, limit := range []int{1, 2, 10} {
		if got := all(t0, limit); !slices.Equal(got, []string{"evt_1", "evt_2", "evt_3", "evt_6"}) {
			t.Fatalf("limit %d: %v", limit, got)
		}
		if got := all(t0.Add(time.Minute), limit); !slices.Equal(got, []string{"evt_2", "evt_3", "evt_6"}) {
			t.Fatalf("since +1m, limit %d: %v", limit, got)
		}
	}
	// It fails again after the replay: back in, at the new time.
	fail("evt_5", 5*time.Minute)
	if got := all(t0.Add(4*time.Minute+time.Second), 10); !slices.Equal(got, []string{"evt_5"}) {
		t.Fatalf("after a second failure: %v", got)
	}

	// A replay claims a failed delivery once; the claim takes it out of the
	// failed list.
	for i, want := range []bool{true, false} {
		ok, err := s.ReplayFailed(bg, "evt_6", "dst_1", fmt.Sprint("rp", i))
		if err != nil || ok != want {
			t.Fatalf("claim %d: ok=%v err=%v, want %v", i, ok, err, want)
		}
	}
	if ok, err := s.ReplayFailed(bg, "evt_nope", "dst_1", "rp"); err != nil || ok {
		t.Fatalf("claim of an unknown delivery: ok=%v err=%v", ok, err)
	}
	if got := all(t0, 10); slices.Contains(got, "evt_6") {
		t.Fatalf("claimed delivery still listed as failed: %v", got)
	}
}
