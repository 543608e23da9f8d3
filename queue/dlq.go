package queue

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/store"
)

// DeadLetter is one archived delivery task, as an operator sees it: what it
// was for and why it failed (the reason redacted), never a secret.
type DeadLetter struct {
	ID              string    `json:"id"` // the asynq task id; what POST /v1/dlq/replay takes
	Queue           string    `json:"queue"`
	EventID         string    `json:"event_id"`
	DestinationID   string    `json:"destination_id"`
	TenantID        string    `json:"tenant_id"`
	Integration     string    `json:"integration"`
	DestinationName string    `json:"destination_name,omitempty"`
	EventType       string    `json:"event_type,omitempty"`
	Reason          string    `json:"reason"`
	FailedAt        time.Time `json:"failed_at"`
	Retried         int       `json:"retried"`
}

// DeadLetters reads and re-runs archived deliveries through asynq's public
// Inspector, so operators need neither asynqmon's private routes nor a
// writable /monitoring/.
type DeadLetters struct {
	insp  *asynq.Inspector
	store *store.Store
}

// NewDeadLetters returns the dead-letter view of the delivery queues on rdb:
// every delivery shard Redis has, whatever the shard count (tasks archived
// under an earlier count stay visible). st fills in what an older task's
// payload lacks (tenant, integration).
func NewDeadLetters(rdb redis.UniversalClient, st *store.Store) *DeadLetters {
	return &DeadLetters{insp: asynq.NewInspectorFromRedisClient(rdb), store: st}
}

