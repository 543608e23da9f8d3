package httpapi_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookshift/hookshift/httpapi"
	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/queue"
)

// With HOOKSHIFT_ACK_REPLICAS=1 the receiver answers 2xx only once a replica
// holds the event's task. With the replica gone it answers 503
// not_replicated (for a new event, and for a duplicate whose original the
// replica might not have); once a replica is back, the same webhook is
// answered 2xx, as the duplicate of the task queued by the refused attempt.
func TestDurableAckWaitsForReplica(t *testing.T) {
	s := newStack(t)
	replica := redistest.StartReplica(s.redis)
	qc := queue.NewClient(s.rdb, s.schedule, queue.WithDurableAck(queue.DurableAck{Replicas: 1, Timeout: 200 * time.Millisecond}))
	srv := &httpapi.Server{Store: s.store, Queue: qc, Engine: s.engine, Egress: testEgress,
		RootToken: rootToken, Log: s.log, Now: s.clock.Now}
	s.api = httptest.NewServer(srv.Handler(httpapi.Roles{Receiver: true, API: true}))
	t.Cleanup(s.api.Close)
	tok := s.tenant("ack")
	src, secret := s.source(tok)
	onReplica := func(eventID string) bool {
		t.Helper()
		_, err := asynq.NewInspectorFromRedisClient(replica.Client()).GetTaskInfo(queue.QueueIngest, eventID)
		return err == nil
	}

	code, out := s.signed(src, secret, "msg_ack_1", []byte(paymentBody), time.Now())
	if code != 202 || out["duplicate"] != false {
		t.Fatalf("replica up: %d %v, want 202", code, out)
	}
	first := out["event_id"].(string)
	if !onReplica(first) {
		t.Fatalf("answered 202 but the replica does not hold task %s", first)
	}

	replica.Stop()
	code, out = s.signed(src, secret, "msg_ack_2", []byte(paymentBody), time.Now())
	if code != 503 || errCode(out) != "not_replicated" {
		t.Fatalf("replica down, new event: %d %v, want 503 not_replicated", code, out)
	}
	code, out = s.signed(src, secret, "msg_ack_1", []byte(paymentBody), time.Now())
	if code != 503 || errCode(out) != "not_replicated" {
		t.Fatalf("replica down, duplicate: %d %v, want 503 not_replicated (a duplicate is durable only once replicated)", code, out)
	}

	replica.Restart()
	replica.WaitLinkUp()
	code, out = s.signed(src, secret, "msg_ack_2", []byte(paymentBody), time.Now())
	if code != 200 || out["duplicate"] != true {
		t.Fatalf("replica back, the refused webhook again: %d %v, want 200 duplicate (its task was queued)", code, out)
	}
	if second := out["event_id"].(string); !onReplica(second) {
		t.Fatalf("answered 2xx but the replica does not hold task %s", second)
	}
	if n := s.queueSize(queue.QueueIngest); n != 2 {
		t.Fatalf("ingest queue holds %d tasks, want 2 (the 503 and its retry are one event)", n)
	}
}
