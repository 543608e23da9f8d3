package httpapi_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/queue"
)

// Dedupe holds when requests arrive together, so that marker checks share a
// round trip (group commit) and run beside the enqueue: copies of one new
// event posted at once are accepted once; after the fan-out, every repeat
// of a batch of events posted at once is answered duplicate by its marker,
// with no queued task left to conflict with.
func TestConcurrentRepeatsAreDuplicates(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	tok := s.tenant("dedupe")
	src, secret := s.source(tok)

	post := func(ids []string) (codes []int, dups []bool) {
		codes, dups = make([]int, len(ids)), make([]bool, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, out := s.signed(src, secret, id, []byte(paymentBody), time.Now())
				codes[i], dups[i] = code, out["duplicate"] == true
			}()
		}
		wg.Wait()
		return codes, dups
	}

	same := make([]string, 8)
	for i := range same {
		same[i] = "msg_same"
	}
	codes, dups := post(same)
	accepted := 0
	for i := range same {
		switch {
		case codes[i] == 202 && !dups[i]:
			accepted++
		case codes[i] == 200 && dups[i]:
		default:
			t.Fatalf("copy %d: %d duplicate=%v", i, codes[i], dups[i])
		}
	}
	if accepted != 1 {
		t.Fatalf("%d of 8 simultaneous copies accepted as new, want 1", accepted)
	}

	ids := make([]string, 24)
	for i := range ids {
		ids[i] = fmt.Sprintf("msg_batch_%d", i)
	}
	codes, _ = post(ids)
	for i, c := range codes {
		if c != 202 {
			t.Fatalf("event %d: %d, want 202", i, c)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for s.queueSize(queue.QueueIngest) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the ingest queue did not drain")
		}
		time.Sleep(50 * time.Millisecond)
	}
	codes, dups = post(ids)
	for i := range ids {
		if codes[i] != 200 || !dups[i] {
			t.Fatalf("repeat of event %d after fan-out: %d duplicate=%v, want 200 duplicate (marker)", i, codes[i], dups[i])
		}
	}
}
