package queue

import (
	"context"
	"encoding/json"
	"errors"
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

// On Redis Cluster durable acknowledgement refuses (the receiver answers
// 503) instead of confirming through a WAIT on an unrelated node; without
// replicas asked for, nothing is waited for.
func TestAwaitReplicasRefusesOnCluster(t *testing.T) {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cc.Close()
	c := NewClient(cc, DefaultSchedule(), WithDurableAck(DurableAck{Replicas: 1}))
	if err := c.AwaitReplicas(context.Background()); !errors.Is(err, ErrAckOnCluster) {
		t.Fatalf("AwaitReplicas on a cluster = %v, want ErrAckOnCluster", err)
	}
	if err := NewClient(cc, DefaultSchedule()).AwaitReplicas(context.Background()); err != nil {
		t.Fatalf("AwaitReplicas without replicas asked for = %v, want nil", err)
	}
}
