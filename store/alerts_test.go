package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// One alert per destination and type per window: the first opens it, the
// rest are counted with the last one's event and reason; the flush refuses
// to run early, hands the count over once, and opens a window for the alert
// that carries it; with nothing held it opens none.
func TestAlertWindowCountsAndFlushesOnce(t *testing.T) {
	s, rdb, clk := newTestStore(t, time.Hour)
	ctx := context.Background()
	const dst, typ, window = "dst_1", "hookshift.delivery.dead_lettered", time.Hour

	w, err := s.OpenAlertWindow(ctx, dst, typ, window, "evt_1", "HTTP 400")
	if err != nil || !w.Open || w.Held != 0 || w.ID == "" {
		t.Fatalf("first alert: %+v %v, want it to open the window", w, err)
	}
	for i := 2; i <= 30; i++ {
		h, err := s.OpenAlertWindow(ctx, dst, typ, window, "evt_"+string(rune('a'+i)), "HTTP 401")
		if err != nil || h.Open || h.Held != i-1 || h.ID != w.ID || h.Rest <= 0 || h.Rest > window {
			t.Fatalf("alert %d: %+v %v, want held (%d) in window %s", i, h, err, i-1, w.ID)
		}
	}
	if other, _ := s.OpenAlertWindow(ctx, "dst_2", typ, window, "evt_x", "r"); !other.Open {
		t.Fatal("another destination's alert was held by this one's window")
	}
	if other, _ := s.OpenAlertWindow(ctx, dst, "hookshift.destination.disabled", window, "", "r"); !other.Open {
		t.Fatal("another type's alert was held by this one's window")
	}

	if _, err := s.FlushAlertWindow(ctx, dst, typ, window); !errors.Is(err, ErrWindowOpen) {
		t.Fatalf("flush while the window runs: %v, want ErrWindowOpen", err)
	}
	rdb.Del(ctx, s.kAlertWindow(dst, typ)) // the window closes
	clk.Set(clk.Now().Add(window))
	held, err := s.FlushAlertWindow(ctx, dst, typ, window)
	if err != nil || held.Count != 29 || held.EventID == "" || held.Reason != "HTTP 401" || held.WindowID == w.ID {
		t.Fatalf("flush: %+v %v, want the 29 held, the last one's event and reason, a new window", held, err)
	}
	// Until the alert carrying them is queued, a flush run again gets the
	// same hand-over, though the window it opened runs.
	again, err := s.FlushAlertWindow(ctx, dst, typ, window)
	if err != nil || !again.Pending || again.Count != 29 || again.WindowID != held.WindowID || again.EventID != held.EventID {
		t.Fatalf("flush run again before its alert was queued: %+v %v, want the same hand-over", again, err)
	}
	if err := s.AckAlertFlush(ctx, dst, typ, held.WindowID); err != nil {
		t.Fatal(err)
	}
	if next, _ := s.OpenAlertWindow(ctx, dst, typ, window, "evt_z", "r"); next.Open || next.Held != 1 {
		t.Fatalf("alert after the flush: %+v, want it held by the window the flushed alert opened", next)
	}

	rdb.Del(ctx, s.kAlertWindow(dst, typ))
	if one, err := s.FlushAlertWindow(ctx, dst, typ, window); err != nil || one.Count != 1 {
		t.Fatalf("flush: %+v %v, want the 1 held", one, err)
	} else if err := s.AckAlertFlush(ctx, dst, typ, one.WindowID); err != nil {
		t.Fatal(err)
	}
	rdb.Del(ctx, s.kAlertWindow(dst, typ))
	if empty, err := s.FlushAlertWindow(ctx, dst, typ, window); err != nil || empty.Count != 0 {
		t.Fatalf("flush with nothing held: %+v %v", empty, err)
	}
	if n, _ := rdb.Exists(ctx, s.kAlertWindow(dst, typ)).Result(); n != 0 {
		t.Fatal("a flush with nothing held opened a window, holding back the next real alert")
	}
}

// Alert settings round-trip per tenant; none stored reads as empty lists.
func TestAlertSettingsPerTenant(t *testing.T) {
	s, _, _ := newTestStore(t, time.Hour)
	ctx := context.Background()
	if a, err := s.GetAlerts(ctx, "ten_1"); err != nil || a.DestinationIDs == nil || a.Types == nil || len(a.DestinationIDs)+len(a.Types) != 0 {
		t.Fatalf("unset: %+v %v, want empty lists", a, err)
	}
	if err := s.SaveAlerts(ctx, "ten_1", Alerts{DestinationIDs: []string{"dst_1"}, Types: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.GetAlerts(ctx, "ten_1"); len(a.DestinationIDs) != 1 || a.Types[0] != "t" {
		t.Fatalf("saved: %+v", a)
	}
	if a, _ := s.GetAlerts(ctx, "ten_2"); len(a.DestinationIDs) != 0 {
		t.Fatalf("another tenant sees %+v", a)
	}
}
