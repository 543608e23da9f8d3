package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The ingest task is written by splicing the body into json.Marshal's
// encoding of the other fields. For a compact body it is byte for byte what
// json.Marshal(IngestPayload) wrote before (so the fan-out reads old and new
// tasks alike), and any body decodes back to the same payload with the
// body's bytes as they were sent.
func TestIngestEncodingMatchesMarshal(t *testing.T) {
	p := IngestPayload{Receipt: "r1", EventID: "evt_1", TenantID: "ten_1", SourceID: "src_1", ProviderID: `msg "1" é`,
		Type: "payment.succeeded", ReceivedAt: time.Date(2026, 12, 2, 1, 2, 3, 456, time.UTC),
		Body: json.RawMessage(`{"type":"payment.succeeded","data":{"amount":2999,"tags":["a","b"],"note":null}}`)}
	want, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendIngest([]byte("junk"), p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got[4:]) != string(want) || string(got[:4]) != "junk" {
		t.Fatalf("appendIngest = %s\nwant junk%s", got, want)
	}

	p.Body = json.RawMessage("{\n  \"type\": \"x\",\n  \"html\": \"<b>&</b>\"\n}")
	got, err = appendIngest(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	var back IngestPayload
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("%s does not decode: %v", got, err)
	}
	if string(back.Body) != string(p.Body) || back.ProviderID != p.ProviderID || !back.ReceivedAt.Equal(p.ReceivedAt) || back.Receipt != "r1" {
		t.Fatalf("decoded %+v, want %+v", back, p)
	}
}

// On Redis Cluster the enqueue and the wait go to the master of the ingest
// queue's slot: one that cannot be reached is an error (the receiver answers
// 503), never a confirmation. The confirmation itself is proven on a real
// cluster (httpapi's TestClusterMasterKilledUnderLoad).
func TestIngestOnUnreachableCluster(t *testing.T) {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, MaxRetries: -1})
	defer cc.Close()
	c := NewClient(cc, DefaultSchedule(), WithDurableAck(DurableAck{Replicas: 1}))
	b := NewIngestBatcher(c, ingestStore(t, cc), 5*time.Second)
	if _, err := b.Enqueue(context.Background(), ingestPayload("evt_1")); err == nil {
		t.Fatal("Enqueue on an unreachable cluster confirmed the task")
	}
}

// decodeIngest takes the body as it is instead of validating it again: for
// every task either writer makes (appendIngest now, json.Marshal of
// IngestPayload before), it reads what json.Unmarshal reads.
func FuzzDecodeIngest(f *testing.F) {
	f.Add("r1", `msg ,"body": "1" é`, `{"type":"payment.succeeded","data":{"amount":2999,"x":",\"body\":"}}`)
	f.Add("", "", `null`)
	f.Add(`"body":`, "x", "{\n  \"a\": [1, 2]\n}")
	f.Fuzz(func(t *testing.T, receipt, provider, body string) {
		if !json.Valid([]byte(body)) {
			return // the receiver refuses a body that is not JSON
		}
		p := IngestPayload{Receipt: receipt, EventID: "evt_1", TenantID: "ten_1", SourceID: "src_1", ProviderID: provider,
			Type: "t", ReceivedAt: time.Date(2026, 12, 2, 1, 2, 3, 456, time.UTC), Body: json.RawMessage(body)}
		spliced, err := appendIngest(nil, p)
		if err != nil {
			t.Skip() // a string json.Marshal refuses
		}
		marshaled, err := json.Marshal(p)
		if err != nil {
			t.Skip()
		}
		for _, task := range [][]byte{spliced, marshaled} {
			var want IngestPayload
			if err := json.Unmarshal(task, &want); err != nil {
				t.Fatalf("%s: %v", task, err)
			}
			got, err := decodeIngest(task)
			if err != nil {
				t.Fatalf("decodeIngest(%s): %v", task, err)
			}
			gb, wb := got.Body, want.Body
			got.Body, want.Body = nil, nil
			if !reflect.DeepEqual(got, want) || !bytes.Equal(bytes.TrimSpace(gb), bytes.TrimSpace(wb)) {
				t.Fatalf("decodeIngest(%s)\n = %+v %s\nwant %+v %s", task, got, gb, want, wb)
			}
		}
	})
}

// A task that is not an ingest task's JSON is an error, not a payload.
func TestDecodeIngestRefusesGarbage(t *testing.T) {
	for _, task := range []string{``, `{`, `{"event_id":1,"body":{}}`, `[1,"body":2]`, `{"event_id":"e","body":}`} {
		if _, err := decodeIngest([]byte(task)); err == nil {
			t.Errorf("decodeIngest(%q) = nil error", task)
		}
	}
}
