package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/metrics"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

// Deliverer handles delivery tasks: load the event and destination, run the
// transform, send, classify, record the attempt, and tell asynq what next.
type Deliverer struct {
	Store       *store.Store
	Engine      *transformer.Engine
	HTTP        *http.Client // the egress-guarded client
	Schedule    Schedule
	Log         zerolog.Logger
	Now         func() time.Time
	SendTimeout time.Duration    // per request; default 30s
	Metrics     *metrics.Metrics // nil records nothing
	Guard       Guard            // circuit and disable policy
}

// infraWait is how long a delivery waits, without spending an attempt, when
// our own storage fails.
const infraWait = 5 * time.Second

// maxErrorBody bounds how much of an error response is read for the reason.
const maxErrorBody = 4 << 10

// ProcessTask implements asynq.Handler.
func (d *Deliverer) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p DeliveryPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return permanent(fmt.Sprintf("delivery task is not valid JSON: %v", err))
	}
	retried, _ := asynq.GetRetryCount(ctx)
	log := d.Log.With().Str("event_id", p.EventID).Str("destination_id", p.DestinationID).Int("attempt", retried+1).Logger()

	ev, err := d.Store.GetEvent(ctx, "", p.EventID)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn().Msg("event expired before delivery")
		return permanent("event no longer stored (past its retention)")
	}
	if err != nil {
		return &waitError{reason: err.Error(), after: infraWait}
	}
	dest, err := d.Store.GetDestination(ctx, "", p.DestinationID)
	if errors.Is(err, store.ErrNotFound) {
		_ = d.Store.SetDeliveryStatus(ctx, p.EventID, p.DestinationID, store.StatusCancelled)
		log.Info().Msg("destination deleted; delivery cancelled")
		return nil
	}
	if err != nil {
		return &waitError{reason: err.Error(), after: infraWait}
	}
	prev, err := d.Store.InitDelivery(ctx, p.EventID, p.DestinationID)
	if err != nil {
		return &waitError{reason: err.Error(), after: infraWait}
	}
	if !dest.Disabled {
		if err := d.admit(ctx, dest); err != nil {
			log.Debug().Err(err).Msg("delivery waits")
			return err
		}
	}

	start := d.now()
	att, out, sent := d.attempt(ctx, ev, dest)
	att.Number, att.At = prev.AttemptCount+1, start
	att.DurationMS = float64(d.now().Sub(start).Microseconds()) / 1000
	att.Outcome, att.StatusCode = out.Kind.String(), out.StatusCode
	if att.Error == "" {
		att.Error = out.Reason
	}

	status := statusFor(out, retried+1 >= d.Schedule.MaxAttempts())
	if err := d.Store.RecordAttempt(ctx, p.EventID, p.DestinationID, att, status); err != nil {
		// Without the record the attempt must not count: try again soon.
		return &waitError{reason: err.Error(), after: infraWait}
	}
	reason := d.noteHealth(ctx, dest, out)
	if out.Disable {
		reason = "destination answered 410 Gone"
	}
	if reason != "" {
		dest.Disabled, dest.DisabledReason, dest.UpdatedAt = true, reason, d.now()
		if err := d.Store.SaveDestination(ctx, dest); err != nil {
			log.Error().Err(err).Msg("could not disable destination")
		} else {
			log.Warn().Str("reason", reason).Msg("destination disabled")
		}
	}
	var age time.Duration
	if status == store.StatusDelivered {
		age = d.now().Sub(ev.ReceivedAt)
	}
	d.Metrics.Delivered(dest.Integration, out.Kind.String(), sent, age)
	log.Info().Str("integration", dest.Integration).Str("outcome", out.Kind.String()).Str("status", status).
		Int("status_code", out.StatusCode).Float64("duration_ms", att.DurationMS).Msg("delivery attempt")
	return taskError(out, status)
}

// statusFor is the delivery status after an attempt with this outcome.
func statusFor(o outbound.Outcome, lastAttempt bool) string {
	switch o.Kind {
	case outbound.Delivered:
		return store.StatusDelivered
	case outbound.Cancelled:
		return store.StatusCancelled
	case outbound.Retry:
		if lastAttempt {
			return store.StatusFailed
		}
		return store.StatusRetrying
	default:
		return store.StatusFailed
	}
}

// taskError maps an outcome to asynq: nil when done, a retry, or the archive.
func taskError(o outbound.Outcome, status string) error {
	switch {
	case status == store.StatusDelivered || status == store.StatusCancelled:
		return nil
	case status == store.StatusRetrying:
		return &retryError{reason: o.Reason, retryAfter: o.RetryAfter}
	case o.Kind == outbound.Retry:
		return permanent("gave up after the last attempt: " + o.Reason)
	default:
		return permanent(o.Reason)
	}
}