// queues are the delivery queues that exist in Redis, in name order.
func (d *DeadLetters) queues() ([]string, error) {
	have, err := d.insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	var out []string
	for _, q := range have {
		if isDeliveryQueue(q) {
			out = append(out, q)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ErrBadCursor is a dead-letter cursor this API did not issue.
var ErrBadCursor = errors.New("invalid cursor: pass the next_cursor of a previous page, or none for the first page")

// UnknownIDsError names the ids of a replay that are not dead letters.
type UnknownIDsError struct{ IDs []string }

func (e *UnknownIDsError) Error() string {
	shown, more := e.IDs, ""
	if len(shown) > 10 {
		shown, more = shown[:10], fmt.Sprintf(" and %d more", len(e.IDs)-10)
	}
	return "not dead-lettered deliveries (unknown, or already replayed): " + strings.Join(shown, ", ") + more
}

// dlqCursor is where the next page starts: in each queue, the archive's
// ascending index below which to read, and the last entry shown. asynq keeps
// the archive ordered oldest first and appends new dead letters at the end,
// so these indices do not move when deliveries die while an operator pages;
// entries re-run meanwhile can shift older ones down, which the anchor
// filters out (a page may then repeat nothing and skip nothing).
type dlqCursor struct {
	Below map[string]int `json:"b"`
	At    int64          `json:"t"`
	ID    string         `json:"id"`
}

func (c dlqCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (d *DeadLetters) decodeCursor(s string) (*dlqCursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var c dlqCursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return nil, ErrBadCursor
	}
	for q, n := range c.Below {
		if n < 0 || !isDeliveryQueue(q) {
			return nil, ErrBadCursor
		}
	}
	return &c, nil
}

// before orders dead letters newest first: by failure time, then by id, as
// asynq's archive orders them.
func before(a, b *asynq.TaskInfo) bool {
	if !a.LastFailedAt.Equal(b.LastFailedAt) {
		return a.LastFailedAt.After(b.LastFailedAt)
	}
	return a.ID > b.ID
}

type candidate struct {
	info  *asynq.TaskInfo
	index int // ascending position in its queue's archive
}

// List returns up to limit dead letters, newest first across the delivery
// queues, and the cursor of the next page ("" at the end).
func (d *DeadLetters) List(ctx context.Context, limit int, cursor string) ([]DeadLetter, string, error) {
	cur, err := d.decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	qs, err := d.queues()
	if err != nil {
		return nil, "", err
	}
	var all []candidate
	bounds := map[string]int{}
	for _, q := range qs {
		info, err := d.insp.GetQueueInfo(q)
		if err != nil {
			return nil, "", fmt.Errorf("queue %s: %w", q, err)
		}
		hi := info.Archived
		if cur != nil {
			if b, ok := cur.Below[q]; ok {
				hi = min(hi, b)
			} else {
				hi = 0 // a shard made after the first page: its entries are newer
			}
		}
		cs, err := d.readBelow(q, hi, limit, cur)
		if err != nil {
			return nil, "", err
		}
		bounds[q] = hi
		all = append(all, cs...)
	}
	sort.Slice(all, func(i, j int) bool { return before(all[i].info, all[j].info) })
	page := all[:min(limit, len(all))]
	for _, c := range page {
		bounds[c.info.Queue] = min(bounds[c.info.Queue], c.index)
	}
	out := make([]DeadLetter, 0, len(page))
	dests := map[string]store.Destination{}
	for _, c := range page {
		out = append(out, d.view(ctx, c.info, dests))
	}
	more := len(all) > len(page)
	for _, n := range bounds {
		more = more || n > 0
	}
	if !more || len(page) == 0 {
		return out, "", nil
	}
	last := page[len(page)-1].info
	return out, dlqCursor{Below: bounds, At: last.LastFailedAt.Unix(), ID: last.ID}.encode(), nil
}

// readBelow reads up to n archived tasks of queue q below ascending index hi,
// newest first, skipping any the cursor has already shown.
func (d *DeadLetters) readBelow(q string, hi, n int, cur *dlqCursor) ([]candidate, error) {
	var out []candidate
	for hi > 0 && len(out) < n {
		lo := max(0, hi-n)
		infos, err := d.readRange(q, lo, hi)
		if err != nil {
			return nil, err
		}
		for i := len(infos) - 1; i >= 0; i-- {
			t := infos[i]
			if cur != nil && !before(&asynq.TaskInfo{LastFailedAt: time.Unix(cur.At, 0), ID: cur.ID}, t) {
				continue // shown on an earlier page
			}
			out = append(out, candidate{info: t, index: lo + i})
		}
		if len(infos) < hi-lo {
			break // the archive shrank meanwhile
		}
		hi = lo
	}
	return out, nil
}

// readRange reads the archived tasks at ascending indices [lo, hi) through
// the Inspector's pages (one or two of them).
func (d *DeadLetters) readRange(q string, lo, hi int) ([]*asynq.TaskInfo, error) {
	size := hi - lo
	page := lo / size
	var infos []*asynq.TaskInfo
	for p := page; p*size < hi; p++ {
		ts, err := d.insp.ListArchivedTasks(q, asynq.PageSize(size), asynq.Page(p+1))
		if err != nil {
			return nil, fmt.Errorf("list dead letters of %s: %w", q, err)
		}
		infos = append(infos, ts...)
		if len(ts) < size {
			break
		}
	}
	start := lo - page*size
	if start >= len(infos) {
		return nil, nil
	}
	return infos[start:min(len(infos), hi-page*size)], nil
}

// view turns an archived task into what the operator sees. A payload from
// before the task carried tenant and integration is completed from the
// destination (looked up once per page).
func (d *DeadLetters) view(ctx context.Context, t *asynq.TaskInfo, dests map[string]store.Destination) DeadLetter {
	var p DeliveryPayload
	_ = json.Unmarshal(t.Payload, &p)
	dl := DeadLetter{ID: t.ID, Queue: t.Queue, EventID: p.EventID, DestinationID: p.DestinationID, TenantID: p.TenantID,
		Integration: p.Integration, DestinationName: p.DestinationName, EventType: p.EventType,
		Reason: RedactText(t.LastErr), FailedAt: t.LastFailedAt.UTC(), Retried: t.Retried}
	if (dl.TenantID == "" || dl.Integration == "") && dl.DestinationID != "" && d.store != nil {
		dest, ok := dests[dl.DestinationID]
		if !ok {
			dest, _ = d.store.GetDestination(ctx, "", dl.DestinationID) // deleted: left blank
			dests[dl.DestinationID] = dest
		}
		dl.TenantID, dl.Integration, dl.DestinationName = dest.TenantID, dest.Integration, dest.Name
	}
	return dl
}

// ReplayAll runs every dead letter of the delivery queues again and reports
// how many.
func (d *DeadLetters) ReplayAll(ctx context.Context) (int, error) {
	qs, err := d.queues()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, q := range qs {
		k, err := d.insp.RunAllArchivedTasks(q)
		n += k
		if err != nil {
			return n, fmt.Errorf("replay dead letters of %s: %w", q, err)
		}
	}
	return n, nil
}

// Replay runs the named dead letters again. Every id is checked first: if
// any is not a dead letter, nothing runs and an *UnknownIDsError names them.
func (d *DeadLetters) Replay(ctx context.Context, ids []string) (int, error) {
	where := make(map[string]string, len(ids))
	var unknown []string
	for _, id := range ids {
		if _, dup := where[id]; dup {
			continue
		}
		q, err := d.find(id)
		if err != nil {
			return 0, err
		}
		if q == "" {
			unknown = append(unknown, id)
			continue
		}
		where[id] = q
	}
	if len(unknown) > 0 {
		return 0, &UnknownIDsError{IDs: unknown}
	}
	n := 0
	for id, q := range where {
		if err := d.insp.RunTask(q, id); err != nil {
			if errors.Is(err, asynq.ErrTaskNotFound) {
				continue // replayed by someone else meanwhile
			}
			return n, fmt.Errorf("replay dead letter %s: %w", id, err)
		}
		n++
	}
	return n, nil
}

// find returns the delivery queue holding id as a dead letter, or "".
func (d *DeadLetters) find(id string) (string, error) {
	qs, err := d.queues()
	if err != nil {
		return "", err
	}
	for _, q := range qs {
		t, err := d.insp.GetTaskInfo(q, id)
		if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("look up dead letter %s: %w", id, err)
		}
		if t.State == asynq.TaskStateArchived {
			return q, nil
		}
	}
	return "", nil
}
