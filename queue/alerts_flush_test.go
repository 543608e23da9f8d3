package queue

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
)

// A flush task that dies after its script took what the window held back
// (and opened the window of the alert that carries it) but before it queued
// that alert is run again by asynq: the run again must still send the held
// count, not find an open window, wait it out, and then find nothing.
func TestAlertFlushRunAgainAfterHandOverSendsTheCount(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	sealer, err := store.NewSealer("alert-flush-secret-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(rdb, sealer, store.Options{})
	ctx := context.Background()
	const tenant, typ, window = "ten_al", rules.AlertDeadLettered, time.Hour
	subject := store.Destination{ID: "dst_subject", TenantID: tenant, SourceID: "src_al", Name: "subject",
		Integration: "http", URL: "https://example.com/a", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.SaveDestination(ctx, subject); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveAlerts(ctx, tenant, store.Alerts{DestinationIDs: []string{"dst_ops"}, Types: []string{typ}}); err != nil {
		t.Fatal(err)
	}
	cl := NewClient(rdb, DefaultSchedule())
	t.Cleanup(func() { _ = cl.Close() })
	a := &Alerter{Store: st, Client: cl, Window: window, Log: zerolog.New(os.Stderr).Level(zerolog.WarnLevel)}

	ev := store.Event{ID: "evt_pay", TenantID: tenant, SourceID: "src_al", Type: "payment.succeeded"}
	for range 3 { // one goes out, two are held back
		a.Raise(ctx, ev, subject, typ, "HTTP 400")
	}
	flushTask := asynq.NewTask(TypeAlertFlush, []byte(`{"tenant_id":"`+tenant+`","alert":{"type":"`+typ+
		`","timestamp":"0001-01-01T00:00:00Z","data":{"destination_id":"dst_subject","destination_name":"subject","reason":""}}}`))

	windowKey := "hookshift:{d:dst_subject}:alert:" + typ
	if n, _ := rdb.Exists(ctx, windowKey).Result(); n != 1 {
		keys, _ := rdb.Keys(ctx, "*alert*").Result()
		t.Fatalf("window key %q not found; alert keys: %v", windowKey, keys)
	}
	rdb.Del(ctx, windowKey) // the window closes
	// The first run of the flush task: its script ran, then the worker died.
	held, err := st.FlushAlertWindow(ctx, subject.ID, typ, window)
	if err != nil || held.Count != 2 {
		t.Fatalf("flush: %+v %v, want the 2 held", held, err)
	}
	wantEmit := asynqTaskKey(QueueIngest, "alert:"+store.EventID("hookshift", subject.ID+":"+typ+":"+held.WindowID))

	// asynq runs the task again: while the window the flush opened runs,
	// and after it closed.
	_ = a.ProcessTask(ctx, flushTask)
	rdb.Del(ctx, windowKey)
	_ = a.ProcessTask(ctx, flushTask)

	if n, _ := rdb.Exists(ctx, wantEmit).Result(); n != 1 {
		t.Fatalf("the alert carrying the 2 held-back alerts was never queued (%s): the count is lost", wantEmit)
	}
}
