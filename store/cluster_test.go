package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/internal/redistest"
)

// onCluster, while TestStoreOnCluster runs, makes newTestStore hand out
// stores on that test's Redis Cluster (each with a prefix of its own).
var onCluster *clusterRun

type clusterRun struct {
	client *redis.ClusterClient
	next   atomic.Int64
}

// The store's tests, run again on a three-master Redis Cluster through a
// go-redis ClusterClient: every script and MULTI must find its keys on one
// node, every read that spans slots must go through a cluster-aware path
// (pipelines, not MGET), and the results must be those of one Redis.
// Set HOOKSHIFT_SKIP_CLUSTER=1 to skip it where redis-cli is missing.
func TestStoreOnCluster(t *testing.T) {
	if os.Getenv("HOOKSHIFT_SKIP_CLUSTER") != "" {
		t.Skip("HOOKSHIFT_SKIP_CLUSTER is set")
	}
	c := redistest.StartCluster(t)
	cc := c.Client()
	redistest.GuardSlots(cc, func(msg string) { t.Error(msg) })
	onCluster = &clusterRun{client: cc}
	defer func() { onCluster = nil }()
	for name, f := range map[string]func(*testing.T){
		"CreateQuotaIsAtomic":                        TestCreateQuotaIsAtomic,
		"TenantTokens":                               TestTenantTokens,
		"ThrottleTinyRate":                           TestThrottleTinyRate,
		"RecordEventReceipts":                        TestRecordEventReceipts,
		"SearchReturnsExactlyTheMatchesAcrossPages":  TestSearchReturnsExactlyTheMatchesAcrossPages,
		"ListEventsIsSearchWithoutFilters":           TestListEventsIsSearchWithoutFilters,
		"SearchIsTenantScoped":                       TestSearchIsTenantScoped,
		"IndexesAreTrimmedAndExpireWithTheRetention": TestIndexesAreTrimmedAndExpireWithTheRetention,
		"FailedDeliveriesFollowTheDeliveryStatus":    TestFailedDeliveriesFollowTheDeliveryStatus,
		"RotateSourceSecretConcurrentAndBounded":     TestRotateSourceSecretConcurrentAndBounded,
		"ConfigAcrossSlots":                          TestConfigAcrossSlots,
		"DeliveriesAndAttempts":                      TestDeliveriesAndAttempts,
		"VersionsAndSessions":                        TestVersionsAndSessions,
		"ClaimDeliveryReads":                         TestClaimDeliveryReads,
		"InitDeliveries":                             TestInitDeliveries,
		"RecordEventForFanOut":                       TestRecordEventForFanOut,
		"EventPayloadStoredCompressed":               TestEventPayloadStoredCompressed,
	} {
		t.Run(name, f)
	}
}

// Sources and destinations live in slots of their own, apart from their
// tenant's lists: saving, listing (by tenant and by source), the census and
// deleting still see each object exactly once.
func TestConfigAcrossSlots(t *testing.T) {
	s := newSealedStore(t)
	ctx := context.Background()
	src := Source{ID: NewID("src"), TenantID: "ten_c", Name: "s", Kind: "dodo", Secrets: []Secret{{Value: "whsec_a"}}}
	if err := s.CreateSource(ctx, src, 5); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		d := Destination{ID: NewID("dst"), TenantID: "ten_c", SourceID: src.ID, Name: fmt.Sprint("d", i),
			Integration: "http", URL: "https://example.com/" + fmt.Sprint(i), CreatedAt: time.Unix(int64(i), 0),
			Disabled: i == 2}
		if err := s.CreateDestination(ctx, d, 10); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	for _, by := range []string{"", src.ID} {
		ds, err := s.ListDestinations(ctx, "ten_c", by)
		if err != nil || len(ds) != 3 || ds[0].ID != ids[0] || ds[1].URL != "https://example.com/1" {
			t.Fatalf("list destinations by source %q: %+v, %v", by, ds, err)
		}
	}
	if ds, _ := s.ListDestinations(ctx, "ten_other", src.ID); len(ds) != 0 {
		t.Fatalf("another tenant lists %d destinations", len(ds))
	}
	cen, err := s.DestinationCensus(ctx)
	if err != nil || cen.Disabled["http"] != 1 {
		t.Fatalf("census = %+v, %v; want one disabled http destination", cen, err)
	}
	if err := s.DeleteDestination(ctx, "ten_c", ids[0]); err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.ListDestinations(ctx, "ten_c", src.ID); len(ds) != 2 {
		t.Fatalf("%d destinations after a delete, want 2", len(ds))
	}
	if err := s.DeleteSource(ctx, "ten_c", src.ID); err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.ListDestinations(ctx, "ten_c", ""); len(ds) != 0 {
		t.Fatalf("%d destinations after deleting their source", len(ds))
	}
	if n := s.rdb.SCard(ctx, s.kTenantDests("ten_c")).Val() + s.rdb.SCard(ctx, s.kTenantSources("ten_c")).Val(); n != 0 {
		t.Fatalf("the tenant's quota still counts %d deleted objects", n)
	}
	if _, err := s.GetSource(ctx, "", src.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted source read: %v", err)
	}
}

