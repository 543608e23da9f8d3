package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// trainingHeldOut is the load tool's default body: left out of the
// dictionary's training set, so the bytes per event measured with it are
// those of a body the dictionary has not seen.
const trainingHeldOut = "dodo/payment.succeeded.usd.json"

// trainingSamples are the webhook bodies of testdata/ the dictionary is
// built from, and the held-out one.
func trainingSamples(t testing.TB) (samples [][]byte, heldOut []byte) {
	t.Helper()
	files, err := filepath.Glob("../testdata/*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata bodies: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.ToSlash(f) == "../testdata/"+trainingHeldOut {
			heldOut = b
			continue
		}
		samples = append(samples, b)
	}
	return samples, heldOut
}

// TestTrainPayloadDict rebuilds payload.dict from testdata/ when
// HOOKSHIFT_TRAIN_DICT=1; otherwise it checks the shipped one still is what
// the samples give, so the file cannot drift from its recipe unnoticed.
// A retrained dictionary needs a new payloadDictID (see payload.go).
func TestTrainPayloadDict(t *testing.T) {
	samples, _ := trainingSamples(t)
	dict, err := zstd.BuildDict(zstd.BuildDictOptions{ID: payloadDictID, Contents: samples,
		History: bytes.Join(samples, nil), Offsets: [3]int{1, 4, 8}, Level: zstd.SpeedFastest})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("HOOKSHIFT_TRAIN_DICT") == "1" {
		if err := os.WriteFile("payload.dict", dict, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote payload.dict: %d bytes from %d samples", len(dict), len(samples))
		return
	}
	if !bytes.Equal(dict, payloadDict) {
		t.Fatal("payload.dict is not what testdata/ trains; run HOOKSHIFT_TRAIN_DICT=1 go test -run TestTrainPayloadDict ./store (and give it a new id)")
	}
}

// Every testdata body round-trips, a body the dictionary never saw (the held
// out one) shrinks to well under half, and a payload stored before
// compression (plain JSON) still reads.
func TestPayloadCompression(t *testing.T) {
	samples, heldOut := trainingSamples(t)
	for _, b := range append(samples, heldOut, []byte(`{}`), []byte(`[1,2,3]`)) {
		z, err := encodePayload(b)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodePayload(z)
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("round trip of %.40q: %v", b, err)
		}
		if len(z) > len(b) {
			t.Fatalf("stored %d bytes for a %d-byte payload", len(z), len(b))
		}
	}
	z, _ := encodePayload(heldOut)
	plain, _ := zstd.NewWriter(nil)
	t.Logf("held-out %d-byte body: %d bytes with the dictionary, %d with plain zstd", len(heldOut), len(z), len(plain.EncodeAll(heldOut, nil)))
	if len(z)*2 > len(heldOut) {
		t.Fatalf("held-out body stored in %d bytes, want under half of %d", len(z), len(heldOut))
	}
	if back, err := decodePayload(heldOut); err != nil || !bytes.Equal(back, heldOut) {
		t.Fatalf("uncompressed payload read as %.40q, %v", back, err)
	}
	if _, err := decodePayload(append(append([]byte{}, zstdMagic...), 0xff, 0xff)); err == nil {
		t.Fatal("a corrupt frame decoded without error")
	}
}

// BenchmarkPayloadCodec is the CPU compression costs per event (a 1.7 kB
// Dodo body, once at fan-out) and decompression (once per delivery attempt).
func BenchmarkPayloadCodec(b *testing.B) {
	_, body := trainingSamples(b)
	z, _ := encodePayload(body)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := encodePayload(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := decodePayload(z); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// RecordEvent stores the payload compressed, GetEvent and ClaimDelivery give
// it back as received, and an event stored before (a hash of meta and plain
// payload) still reads, and is still found by search.
func TestEventPayloadStoredCompressed(t *testing.T) {
	s, rdb, _ := newTestStore(t, time.Hour)
	ctx := context.Background()
	_, body := trainingSamples(t)
	ev := Event{ID: "evt_z", TenantID: "ten_1", SourceID: "src_1", ProviderID: "p", Type: "payment.succeeded",
		ReceivedAt: time.Now(), Payload: body}
	if _, err := s.RecordEvent(ctx, ev, "r", SearchKeys{}); err != nil {
		t.Fatal(err)
	}
	rec, err := rdb.Get(ctx, s.kEvent(ev.ID)).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	meta := mustJSONBytes(t, Event{ID: ev.ID, TenantID: ev.TenantID, SourceID: ev.SourceID, ProviderID: ev.ProviderID, Type: ev.Type, ReceivedAt: ev.ReceivedAt})
	_, raw, err := decodeEventMeta(ev.ID, rec)
	if err != nil || !bytes.HasPrefix(raw, zstdMagic) || len(raw) >= len(body)/2 {
		t.Fatalf("stored payload: %d bytes (body %d), err %v", len(raw), len(body), err)
	}
	got, err := s.GetEvent(ctx, "ten_1", ev.ID)
	if err != nil || !bytes.Equal(got.Payload, body) {
		t.Fatalf("read back %d bytes, %v", len(got.Payload), err)
	}
	// As written before events were one string, and before compression.
	if err := rdb.Del(ctx, s.kEvent(ev.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, s.kEvent(ev.ID), "meta", meta, "payload", body).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetEvent(ctx, "ten_1", ev.ID); err != nil || !bytes.Equal(got.Payload, body) {
		t.Fatalf("uncompressed event read back %d bytes, %v", len(got.Payload), err)
	}
	found, _, err := s.SearchEvents(ctx, "ten_1", EventFilter{}, 10, "")
	if err != nil || len(found) != 1 || found[0].ID != ev.ID || found[0].Type != ev.Type {
		t.Fatalf("search over the old form: %+v, %v", found, err)
	}
}
