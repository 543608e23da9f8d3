package queue

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/store"
)

// Guard is the endpoint-health policy of deliveries: the circuit that stops a
// dead destination from occupying workers, and when a destination that keeps
// failing is disabled. Zero values mean the defaults.
type Guard struct {
	Threshold    int           // consecutive failures that open the circuit, default 10
	Cooldown     time.Duration // first open period, doubling on each re-open, default 1m
	MaxCooldown  time.Duration // default 30m
	DisableAfter time.Duration // a destination failing this long is disabled, default 5 days
}

func (g Guard) policy() store.CircuitPolicy {
	p := store.CircuitPolicy{Threshold: g.Threshold, Cooldown: g.Cooldown, MaxCooldown: g.MaxCooldown}
	if p.Threshold <= 0 {
		p.Threshold = 10
	}
	if p.Cooldown <= 0 {
		p.Cooldown = time.Minute
	}
	if p.MaxCooldown <= 0 {
		p.MaxCooldown = 30 * time.Minute
	}
	return p
}

func (g Guard) disableAfter() time.Duration {
	if g.DisableAfter <= 0 {
		return 5 * 24 * time.Hour
	}
	return g.DisableAfter
}

// maxInlineWait is the longest rate-limit wait served by sleeping in the
// worker; longer waits go back to the queue (asynq schedules in seconds).
const maxInlineWait = time.Second

// admit applies the destination's rate limit and circuit before an attempt.
// A non-nil error is a waitError: the delivery runs later and spends no
// attempt. A dead letter run again by hand (from /monitoring/ or the DLQ
// API) is the operator asking to try now: an open circuit lets it through as
// the probe, so "Run now" does send.
// h is the destination's health as read with the delivery (ClaimDelivery).
// probe reports that this delivery holds the half-open circuit's probe
// lease: the caller releases it once the attempt is done (releaseProbe).
func (d *Deliverer) admit(ctx context.Context, dest store.Destination, h store.Health, byHand bool) (probe bool, err error) {
	now := d.now()
	switch circuit := h.Circuit(now); {
	case byHand && circuit != "closed":
		d.Log.Info().Str("destination_id", dest.ID).Str("circuit", circuit).Msg("dead letter run by hand probes the destination")
	case circuit == "open" && d.ranEarly(ctx):
		d.Log.Info().Str("destination_id", dest.ID).Msg("delivery run by hand during an open circuit probes the destination")
	case circuit == "open":
		return false, &waitError{reason: fmt.Sprintf("%s%s after %d consecutive failures: the delivery waits without spending an attempt",
			circuitWaitPrefix, h.OpenUntil.UTC().Format(time.RFC3339), h.ConsecutiveFailures), after: h.OpenUntil.Sub(now)}
	case circuit == "half_open":
		ok, err := d.Store.AcquireProbe(ctx, dest.ID, d.sendTimeout()+5*time.Second)
		if err != nil {
			return false, &waitError{reason: err.Error(), after: infraWait}
		}
		if !ok {
			return false, &waitError{reason: "circuit half-open: another delivery is probing the destination", after: 5 * time.Second}
		}
		probe = true
	}
	for {
		wait, err := d.Store.Throttle(ctx, dest.ID, dest.RateLimitPerSecond)
		if err == nil && wait == 0 {
			return probe, nil
		}
		// Not sending now: a probe lease taken above must not hold the
		// circuit's other deliveries back while this one waits.
		switch {
		case err != nil:
			err = &waitError{reason: err.Error(), after: infraWait}
		case wait > maxInlineWait:
			err = &waitError{reason: fmt.Sprintf("rate limit of %g/s", dest.RateLimitPerSecond), after: wait}
		default:
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				err = &waitError{reason: "shutting down while rate limited", after: time.Second}
			}
		}
		d.releaseProbe(ctx, dest.ID, probe)
		return false, err
	}
}

// releaseProbe gives up the probe lease this delivery holds (held), so the
// next delivery may probe: after an attempt whose outcome recorded nothing
// of the destination's health (a transform that cancelled or failed, a 4xx,
// a 429), or a probe that did not send. Without it the circuit stayed
// half-open with no probe in flight until the lease lapsed.
func (d *Deliverer) releaseProbe(ctx context.Context, destID string, held bool) {
	if !held {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.Store.ReleaseProbe(ctx, destID); err != nil {
		d.Log.Warn().Err(err).Str("destination_id", destID).Msg("cannot release the probe lease; it lapses by itself")
	}
}

// circuitWaitPrefix starts the error text of a delivery put back to wait for
// an open circuit; the time it waits for follows.
const circuitWaitPrefix = "circuit open until "

// ranEarly reports whether this task, put back to wait for an open circuit,
// runs before the time it was put back for: asynq runs a waiting task early
// only when an operator does ("Run now" in /monitoring/), which then acts as
// the circuit's probe. A task that waited its time and finds the circuit
// open again (a failed probe re-opened it) waits again.
func (d *Deliverer) ranEarly(ctx context.Context) bool {
	id, _ := asynq.GetTaskID(ctx)
	qname, _ := asynq.GetQueueName(ctx)
	if id == "" || qname == "" {
		return false
	}
	info, err := asynq.NewInspectorFromRedisClient(d.Store.Redis()).GetTaskInfo(qname, id)
	if err != nil {
		return false
	}
	rest, ok := strings.CutPrefix(info.LastErr, circuitWaitPrefix)
	if !ok {
		return false
	}
	stamp, _, _ := strings.Cut(rest, " ")
	until, err := time.Parse(time.RFC3339, stamp)
	return err == nil && d.now().Before(until.Add(-time.Second))
}

// noteHealth folds an outcome into the destination's health, and raises an
// alert when the circuit opens or closes. Only transient failures count
// against it (a 4xx is about the event, a 429 about our pace); a success
// closes the circuit. It returns a reason when the destination has failed
// for so long that it should be disabled. before is the health read with
// the delivery: a success on a destination that was healthy then has
// nothing to clear, so it writes nothing (the hot path's most common case).
// A failure another worker records meanwhile is then cleared by the next
// success instead of this one; the run's count is approximate under
// concurrency anyway, and the threshold counts consecutive failures.
func (d *Deliverer) noteHealth(ctx context.Context, ev store.Event, dest store.Destination, before store.Health, o outbound.Outcome) (disable string) {
	var ok bool
	switch {
	case o.Kind == outbound.Delivered && before == (store.Health{}):
		return ""
	case o.Kind == outbound.Delivered:
		ok = true
	case o.Kind == outbound.Retry && o.StatusCode != 429:
		ok = false
	default:
		return ""
	}
	h, err := d.Store.RecordHealth(ctx, dest.ID, ok, d.Guard.policy())
	if err != nil {
		d.Log.Error().Err(err).Str("destination_id", dest.ID).Msg("cannot record destination health")
		return ""
	}
	d.Alerts.CircuitChanged(ctx, ev, dest, h, o.Reason)
	if !ok && !h.FailingSince.IsZero() && d.now().Sub(h.FailingSince) >= d.Guard.disableAfter() {
		return fmt.Sprintf("failing since %s (%d consecutive failures)", h.FailingSince.Format(time.RFC3339), h.ConsecutiveFailures)
	}
	return ""
}

func (d *Deliverer) sendTimeout() time.Duration {
	if d.SendTimeout <= 0 {
		return 30 * time.Second
	}
	return d.SendTimeout
}
