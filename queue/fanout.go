package queue

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
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
	p, err := decodeIngest(t.Payload())
	if err != nil {
		return permanent(fmt.Sprintf("ingest task is not valid JSON: %v", err))
	}
	log := f.Log.With().Str("event_id", p.EventID).Str("source_id", p.SourceID).Str("event_type", p.Type).Logger()
	// A new event takes two round trips: the record with the reads of the
	// source's destinations, then the index write, the delivery records
	// and the enqueue.
	ev := store.Event{ID: p.EventID, TenantID: p.TenantID, SourceID: p.SourceID, ProviderID: p.ProviderID,
		Type: p.Type, ReceivedAt: p.ReceivedAt, Payload: p.Body}
	rec, err := f.Store.RecordEventForFanOut(ctx, ev, p.Receipt)
	if err != nil {
		return err
	}
	if !rec.Fresh {
		// Another accepted copy recorded this event first; it fans out itself.
		log.Info().Msg("duplicate event dropped at fan-out")
		return nil
	}
	keys := inbound.SearchKeys(p.Body)
	targets := rules.Targets(rec.Dests, p.Type)
	ids := make([]string, len(targets))
	todo := make([]DeliveryPayload, 0, len(targets))
	for i, d := range targets {
		ids[i] = d.ID
	}
	if rec.First {
		// Nothing of the event existed before this run: no delivery is
		// done, so the delivery records are made in the round trip of the
		// enqueue, just before it. A crash in between leaves the task to
		// run again, which takes the path below.
		for _, d := range targets {
			todo = append(todo, DeliveryFor(p.EventID, p.Type, d))
		}
		var indexed, inited func() error
		err := f.Client.EnqueueDeliveriesAfter(ctx, todo, p.Receipt, func(pl redis.Pipeliner) {
			indexed = f.Store.QueueIndexEvent(ctx, pl, ev, keys)
			if len(ids) > 0 {
				inited = f.Store.QueueInitDeliveries(ctx, pl, p.EventID, ids)
			}
		})
		if err == nil {
			err = indexed()
		}
		if err == nil && inited != nil {
			err = inited()
		}
		if err != nil {
			return err
		}
	} else {
		// A run again (or an event whose records outlived its marker): one
		// script call makes every delivery's record or finds it, then the
		// deliveries still to do are enqueued together.
		if err := f.Store.IndexEvent(ctx, ev, keys); err != nil {
			return err
		}
		states, err := f.Store.InitDeliveries(ctx, p.EventID, ids)
		if err != nil {
			return err
		}
		for i, d := range targets {
			if store.Terminal(states[i].Status) {
				continue // done by an earlier run of this task
			}
			todo = append(todo, DeliveryFor(p.EventID, p.Type, d))
		}
		if err := f.Client.EnqueueDeliveries(ctx, todo, p.Receipt); err != nil {
			return err
		}
	}
	n := len(todo)
	log.Info().Int("deliveries", n).Msg("event recorded")
	return nil
}
