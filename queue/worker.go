package queue

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// WorkerOptions tune the asynq server; zero values mean defaults.
type WorkerOptions struct {
	Concurrency     int           // simultaneous tasks, default 20
	ShutdownTimeout time.Duration // how long in-flight work may drain on SIGTERM, default 25s
	// PollInterval is how often an idle worker looks for new tasks, and how
	// often scheduled and retry tasks are moved to pending; default 100ms,
	// which bounds the idle pick-up latency at the cost of a few cheap
	// Redis calls a second.
	PollInterval time.Duration
	Schedule     Schedule
	Log          zerolog.Logger
	// DeliveryShards is the number of delivery queues (default 1). Every
	// shard is served with the same weight, together with any other
	// delivery shard found in Redis at start (left by an earlier count).
	DeliveryShards int
}

// NewServer returns the asynq server running the fan-out and delivery
// handlers. Fresh events (ingest) are weighted above deliveries, so a backlog
// of retries cannot starve new payments: ingest gets 6 parts for every 4 of
// one delivery shard, whatever the number of shards.
func NewServer(rdb redis.UniversalClient, o WorkerOptions, fan *FanOut, del *Deliverer, rep *Replayer) (*asynq.Server, *asynq.ServeMux) {
	if o.Concurrency <= 0 {
		o.Concurrency = 20
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 25 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	log := o.Log
	notes := &archiveNotes{} // tells a permanent failure from exhausted retries in asynq's log
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              o.Concurrency,
		Queues:                   serverQueues(DeliveryQueuesIn(rdb, o.DeliveryShards)),
		RetryDelayFunc:           retryDelay(o.Schedule),
		IsFailure:                isFailure,
		ShutdownTimeout:          o.ShutdownTimeout,
		DelayedTaskCheckInterval: o.PollInterval,
		TaskCheckInterval:        o.PollInterval,
		Logger:                   truthfulLogger{asynqLogger{log}, notes},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			notes.notePermanent(id, err)
			log.Debug().Str("task_id", id).Str("task_type", t.Type()).Err(err).Msg("task not done")
		}),
	})
	mux := asynq.NewServeMux()
	mux.Handle(TypeIngest, fan)
	mux.Handle(TypeDelivery, del)
	mux.Handle(TypeReplay, rep)
	if del.Alerts != nil {
		mux.Handle(TypeAlertEmit, del.Alerts)
		mux.Handle(TypeAlertFlush, del.Alerts)
	}
	mux.HandleFunc(typeMarker, func(context.Context, *asynq.Task) error { return nil })
	return srv, mux
}

// serverQueues weighs the queues a worker serves: each delivery shard 4,
// ingest 6 per shard, replay (and its legacy name) 1 per shard.
func serverQueues(delivery []string) map[string]int {
	n := len(delivery)
	qs := map[string]int{QueueIngest: 6 * n, QueueReplay: n, queueFanoutLegacy: n}
	for _, q := range delivery {
		qs[q] = 4
	}
	return qs
}

// DeliveryQueuesIn are the delivery queues of shards shards and every other
// delivery queue Redis already has (a shard of an earlier count still to be
// drained, or dead letters to be seen). An unreachable Redis leaves the
// configured ones.
func DeliveryQueuesIn(rdb redis.UniversalClient, shards int) []string {
	qs := DeliveryQueuesFor(shards)
	have, err := asynq.NewInspectorFromRedisClient(rdb).Queues()
	if err != nil {
		return qs
	}
	for _, q := range have {
		if isDeliveryQueue(q) && !slices.Contains(qs, q) {
			qs = append(qs, q)
		}
	}
	return qs
}

// QueuesIn are ingest, replay and DeliveryQueuesIn: what the metrics report.
func QueuesIn(rdb redis.UniversalClient, shards int) []string {
	return append([]string{QueueIngest, QueueReplay}, DeliveryQueuesIn(rdb, shards)...)
}

// asynqLogger routes asynq's own logs to zerolog.
type asynqLogger struct{ l zerolog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug().Msg(sprint(args)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info().Msg(sprint(args)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn().Msg(sprint(args)) }
func (a asynqLogger) Error(args ...any) { a.l.Error().Msg(sprint(args)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Fatal().Msg(sprint(args)) }

func sprint(args []any) string { return fmt.Sprint(args...) }
