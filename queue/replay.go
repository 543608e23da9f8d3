package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/store"
)

// MaxReplay bounds one destination replay; the API says when there is more.
const MaxReplay = 100_000

// Replayer handles destination replays: it claims each failed delivery
// (failed → pending, so two replays never both send it) and enqueues it with
// a delay that paces the whole replay at PerSecond. The pace lives in Redis
// as scheduled tasks, so a replay of 100,000 events neither swamps the queue
// nor depends on the process that started it. A re-run after a crash skips
// what it already claimed.
type Replayer struct {
	Store  *store.Store
	Client *Client
	Log    zerolog.Logger
}

// ProcessTask implements asynq.Handler.
func (rp *Replayer) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p ReplayPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.PerSecond <= 0 {
		return permanent(fmt.Sprintf("replay task is not valid: %v", err))
	}
	log := rp.Log.With().Str("destination_id", p.DestinationID).Str("replay", p.Stamp).Logger()
	step := time.Duration(float64(time.Second) / p.PerSecond)
	// Labels for the operator's view of each task; ids alone if the
	// destination cannot be read now (the delivery reads it again anyway).
	dest, _ := rp.Store.GetDestination(ctx, "", p.DestinationID)
	dest.ID = p.DestinationID
	enqueued, skipped := 0, 0
	for cursor, n := "", 0; n < MaxReplay; {
		fs, next, err := rp.Store.FailedDeliveries(ctx, p.DestinationID, p.Since, min(1000, MaxReplay-n), cursor)
		if err != nil {
			return err
		}
		for _, f := range fs {
			n++
			claimed, err := rp.Store.ReplayFailed(ctx, f.EventID, p.DestinationID)
			if err != nil {
				return err
			}
			if !claimed {
				skipped++ // replayed meanwhile, or past its retention
				continue
			}
			del := DeliveryFor(f.EventID, "", dest)
			if err := rp.Client.EnqueueDeliveryIn(ctx, del, ReplayTaskID(f.EventID, p.DestinationID, p.Stamp), time.Duration(enqueued)*step); err != nil {
				// Put it back where this task's retry (or a new replay) finds it.
				_ = rp.Store.SetDeliveryStatus(ctx, f.EventID, p.DestinationID, store.StatusFailed)
				return err
			}
			enqueued++
		}
		if next == "" {
			break
		}
		cursor = next
	}
	log.Info().Int("enqueued", enqueued).Int("skipped", skipped).Msg("destination replay scheduled")
	return nil
}
