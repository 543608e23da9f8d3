package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func newSealedStore(t *testing.T) *Store {
	t.Helper()
	s, _, _ := newTestStore(t, time.Hour)
	sealer, err := NewSealer("test-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	s.sealer = sealer
	return s
}

// Concurrent creates at a tenant's quota: exactly the free places are
// taken, whatever the interleaving, and a retried create of the same object
// does not take a second place.
func TestCreateQuotaIsAtomic(t *testing.T) {
	s := newSealedStore(t)
	ctx := context.Background()
	const max, racers = 10, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.CreateSource(ctx, Source{ID: NewID("src"), TenantID: "ten_1", Name: "x", Kind: "stripe",
				Secrets: []Secret{{Value: "whsec_x"}}}, max)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrLimit):
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != max || refused != racers-max {
		t.Fatalf("%d created, %d refused; want %d and %d", ok, refused, max, racers-max)
	}
	srcs, err := s.ListSources(ctx, "ten_1")
	if err != nil || len(srcs) != max {
		t.Fatalf("%d sources stored (%v), want %d", len(srcs), err, max)
	}
	// A retried create of a stored object is not a new one.
	if err := s.CreateSource(ctx, srcs[0], max); err != nil {
		t.Fatalf("retried create refused: %v", err)
	}
	// Another tenant has its own quota.
	if err := s.CreateDestination(ctx, Destination{ID: NewID("dst"), TenantID: "ten_2", SourceID: "src_2"}, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDestination(ctx, Destination{ID: NewID("dst"), TenantID: "ten_2", SourceID: "src_2"}, 1); !errors.Is(err, ErrLimit) {
		t.Fatalf("second destination over a quota of 1: %v", err)
	}
}

// A rotated or revoked token stops working at once; so does the loser of two
// concurrent rotations.
func TestTenantTokens(t *testing.T) {
	s := newSealedStore(t)
	ctx := context.Background()
	ten, tok0, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	toks := make([]string, 2)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], _ = s.RotateTenantToken(ctx, ten.ID)
		}()
	}
	wg.Wait()
	working := 0
	for _, tok := range append(toks, tok0) {
		if _, err := s.TenantByToken(ctx, tok); err == nil {
			working++
		}
	}
	if working != 1 {
		t.Fatalf("%d tokens work after two rotations, want 1", working)
	}
	if err := s.RevokeTenantToken(ctx, ten.ID); err != nil {
		t.Fatal(err)
	}
	for _, tok := range append(toks, tok0) {
		if _, err := s.TenantByToken(ctx, tok); !errors.Is(err, ErrNotFound) {
			t.Fatalf("token works after revocation: %v", err)
		}
	}
	if _, err := s.RotateTenantToken(ctx, "ten_missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rotate of a missing tenant: %v", err)
	}
}

// A rate limit saved before the API bounded it (1e-300/s) is throttled at the
// slowest allowed rate, not a wait that overflows.
func TestThrottleTinyRate(t *testing.T) {
	s := newSealedStore(t)
	ctx := context.Background()
	if wait, err := s.Throttle(ctx, "dst_1", 1e-300); err != nil || wait != 0 {
		t.Fatalf("first send: wait %v, %v", wait, err)
	}
	wait, err := s.Throttle(ctx, "dst_1", 1e-300)
	if err != nil {
		t.Fatal(err)
	}
	if wait <= 0 || wait > time.Duration(float64(time.Second)/MinRatePerSecond) {
		t.Fatalf("second send waits %v; want a wait of at most %v", wait, time.Duration(float64(time.Second)/MinRatePerSecond))
	}
}
