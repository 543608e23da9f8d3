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
// nor depends on the process that started it. Its task run again after a
// crash finds its own claims still pending and enqueues them under the same
// TaskIDs, so what was enqueued is not enqueued twice and what was claimed
// is not left pending with no task; a delivery it already ran that failed
// again (its task a dead letter now) is left failed.
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
		fs, next, err := rp.Store.FailedDeliveries(ctx, p.DestinationID, p.Since, min(1000, MaxReplay-n), cursor, p.Stamp)
		if err != nil {
			return err
		}
		for _, f := range fs {
			n++
			claimed, err := rp.Store.ReplayFailed(ctx, f.EventID, p.DestinationID, p.Stamp)
			if err != nil {
				return err
			}
			if !claimed {
				skipped++ // replayed meanwhile, or past its retention
				continue
			}
			del := DeliveryFor(f.EventID, "", dest)
			ran, err := rp.Client.enqueueDeliveryIn(ctx, del, ReplayTaskID(f.EventID, p.DestinationID, p.Stamp), time.Duration(enqueued)*step)
			if err != nil {
				// Put it back where a new replay finds it; this task's retry
				// finds its claim either way.
				_ = rp.Store.SetDeliveryStatus(ctx, f.EventID, p.DestinationID, store.StatusFailed)
				return err
			}
			if ran {
				// This replay sent it already and it failed for good again.
				if err := rp.Store.SetDeliveryStatus(ctx, f.EventID, p.DestinationID, store.StatusFailed); err != nil {
					return err
				}
				skipped++
				continue
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
