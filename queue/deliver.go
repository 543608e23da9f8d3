package queue

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/metrics"
	"github.com/hookshift/hookshift/queue/dispatch"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

// Deliverer handles delivery tasks: load the event and destination, let
// package dispatch prepare and send the request, record the attempt, and
// tell asynq what next (decide, in outcome.go).
type Deliverer struct {
	Store       *store.Store
	Engine      *transformer.Engine
	HTTP        *http.Client // the egress-guarded client
	Schedule    Schedule     // unused: asynq counts attempts against the MaxRetry Client sets from the schedule
	Log         zerolog.Logger
	Now         func() time.Time
	SendTimeout time.Duration    // per request; default 30s
	Metrics     *metrics.Metrics // nil records nothing
	Guard       Guard            // circuit and disable policy
	Alerts      *Alerter         // operational events; nil raises none
}

// infraWait is how long a delivery waits, without spending an attempt, when
// our own storage fails.
const infraWait = 5 * time.Second

// recordRetryFor is how long a delivery keeps trying to record an attempt it
// made before it gives up and leaves the delivery to its task's next run
// (which sends again): longer than a Redis restart or a Sentinel failover.
const recordRetryFor = 20 * time.Second

// sendLeaseMargin is how much longer than the send timeout a delivery's send
// lease lasts: the transform (--transform-timeout, 1 s by default), the
// inline rate-limit wait and the round trips around the send. A run killed
// mid-send holds its delivery back this long past the timeout; a lease that
// lapses mid-send only lets a second task of the same delivery (rare) send
// beside it, as before leases.
const sendLeaseMargin = 20 * time.Second

// ProcessTask implements asynq.Handler.
func (d *Deliverer) ProcessTask(ctx context.Context, t *asynq.Task) error {
	taskID, _ := asynq.GetTaskID(ctx)
	var p DeliveryPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return permanent(fmt.Sprintf("delivery task is not valid JSON: %v", err))
	}
	// final: asynq will not run this task again by itself (the schedule's
	// last attempt, or a dead letter run again by hand), so a wait cannot be
	// told to asynq as an error: it is handed to a new task.
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	final := retried >= maxRetry
	log := d.Log.With().Str("event_id", p.EventID).Str("destination_id", p.DestinationID).Str("task_id", taskID).Logger()
	err := d.deliver(ctx, log, taskID, p, final)
	var w *waitError
	// A run the worker cut short is run again by asynq itself, final or not.
	if final && errors.As(err, &w) && ctx.Err() == nil {
		return d.waitInNewTask(ctx, log, p, w)
	}
	return err
}

// deliver is one run of a delivery task.
func (d *Deliverer) deliver(ctx context.Context, log zerolog.Logger, taskID string, p DeliveryPayload, final bool) error {

	// One round trip takes the delivery's send lease and reads the event,
	// the destination (afresh: a change is seen by the next attempt), the
	// delivery's state and the health.
	token := rand.Text()
	in, claimed, err := d.Store.ClaimDelivery(ctx, p.EventID, p.DestinationID, token, d.sendTimeout()+sendLeaseMargin)
	released := false // the attempt's record gave the lease up
	if claimed {
		defer func() {
			if released {
				return
			}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := d.Store.ReleaseDelivery(rctx, p.EventID, p.DestinationID, token); err != nil {
				log.Warn().Err(err).Msg("cannot release the delivery's send lease; it lapses by itself")
			}
		}()
	}
	switch {
	case errors.Is(err, store.ErrEventNotFound):
		log.Warn().Msg("event expired before delivery")
		return permanent("event no longer stored (past its retention)")
	case errors.Is(err, store.ErrDestinationNotFound):
		_ = d.Store.SetDeliveryStatus(ctx, p.EventID, p.DestinationID, store.StatusCancelled)
		log.Info().Msg("destination deleted; delivery cancelled")
		return nil
	case err != nil:
		return &waitError{reason: err.Error(), after: infraWait}
	case !claimed:
		// Another task of this delivery (a replay, a dead letter run again,
		// a retry) is sending it now: wait for its outcome, then read it.
		return &waitError{reason: "another task is sending this delivery now", after: infraWait}
	}
	ev, dest, prev := in.Event, in.Destination, in.Delivery
	// asynq runs a task at least once: a worker that dies after recording
	// the attempt, or whose lease runs out, leaves the task to run again.
	// A delivery recorded as done is not sent again; a replay puts it back
	// to pending before it enqueues, so it is sent.
	if prev.Status == store.StatusDelivered || prev.Status == store.StatusCancelled {
		log.Info().Str("status", prev.Status).Msg("delivery already done; task run again is dropped")
		return nil
	}
	// The attempt number is the delivery's own count, so a dead letter run
	// again (whose asynq retry count stays where it was) logs the truth.
	number := prev.AttemptCount + 1
	log = log.With().Int("attempt", number).Logger()
	if !dest.Disabled {
		// A dead letter (status failed) that runs again was run by hand.
		probe, err := d.admit(ctx, dest, in.Health, prev.Status == store.StatusFailed)
		if err != nil {
			log.Debug().Err(err).Msg("delivery waits")
			return err
		}
		// RecordHealth releases the probe after a success or a transient
		// failure; any other outcome leaves it to be released here.
		defer d.releaseProbe(ctx, dest.ID, probe)
	}

	start := d.now()
	c := d.attempt(ctx, ev, dest)
	if ctx.Err() != nil && c.Kind != outbound.Delivered {
		// The worker cut the run short (asynq's shutdown timeout, a lost
		// lease, the task's deadline) and asynq runs the task again on its
		// own: the run learned nothing of the destination, so it spends no
		// attempt and counts no failure toward the destination's circuit.
		log.Warn().Err(ctx.Err()).Str("outcome", c.Kind.String()).Msg("delivery interrupted by this worker; it runs again without spending an attempt")
		return &waitError{reason: "interrupted by the worker: " + ctx.Err().Error(), after: infraWait}
	}
	att := store.Attempt{Number: number, At: start, Outcome: c.Kind.String(), StatusCode: c.StatusCode,
		DurationMS: float64(d.now().Sub(start).Microseconds()) / 1000, Error: c.Reason, Line: c.Line,
		Logs: c.Logs, Request: c.Request}
	status, taskErr := decide(c.Outcome, final)
	if err := d.recordAttempt(ctx, log, p, att, status, token); err != nil {
		// Without the record the attempt must not count: try again soon.
		return &waitError{reason: err.Error(), after: infraWait}
	}
	released = true
	d.afterSend(ctx, log, ev, dest, in.Health, c.Outcome)
	if status == StatusFailed {
		d.Alerts.Raise(ctx, ev, dest, rules.AlertDeadLettered, c.Reason)
	}
	var age time.Duration
	if status == StatusDelivered {
		age = d.now().Sub(ev.ReceivedAt)
	}
	d.Metrics.Delivered(dest.Integration, c.Kind.String(), c.Sent, age)
	if c.Transform > 0 {
		d.Metrics.Transformed(c.Transform)
	}
	log.Info().Str("integration", dest.Integration).Str("outcome", c.Kind.String()).Str("status", string(status)).
		Int("status_code", c.StatusCode).Float64("duration_ms", att.DurationMS).Msg("delivery attempt")
	return taskErr
}