// attempt builds the request (through the transform) and sends it. It
// returns how long the destination took to answer (0 if nothing was sent).
func (d *Deliverer) attempt(ctx context.Context, ev store.Event, dest store.Destination) (store.Attempt, outbound.Outcome, time.Duration) {
	var att store.Attempt
	spec, ok := integrations.Lookup(dest.Integration)
	if !ok {
		return att, outbound.Outcome{Kind: outbound.Permanent, Reason: "unknown integration " + dest.Integration}, 0
	}
	if dest.Disabled {
		return att, outbound.Outcome{Kind: outbound.Permanent, Reason: "destination disabled: " + dest.DisabledReason}, 0
	}
	start := d.now()
	req, err := BuildRequest(ctx, d.Engine, ev, dest)
	if dest.Transform != nil && dest.Transform.Enabled {
		d.Metrics.Transformed(d.now().Sub(start))
	}
	if err != nil {
		var te *transformer.Error
		if errors.As(err, &te) {
			att.Line, att.Logs = te.Line, te.Logs
			return att, outbound.Outcome{Kind: outbound.Permanent, Reason: te.Error()}, 0
		}
		return att, outbound.Outcome{Kind: outbound.Retry, Reason: err.Error()}, 0
	}
	att.Logs = req.Logs
	if req.Cancel {
		return att, outbound.Outcome{Kind: outbound.Cancelled, Reason: "cancelled by the transform"}, 0
	}
	shown := req.URL
	if req.URL == dest.URL {
		shown = spec.ShownURL(req.URL) // a Slack or Discord URL is the credential
	}
	att.Request = req.Method + " " + shown
	sendStart := d.now()
	out := d.send(ctx, spec, dest, ev, req)
	return att, out, d.now().Sub(sendStart)
}

// BuildRequest produces the request a delivery would send: the event as is,
// or what the destination's transform makes of it. The worker and the
// transform-test endpoints share it, so a test shows exactly what is sent.
func BuildRequest(ctx context.Context, eng *transformer.Engine, ev store.Event, dest store.Destination) (transformer.Result, error) {
	res := transformer.Result{Method: http.MethodPost, URL: dest.URL, Headers: map[string]string{}, Payload: ev.Payload}
	if dest.Transform == nil || !dest.Transform.Enabled || dest.Transform.Code == "" {
		return res, nil
	}
	spec, _ := integrations.Lookup(dest.Integration)
	out, err := eng.Run(ctx, transformer.Script{TenantID: dest.TenantID, Code: dest.Transform.Code}, transformer.Input{
		Method: http.MethodPost, URL: dest.URL, EventType: ev.Type, Payload: ev.Payload, Env: spec.ScriptEnvFor(dest.Config, dest.Env),
	})
	if err != nil {
		return out, err
	}
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	return out, nil
}

func (d *Deliverer) send(ctx context.Context, spec outbound.Spec, dest store.Destination, ev store.Event, r transformer.Result) outbound.Outcome {
	ctx, cancel := context.WithTimeout(ctx, d.sendTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Payload))
	if err != nil {
		return outbound.Outcome{Kind: outbound.Permanent, Reason: "cannot build request: " + err.Error()}
	}
	req.Header = Headers(spec, dest, r.Headers, ev.ID)
	if spec.Sign != nil { // e.g. a Standard Webhooks signature the merchant's endpoint can verify
		if err := spec.Sign(dest.Config, req.Header.Get("Idempotency-Key"), d.now(), r.Payload, req.Header); err != nil {
			return outbound.Outcome{Kind: outbound.Permanent, Reason: "cannot sign request: " + err.Error()}
		}
	}

	resp, err := d.HTTP.Do(req)
	var body []byte
	if err == nil {
		if resp.StatusCode >= 300 {
			body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
		resp.Body.Close()
	}
	return outbound.Classify(resp, body, err, spec, d.now())
}

// Headers are the request headers of a delivery: the destination's, then
// the integration's credentials, then the script's (which override both),
// then the idempotency key, which is the same for every retry and replay.
func Headers(spec outbound.Spec, dest store.Destination, script map[string]string, eventID string) http.Header {
	h := http.Header{}
	for k, v := range dest.Headers {
		h.Set(k, v)
	}
	if spec.Authorize != nil {
		spec.Authorize(dest.Config, h)
	}
	for k, v := range script {
		h.Set(k, v)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Idempotency-Key", DeliveryTaskID(eventID, dest.ID))
	h.Set("User-Agent", "hookshift/1")
	return h
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
