package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/internal/redistest"
)

// A destination's rate limit holds across two separate worker processes on
// one Redis: neither process knows of the other, only the limit in Redis.
func TestRateLimitAcrossWorkerProcesses(t *testing.T) {
	rs := redistest.Start(t)
	var mu sync.Mutex
	var at []time.Time
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
	}))
	defer sink.Close()

	front := startServe(t, rs.URL(), "--roles", "receiver,api")
	startServe(t, rs.URL(), "--roles", "worker", "--concurrency", "4")
	startServe(t, rs.URL(), "--roles", "worker", "--concurrency", "4")

	tok := front.call(t, "POST", "/v1/tenants", testRoot, map[string]any{"name": "acme"})["token"].(string)
	src := front.call(t, "POST", "/v1/sources", tok, map[string]any{"name": "dodo", "kind": "standard-webhooks"})
	front.call(t, "POST", "/v1/destinations", tok, map[string]any{"source_id": src["id"], "name": "slow",
		"integration": "http", "url": sink.URL, "rate_limit_per_second": 2})
	k, _ := inbound.Lookup("standard-webhooks")
	const n = 8
	for i := range n {
		h, body, _ := k.Sign(nil, src["secret"].(string), fmt.Sprintf("rl-proc-%d", i), []byte(`{"type":"payment.succeeded","data":{}}`), time.Now())
		req, _ := http.NewRequest("POST", front.base+"/v1/webhooks/"+src["id"].(string), bytes.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("post %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		got := append([]time.Time(nil), at...)
		mu.Unlock()
		if len(got) >= n {
			sort.Slice(got, func(i, j int) bool { return got[i].Before(got[j]) })
			// 2/s with a burst of 2: 8 sends need at least (8-2) × 500 ms.
			if span := got[n-1].Sub(got[0]); span < 2900*time.Millisecond {
				t.Fatalf("%d sends at 2/s across two processes took only %v", n, span)
			}
			for i := range got {
				w := 0
				for j := i; j < len(got) && got[j].Sub(got[i]) < time.Second; j++ {
					w++
				}
				if w > 4 {
					t.Fatalf("%d sends within one second at a 2/s limit", w)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d deliveries arrived", len(got), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
