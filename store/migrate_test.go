package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/internal/redistest"
)

// toLayout1 renames every key of this layout on rdb to its layout-1 name
// (the names hookshift used before hash tags), leaving an old deployment's
// data as the previous version wrote it.
func toLayout1(t *testing.T, guarded *redis.Client, prefix string) {
	t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: guarded.Options().Addr}) // RENAME spans slots: no guard
	defer rdb.Close()
	bare := map[string]string{"t": "tenant", "s": "source", "d": "dest", "e": "event"}
	keys, _ := rdb.Keys(ctx, prefix+"*").Result()
	for _, k := range keys {
		rest := strings.TrimPrefix(k, prefix)
		if !strings.HasPrefix(rest, "{") {
			if rest == "layout" {
				rdb.Del(ctx, k)
			}
			continue // tenants, token:, portal:, session: kept their names
		}
		tag, suffix, _ := strings.Cut(rest[1:], "}:")
		kind, id, _ := strings.Cut(tag, ":")
		var old string
		switch {
		case suffix == bare[kind]:
			old = bare[kind] + ":" + id
		case kind == "e" && suffix == "dedupe":
			old = "dedupe:" + id
		default:
			old = bare[kind] + ":" + id + ":" + suffix
		}
		if err := rdb.Rename(ctx, k, prefix+old).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// A deployment on layout 1 keeps working after the upgrade: its tenant,
// token, source (secret sealed), destinations, transform versions, quota,
// queued event with its deliveries, attempts, dedupe marker and search
// entries are all read in the new layout, with their TTLs; running the
// migration again changes nothing.
func TestMigrateFromLayout1(t *testing.T) {
	s := newSealedStore(t)
	rdb := s.rdb.(*redis.Client)
	ctx := context.Background()
	ten, token, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	src := Source{ID: NewID("src"), TenantID: ten.ID, Kind: "dodo", Secrets: []Secret{{Value: "whsec_old"}}}
	if err := s.CreateSource(ctx, src, 5); err != nil {
		t.Fatal(err)
	}
	dst := Destination{ID: NewID("dst"), TenantID: ten.ID, SourceID: src.ID, Integration: "http", URL: "https://old.test",
		Transform: &Transform{Code: "function handler(w){return w}", Enabled: true}}
	if err := s.CreateDestination(ctx, dst, 5); err != nil {
		t.Fatal(err)
	}
	ev := Event{ID: EventID(src.ID, "m1"), TenantID: ten.ID, SourceID: src.ID, Type: "payment.succeeded",
		ReceivedAt: s.now(), Payload: json.RawMessage(`{"a":1}`)}
	if ok, err := s.RecordEvent(ctx, ev, "r1", SearchKeys{Email: "Ann@x.test"}); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := s.InitDelivery(ctx, ev.ID, dst.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, ev.ID, dst.ID, Attempt{Number: 1, Error: "503"}, StatusFailed); err != nil {
		t.Fatal(err)
	}
	toLayout1(t, rdb, s.opts.Prefix)
	if _, err := s.GetSource(ctx, "", src.ID); err == nil {
		t.Fatal("the test did not put the data in layout 1")
	}

	rep, ran, err := s.EnsureLayout(ctx)
	if err != nil || !ran || rep.Copied < 10 || rep.Present != 0 {
		t.Fatalf("migration: %+v ran=%v %v", rep, ran, err)
	}
	if got, err := s.TenantByToken(ctx, token); err != nil || got.ID != ten.ID {
		t.Fatalf("token after migration: %+v %v", got, err)
	}
	if got, err := s.GetSource(ctx, ten.ID, src.ID); err != nil || got.Secrets[0].Value != "whsec_old" {
		t.Fatalf("source after migration: %+v %v", got, err)
	}
	if ds, err := s.ListDestinations(ctx, ten.ID, src.ID); err != nil || len(ds) != 1 || ds[0].URL != "https://old.test" {
		t.Fatalf("destinations after migration: %+v %v", ds, err)
	}
	if vs, err := s.TransformVersions(ctx, ten.ID, dst.ID); err != nil || len(vs) != 1 {
		t.Fatalf("versions after migration: %+v %v", vs, err)
	}
	if err := s.CreateSource(ctx, Source{ID: NewID("src"), TenantID: ten.ID, Kind: "dodo"}, 1); err != ErrLimit {
		t.Fatalf("the quota forgot the migrated source: %v", err)
	}
	if seen, _ := s.Seen(ctx, ev.ID); !seen {
		t.Fatal("the dedupe marker was not migrated")
	}
	if ttl := rdb.PTTL(ctx, s.kDedupe(ev.ID)).Val(); ttl <= 0 {
		t.Fatalf("dedupe marker TTL %v after migration, want kept", ttl)
	}
	if got, err := s.GetEvent(ctx, ten.ID, ev.ID); err != nil || string(got.Payload) != `{"a":1}` {
		t.Fatalf("event after migration: %+v %v", got, err)
	}
	if ds, err := s.Deliveries(ctx, ev.ID); err != nil || len(ds) != 1 || len(ds[0].Attempts) != 1 {
		t.Fatalf("deliveries after migration: %+v %v", ds, err)
	}
	if evs, _, err := s.SearchEvents(ctx, ten.ID, EventFilter{Email: "ann@x.test"}, 10, ""); err != nil || len(evs) != 1 {
		t.Fatalf("search after migration: %d, %v", len(evs), err)
	}
	if fs, _, err := s.FailedDeliveries(ctx, dst.ID, time.Time{}, 10, "", ""); err != nil || len(fs) != 1 {
		t.Fatalf("failed deliveries after migration: %+v %v", fs, err)
	}

	// Again: marked done, nothing to do; forced, every key is already there.
	if _, ran, err := s.EnsureLayout(ctx); err != nil || ran {
		t.Fatalf("second start migrated again: ran=%v %v", ran, err)
	}
	again, err := s.MigrateLayout(ctx, rdb, true)
	if err != nil || again.Copied != 0 || again.Present != rep.Copied || again.Deleted != rep.Copied {
		t.Fatalf("second run = %+v, %v; want all %d present and deleted", again, err, rep.Copied)
	}
	if left := rdb.Keys(ctx, s.opts.Prefix+"event:*").Val(); len(left) != 0 {
		t.Fatalf("old keys left after deleteOld: %v", left)
	}
}

// Moving to a cluster: the old single Redis is read, the cluster written.
func TestMigrateFromAnotherRedis(t *testing.T) {
	old := redistest.Start(t).Client()
	s := newSealedStore(t)
	ctx := context.Background()
	oldStore := New(old, s.sealer, Options{})
	ten, token, err := oldStore.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	toLayout1(t, old, "hookshift:")
	rep, err := s.MigrateLayout(ctx, old, false)
	if err != nil || rep.Copied != 1 || rep.Unchanged != 2 {
		t.Fatalf("migration = %+v, %v; want the tenant record, its token and the tenant list copied", rep, err)
	}
	if got, err := s.TenantByToken(ctx, token); err != nil || got.ID != ten.ID {
		t.Fatalf("token on the new Redis: %+v %v", got, err)
	}
	if ts, err := s.ListTenants(ctx); err != nil || len(ts) != 1 || ts[0].Name != "acme" {
		t.Fatalf("tenants on the new Redis: %+v %v", ts, err)
	}
}
