package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
)

// Alert task types. Both run on the ingest queue: an alert is a fresh event.
const (
	// TypeAlertEmit records one operational event and fans it out to the
	// tenant's alert destinations.
	TypeAlertEmit = "alert:emit"
	// TypeAlertFlush runs when an alert window closes and sends what it held
	// back as one alert with a count.
	TypeAlertFlush = "alert:flush"
)

// DefaultAlertWindow is how long, by default, one alert per destination and
// type holds back the next ones (--alert-window).
const DefaultAlertWindow = 15 * time.Minute

// Alerter raises operational events (rules.AlertTypes) about a tenant's
// destinations. A raised alert is bounded: the first of a destination and
// type in a window goes out at once; the rest are counted in Redis and a
// delayed task sends their count when the window closes, so none is lost and
// a burst of dead letters gives two alerts, not thirty. The event goes
// through the ordinary delivery path (retries, idempotency key, attempts).
// A nil *Alerter raises nothing.
type Alerter struct {
	Store  *store.Store
	Client *Client
	Window time.Duration // default DefaultAlertWindow
	// PublicURL is scheme://host of the console; when set, each alert links
	// to the event or destination it is about.
	PublicURL string
	Log       zerolog.Logger
	Now       func() time.Time
}

// AlertEvent is an operational event as its destinations receive it
// (API.md "Alerts").
type AlertEvent struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      AlertData `json:"data"`
}

// AlertData is what an operational event is about. Count is set on an
// alert that carries the ones its window held back ("12 more deliveries
// failed"); ConsoleURL when the console's public URL is configured.
type AlertData struct {
	DestinationID   string `json:"destination_id"`
	DestinationName string `json:"destination_name"`
	EventID         string `json:"event_id,omitempty"`
	Reason          string `json:"reason"`
	Count           int    `json:"count,omitempty"`
	ConsoleURL      string `json:"console_url,omitempty"`
}

// alertTask is the payload of both alert tasks: no secret, no payload.
type alertTask struct {
	TenantID string     `json:"tenant_id"`
	EventID  string     `json:"event_id,omitempty"` // emit only: the operational event's own id
	Alert    AlertEvent `json:"alert"`
}

// Raise reports that something of type typ (rules.AlertDisabled, ...)
// happened to dest while delivering ev, for reason (a masked text from the
// dispatch unit or our own). It never fails the delivery: a problem is
// logged. An operational event's own delivery raises nothing, so alerts
// never feed back into themselves.
func (a *Alerter) Raise(ctx context.Context, ev store.Event, dest store.Destination, typ, reason string) {
	if a == nil || rules.IsOperationalEvent(ev) {
		return
	}
	log := a.Log.With().Str("destination_id", dest.ID).Str("alert", typ).Logger()
	if err := a.raise(ctx, ev, dest, typ, reason); err != nil {
		log.Error().Err(err).Msg("cannot raise alert")
	}
}

// CircuitChanged raises circuit_opened or recovered when RecordHealth just
// opened a destination's circuit or a success closed it; reason is the
// failure that opened it.
func (a *Alerter) CircuitChanged(ctx context.Context, ev store.Event, dest store.Destination, h store.Health, reason string) {
	switch h.Change {
	case "opened":
		a.Raise(ctx, ev, dest, rules.AlertCircuitOpened, fmt.Sprintf("circuit opened after %d consecutive failures; deliveries wait until %s. Last failure: %s",
			h.ConsecutiveFailures, h.OpenUntil.UTC().Format(time.RFC3339), reason))
	case "closed":
		a.Raise(ctx, ev, dest, rules.AlertRecovered, "a delivery succeeded again; the circuit is closed")
	}
}

func (a *Alerter) raise(ctx context.Context, ev store.Event, dest store.Destination, typ, reason string) error {
	cfg, err := a.Store.GetAlerts(ctx, dest.TenantID)
	if err != nil {
		return err
	}
	if len(cfg.DestinationIDs) == 0 || !slices.Contains(cfg.Types, typ) {
		return nil // not wanted: nothing to count either
	}
	w, err := a.Store.OpenAlertWindow(ctx, dest.ID, typ, a.window(), ev.ID, reason)
	if err != nil {
		return err
	}
	if !w.Open {
		// Held back: make sure the window's flush is queued. The id names
		// the window, so each held alert asks for the same one task.
		return a.enqueue(ctx, TypeAlertFlush, "alert-flush:"+dest.ID+":"+typ+":"+w.ID, asynqDelay(w.Rest),
			alertTask{TenantID: dest.TenantID, Alert: AlertEvent{Type: typ,
				Data: AlertData{DestinationID: dest.ID, DestinationName: dest.Name}}})
	}
	alert := a.event(typ, dest.ID, dest.Name, ev.ID, reason, w.Held)
	return a.emit(ctx, dest.TenantID, w.ID, alert)
}