// recordAttempt records an attempt that was made, trying again for up to
// recordRetryFor while Redis cannot take it (a restart, a failover): the
// task's next run finds no record and sends again, so a delivered payment
// whose record was lost would reach the destination twice. It outlives a
// shutdown of the task's context for the same reason.
func (d *Deliverer) recordAttempt(ctx context.Context, log zerolog.Logger, p DeliveryPayload, att store.Attempt, status Status, token string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordRetryFor)
	defer cancel()
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		err := d.Store.RecordAttemptReleasing(rctx, p.EventID, p.DestinationID, att, string(status), token)
		if err == nil {
			return nil
		}
		log.Warn().Err(err).Str("status", string(status)).Msg("cannot record the attempt; trying again")
		select {
		case <-time.After(wait):
		case <-rctx.Done():
			return err
		}
	}
}

// attempt is one dispatch: prepare (transform, headers, signature) and send.
func (d *Deliverer) attempt(ctx context.Context, ev store.Event, dest store.Destination) dispatch.Completed {
	if dest.Disabled {
		return dispatch.Completed{Outcome: outbound.Outcome{Kind: outbound.Permanent, Reason: "destination disabled: " + dest.DisabledReason}}
	}
	return d.sender().Deliver(ctx, ev, dest)
}

// afterSend folds the outcome into the destination's health and disables a
// destination that answered 410 or has failed for too long.
func (d *Deliverer) afterSend(ctx context.Context, log zerolog.Logger, ev store.Event, dest store.Destination, h store.Health, o outbound.Outcome) {
	reason := d.noteHealth(ctx, ev, dest, h, o)
	if o.Disable {
		reason = "destination answered 410 Gone"
	}
	if reason == "" {
		return
	}
	dest.Disabled, dest.DisabledReason, dest.UpdatedAt = true, reason, d.now()
	if err := d.Store.SaveDestination(ctx, dest); err != nil {
		log.Error().Err(err).Msg("could not disable destination")
		return
	}
	log.Warn().Str("reason", reason).Msg("destination disabled")
	d.Alerts.Raise(ctx, ev, dest, rules.AlertDisabled, reason)
}

// waitInNewTask postpones a final attempt. asynq archives a task that
// returns any error once its retries are spent, so a final attempt that
// must wait (an open circuit, a rate limit) cannot say so; it hands over to
// a new task, due after the wait, with no retries of its own, and ends. The
// id is derived from the wait's end, so a handler re-run after a crash
// enqueues it once.
func (d *Deliverer) waitInNewTask(ctx context.Context, log zerolog.Logger, p DeliveryPayload, w *waitError) error {
	qname, _ := asynq.GetQueueName(ctx)
	if qname == "" {
		qname = QueueDelivery
	}
	b, err := json.Marshal(p)
	if err != nil {
		return w
	}
	id := DeliveryTaskID(p.EventID, p.DestinationID) + ":final:" + strconv.FormatInt(d.now().Add(w.after).Unix(), 10)
	c := asynq.NewClientFromRedisClient(d.Store.Redis())
	_, err = c.EnqueueContext(ctx, asynq.NewTask(TypeDelivery, b), asynq.TaskID(id), asynq.Queue(qname),
		asynq.ProcessIn(asynqDelay(w.after)), asynq.MaxRetry(0))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		log.Error().Err(err).Msg("cannot postpone the final attempt")
		return w // archived: the operator can run it again
	}
	log.Info().Str("next_task_id", id).Str("reason", w.reason).Msg("final attempt waits in a new task")
	return nil
}

// sender is the dispatch unit with this worker's client, clock and timeout.
func (d *Deliverer) sender() *dispatch.Sender {
	return &dispatch.Sender{Engine: d.Engine, HTTP: d.HTTP, Now: d.Now, Timeout: d.SendTimeout}
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
