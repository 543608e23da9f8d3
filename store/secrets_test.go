package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Rotations racing on one source are serialised: with a limit of 3 live
// secrets exactly two of ten concurrent rotations succeed, the others get a
// SecretLimitError, and every secret a caller was told is current or in
// grace is in storage (none was lost to a concurrent write). Once the grace
// is over, the expired secrets are pruned by the next rotation.
func TestRotateSourceSecretConcurrentAndBounded(t *testing.T) {
	s, _, clk := newTestStore(t, time.Hour)
	sealer, err := NewSealer("test-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	s.sealer = sealer
	ctx := context.Background()
	src := Source{ID: "src_rot", TenantID: "ten_1", Kind: "stripe", Secrets: []Secret{{Value: "original-0123456789"}}}
	if err := s.SaveSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var won []string
	refused := 0
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sec := fmt.Sprintf("rotated-%d-0123456789", i)
			_, err := s.RotateSourceSecret(ctx, "ten_1", src.ID, Rotation{Secret: sec, Grace: 24 * time.Hour, MaxLive: 3})
			var limit *SecretLimitError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, sec)
			case errors.As(err, &limit):
				refused++
				if limit.Max != 3 || limit.OldestExpiresAt.IsZero() {
					t.Errorf("limit error %+v lacks the limit or the oldest expiry", limit)
				}
			default:
				t.Errorf("rotation %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 2 || refused != 8 {
		t.Fatalf("%d rotations succeeded and %d were refused, want 2 and 8", len(won), refused)
	}
	got, err := s.GetSource(ctx, "ten_1", src.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, sec := range got.Secrets {
		stored[sec.Value] = true
	}
	for _, sec := range append(won, "original-0123456789") {
		if !stored[sec] {
			t.Errorf("secret %s was acknowledged but is not stored: %v", sec, got.Secrets)
		}
	}
	if _, err := s.RotateSourceSecret(ctx, "ten_other", src.ID, Rotation{Secret: "x-0123456789abcdef"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("another tenant rotated the source: %v", err)
	}

	clk.Set(clk.Now().Add(25 * time.Hour))
	got, err = s.RotateSourceSecret(ctx, "ten_1", src.ID, Rotation{Secret: "later-0123456789", Grace: 24 * time.Hour, MaxLive: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Secrets) != 2 {
		t.Errorf("after the grace, %d secrets stored, want 2 (new and previous; expired pruned)", len(got.Secrets))
	}
}