// event builds an operational event. Only a dead letter names the event it
// is about; the others are about the destination.
func (a *Alerter) event(typ, destID, destName, eventID, reason string, count int) AlertEvent {
	d := AlertData{DestinationID: destID, DestinationName: destName, Reason: reason, Count: count}
	if typ == rules.AlertDeadLettered {
		d.EventID = eventID
	}
	if base := strings.TrimRight(a.PublicURL, "/"); base != "" {
		d.ConsoleURL = base + "/console/destinations/" + destID
		if d.EventID != "" {
			d.ConsoleURL = base + "/console/events/" + d.EventID
		}
	}
	return AlertEvent{Type: typ, Timestamp: a.now().UTC(), Data: d}
}

// emit queues the recording and fan-out of one alert. Its event id is
// derived from the destination, type and window, so a re-run emits it once.
func (a *Alerter) emit(ctx context.Context, tenantID, windowID string, alert AlertEvent) error {
	id := store.EventID("hookshift", alert.Data.DestinationID+":"+alert.Type+":"+windowID)
	return a.enqueue(ctx, TypeAlertEmit, "alert:"+id, 0, alertTask{TenantID: tenantID, EventID: id, Alert: alert})
}

func (a *Alerter) enqueue(ctx context.Context, typ, taskID string, delay time.Duration, p alertTask) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode alert task: %w", err)
	}
	_, err = a.Client.ac.EnqueueContext(ctx, asynq.NewTask(typ, b), asynq.TaskID(taskID), asynq.Queue(QueueIngest),
		asynq.ProcessIn(delay), asynq.MaxRetry(ingestMaxRetry))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", taskID, err)
	}
	return nil
}

// ProcessTask implements asynq.Handler for both alert task types.
func (a *Alerter) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p alertTask
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return permanent(fmt.Sprintf("alert task is not valid JSON: %v", err))
	}
	if t.Type() == TypeAlertFlush {
		return a.flush(ctx, p)
	}
	return a.record(ctx, p)
}

// flush sends what a closed window held back, as one alert with the count.
// What the store handed over stays there until the alert is queued, so a
// flush cut short in between and run again sends it (the same event id);
// after sending an earlier run's hand-over it flushes its own window.
func (a *Alerter) flush(ctx context.Context, p alertTask) error {
	d := p.Alert.Data
	for {
		held, err := a.Store.FlushAlertWindow(ctx, d.DestinationID, p.Alert.Type, a.window())
		if errors.Is(err, store.ErrWindowOpen) {
			return &waitError{reason: "alert window still open", after: time.Second}
		}
		if err != nil || held.Count == 0 {
			return err
		}
		alert := a.event(p.Alert.Type, d.DestinationID, d.DestinationName, held.EventID, held.Reason, held.Count)
		if err := a.emit(ctx, p.TenantID, held.WindowID, alert); err != nil {
			return err
		}
		if err := a.Store.AckAlertFlush(ctx, d.DestinationID, p.Alert.Type, held.WindowID); err != nil {
			return err
		}
		if !held.Pending {
			return nil // this run's own flush: the window it opened runs now
		}
	}
}

// record stores the operational event in the tenant's event log (so the
// event API shows it and its attempts) and enqueues one delivery per alert
// destination, as the fan-out does for a webhook. Idempotent: the same
// receipt re-records the same event, and a finished delivery is skipped.
func (a *Alerter) record(ctx context.Context, p alertTask) error {
	body, err := json.Marshal(p.Alert)
	if err != nil {
		return permanent(fmt.Sprintf("encode alert: %v", err))
	}
	if _, err := a.Store.RecordEvent(ctx, store.Event{ID: p.EventID, TenantID: p.TenantID, ProviderID: p.EventID,
		Type: p.Alert.Type, ReceivedAt: p.Alert.Timestamp, Payload: body}, p.EventID, store.SearchKeys{}); err != nil {
		return err
	}
	cfg, err := a.Store.GetAlerts(ctx, p.TenantID)
	if err != nil {
		return err
	}
	dests, err := a.Store.ListDestinations(ctx, p.TenantID, "")
	if err != nil {
		return err
	}
	n := 0
	for _, d := range rules.AlertTargets(cfg, dests, p.Alert.Type, p.Alert.Data.DestinationID) {
		del, err := a.Store.InitDelivery(ctx, p.EventID, d.ID)
		if err != nil {
			return err
		}
		if store.Terminal(del.Status) {
			continue
		}
		if err := a.Client.EnqueueDelivery(ctx, DeliveryFor(p.EventID, p.Alert.Type, d), ""); err != nil {
			return err
		}
		n++
	}
	a.Log.Info().Str("event_id", p.EventID).Str("alert", p.Alert.Type).Str("destination_id", p.Alert.Data.DestinationID).
		Int("count", p.Alert.Data.Count).Int("deliveries", n).Msg("alert raised")
	return nil
}

func (a *Alerter) window() time.Duration {
	if a.Window <= 0 {
		return DefaultAlertWindow
	}
	return a.Window
}

func (a *Alerter) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
