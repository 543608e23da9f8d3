package httpapi

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/store"
)

// A burst larger than one read shows is announced as a reset, so the list
// reloads instead of silently missing events; a smaller one is sent event by
// event, oldest first.
func TestStreamPollResetOnBurst(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	sealer, _ := store.NewSealer("test-secret-key-0123456789")
	st := store.New(rdb, sealer, store.Options{})
	ctx := context.Background()
	n := 0
	record := func(count int) {
		for range count {
			n++
			ev := store.Event{ID: fmt.Sprintf("evt_%03d", n), TenantID: "ten_a", SourceID: "src_a", ProviderID: fmt.Sprint(n),
				Type: "payment.succeeded", ReceivedAt: time.Now().Add(time.Duration(n) * time.Millisecond), Payload: []byte(`{}`)}
			if _, err := st.RecordEvent(ctx, ev, "r", store.SearchKeys{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := httptest.NewRequest("GET", "/v1/events/stream", nil)
	s := &streamState{seen: map[string]bool{}, states: map[string]deliveryChange{}}
	var got []string
	emit := func(kind string, v any) {
		if ev, ok := v.(store.Event); ok {
			kind += ":" + ev.ID
		}
		got = append(got, kind)
	}
	record(2)
	if err := s.poll(r, st, "ten_a", "", nil); err != nil {
		t.Fatal(err)
	}
	record(streamRecent + 5)
	if err := s.poll(r, st, "ten_a", "", emit); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "reset" {
		t.Fatalf("after a burst of %d: %v, want one reset", streamRecent+5, got)
	}
	got = nil
	record(3)
	if err := s.poll(r, st, "ten_a", "", emit); err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("event:evt_%03d", n-2), fmt.Sprintf("event:evt_%03d", n-1), fmt.Sprintf("event:evt_%03d", n)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after 3 events: %v, want %v", got, want)
	}
}
