package httpapi

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/store"
)

// Checks queued together, more than one pipeline holds (maxMarkerBatch),
// are each answered with their own event's marker, and the sender goroutine
// exits once idle; the next check starts a new one.
func TestMarkerBatchAnswersEachCheck(t *testing.T) {
	rs := redistest.Start(t)
	sealer, err := store.NewSealer("test-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(rs.Client(), sealer, store.Options{})
	ctx := context.Background()
	n := 2*maxMarkerBatch + 37
	for i := 0; i < n; i += 3 { // every third event has been recorded: its marker exists
		ev := store.Event{ID: fmt.Sprintf("evt_%d", i), TenantID: "ten_1", SourceID: "src_1", Type: "t", ReceivedAt: time.Now(), Payload: []byte(`{}`)}
		if _, err := st.RecordEvent(ctx, ev, "r", store.SearchKeys{}); err != nil {
			t.Fatal(err)
		}
	}
	var b markerBatch
	checks := make([]*markerCheck, n)
	var wg sync.WaitGroup
	for i := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			checks[i] = b.start(st, fmt.Sprintf("evt_%d", i), time.Second)
		}()
	}
	wg.Wait()
	for i, c := range checks {
		seen, err := c.wait(ctx)
		if err != nil || seen != (i%3 == 0) {
			t.Fatalf("check %d: seen %v err %v, want seen %v", i, seen, err, i%3 == 0)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		sending := b.sending
		b.mu.Unlock()
		if !sending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sender goroutine did not exit once idle")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if seen, err := b.start(st, "evt_0", time.Second).wait(ctx); err != nil || !seen {
		t.Fatalf("a check after the sender exited: seen %v err %v", seen, err)
	}
}