// An event's deliveries and attempts, the failed index of a destination and
// a replay's claim, across the event's and the destination's slots.
func TestDeliveriesAndAttempts(t *testing.T) {
	s, _, _ := newTestStore(t, time.Hour)
	ctx := context.Background()
	ev := Event{ID: EventID("src_d", "m1"), TenantID: "ten_d", SourceID: "src_d", Type: "payment.succeeded",
		ReceivedAt: s.now(), Payload: json.RawMessage(`{}`)}
	if ok, err := s.RecordEvent(ctx, ev, "r", SearchKeys{}); err != nil || !ok {
		t.Fatal(ok, err)
	}
	for _, d := range []string{"dst_a", "dst_b"} {
		if del, err := s.InitDelivery(ctx, ev.ID, d); err != nil || del.Status != StatusPending {
			t.Fatal(del, err)
		}
	}
	if err := s.RecordAttempt(ctx, ev.ID, "dst_a", Attempt{Number: 1, Error: "boom"}, StatusFailed); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, ev.ID, "dst_b", Attempt{Number: 1}, StatusDelivered); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Deliveries(ctx, ev.ID)
	if err != nil || len(ds) != 2 || ds[0].Status != StatusFailed || len(ds[0].Attempts) != 1 || ds[1].Status != StatusDelivered {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	fs, _, err := s.FailedDeliveries(ctx, "dst_a", time.Time{}, 10, "", "")
	if err != nil || len(fs) != 1 || fs[0].EventID != ev.ID {
		t.Fatalf("failed deliveries = %+v, %v", fs, err)
	}
	if ok, err := s.ReplayFailed(ctx, ev.ID, "dst_a", "rp1"); err != nil || !ok {
		t.Fatalf("replay claim = %v, %v", ok, err)
	}
	if ok, _ := s.ReplayFailed(ctx, ev.ID, "dst_a", "rp2"); ok {
		t.Fatal("a delivery was claimed twice for replay")
	}
	states, err := s.DeliveryStates(ctx, []string{ev.ID, "evt_none"})
	if err != nil || len(states[ev.ID]) != 2 {
		t.Fatalf("delivery states = %+v, %v", states, err)
	}
}

// Transform versions (a script in the destination's MULTI) and console
// sign-in, on whatever topology the store runs on.
func TestVersionsAndSessions(t *testing.T) {
	s := newSealedStore(t)
	ctx := context.Background()
	d := Destination{ID: NewID("dst"), TenantID: "ten_v", SourceID: "src_v", Integration: "http", URL: "https://x.test",
		Transform: &Transform{Code: "function handler(w){return w}", Enabled: true}}
	if err := s.SaveDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Transform = &Transform{Code: "function handler(w){w.x=1;return w}", Enabled: true}
	if err := s.SaveDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	vs, err := s.TransformVersions(ctx, "ten_v", d.ID)
	if err != nil || len(vs) != 2 || vs[0].Version != 2 {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	if _, n, err := s.RollbackTransform(ctx, "ten_v", d.ID, 1); err != nil || n != 3 {
		t.Fatalf("rollback = %d, %v", n, err)
	}
	ten, _, err := s.CreateTenant(ctx, "v")
	if err != nil {
		t.Fatal(err)
	}
	if ten, err = s.GetTenant(ctx, ten.ID); err != nil {
		t.Fatal(err)
	}
	link, _, err := s.CreatePortalLink(ctx, ten, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClaimPortalLink(ctx, link); err != nil || got.ID != ten.ID {
		t.Fatalf("claim = %q, %v", got.ID, err)
	}
	tok, _, err := s.CreateSession(ctx, ten, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := s.SessionTenant(ctx, tok); err != nil || got.ID != ten.ID {
		t.Fatalf("session tenant = %+v, %v", got, err)
	}
	if sess, err := s.GetSession(ctx, tok); err != nil || sess.TenantID != ten.ID {
		t.Fatalf("session = %+v, %v", sess, err)
	}
}
