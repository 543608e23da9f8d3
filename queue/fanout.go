package queue

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
)

// FanOut handles ingest tasks: it records the event once, then enqueues one
// delivery per matching destination. Every step is idempotent, so a task
// retried after a crash at any line neither loses nor doubles a delivery.
type FanOut struct {
	Store  *store.Store
	Client *Client
	Log    zerolog.Logger
}

// ProcessTask implements asynq.Handler.
func (f *FanOut) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p IngestPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return permanent(fmt.Sprintf("ingest task is not valid JSON: %v", err))
	}
	log := f.Log.With().Str("event_id", p.EventID).Str("source_id", p.SourceID).Str("event_type", p.Type).Logger()
	fresh, err := f.Store.RecordEvent(ctx, store.Event{
		ID: p.EventID, TenantID: p.TenantID, SourceID: p.SourceID, ProviderID: p.ProviderID,
		Type: p.Type, ReceivedAt: p.ReceivedAt, Payload: p.Body,
	}, p.Receipt, inbound.SearchKeys(p.Body))
	if err != nil {
		return err
	}
	if !fresh {
		// Another accepted copy recorded this event first; it fans out itself.
		log.Info().Msg("duplicate event dropped at fan-out")
		return nil
	}
	dests, err := f.Store.ListDestinations(ctx, p.TenantID, p.SourceID)
	if err != nil {
		return err
	}
	n := 0
	for _, d := range rules.Targets(dests, p.Type) {
		del, err := f.Store.InitDelivery(ctx, p.EventID, d.ID)
		if err != nil {
			return err
		}
		if store.Terminal(del.Status) {
			continue // done by an earlier run of this task
		}
		if err := f.Client.EnqueueDelivery(ctx, DeliveryFor(p.EventID, p.Type, d), ""); err != nil {
			return err
		}
		n++
	}
	log.Info().Int("deliveries", n).Msg("event recorded")
	return nil
}
