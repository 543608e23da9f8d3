package main

// Support for the topology tests (failover_test.go, chaos_test.go): a sink
// that counts what it receives per event, a tenant with a source and one
// destination, and a steady stream of signed events that records every
// answer.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/integrations/inbound"
	"github.com/hookshift/hookshift/internal/redisconn"
	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/store"
)

// countingSink is a destination that counts requests per event id (read
// from the Idempotency-Key). Seen as a set it is the idempotent sink; its
// request total is what a non-idempotent sink would have recorded.
type countingSink struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int
}

func newCountingSink(t *testing.T) *countingSink {
	s := &countingSink{counts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _, _ := strings.Cut(r.Header.Get("Idempotency-Key"), ":")
		s.mu.Lock()
		s.counts[id]++
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.Close)
	return s
}

// tally is the number of distinct events received and of repeated requests.
func (s *countingSink) tally() (distinct, repeats int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.counts {
		distinct++
		repeats += n - 1
	}
	return distinct, repeats
}

// missing lists the acknowledged events the sink has not received.
func (s *countingSink) missing(acked []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range acked {
		if s.counts[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// flowSource is a tenant's standard-webhooks source with one http
// destination at the sink.
type flowSource struct {
	id, secret string
}

func setupSource(t *testing.T, p *proc, sinkURL string) flowSource {
	t.Helper()
	tok := p.call(t, "POST", "/v1/tenants", testRoot, map[string]any{"name": "topology"})["token"].(string)
	src := p.call(t, "POST", "/v1/sources", tok, map[string]any{"name": "dodo", "kind": "standard-webhooks"})
	p.call(t, "POST", "/v1/destinations", tok, map[string]any{"source_id": src["id"], "name": "sink", "integration": "http", "url": sinkURL + "/hook"})
	return flowSource{id: src["id"].(string), secret: src["secret"].(string)}
}

// answer is what one signed post got.
type answer struct {
	msgID   string
	sent    time.Time
	took    time.Duration
	status  int    // 0: no HTTP answer (err says why)
	eventID string // from a 2xx
	code    string // the error code of a non-2xx
	err     error
}

// poster posts signed events to one of several receiver base URLs.
type poster struct {
	src    flowSource
	client *http.Client
	kind   inbound.Kind
}

// postTimeout bounds one request: the receiver answers within its own
// timeout (3 s), so a request that takes this long is a hang.
const postTimeout = 15 * time.Second

func newPoster(t *testing.T, src flowSource) *poster {
	k, ok := inbound.Lookup("standard-webhooks")
	if !ok {
		t.Fatal("standard-webhooks is not registered")
	}
	return &poster{src: src, kind: k, client: &http.Client{Timeout: postTimeout}}
}

func (p *poster) post(base, msgID string) answer {
	a := answer{msgID: msgID, sent: time.Now()}
	h, body, err := p.kind.Sign(nil, p.src.secret, msgID,
		[]byte(`{"type":"payment.succeeded","data":{"payment_id":"pay_`+msgID+`"}}`), time.Now())
	if err != nil {
		a.err = err
		return a
	}
	req, _ := http.NewRequest("POST", base+"/v1/webhooks/"+p.src.id, bytes.NewReader(body))
	req.Header = h
	resp, err := p.client.Do(req)
	a.took = time.Since(a.sent)
	if err != nil {
		a.err = err
		return a
	}
	defer resp.Body.Close()
	a.status = resp.StatusCode
	var out struct {
		EventID string `json:"event_id"`
		Error   struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	a.eventID, a.code = out.EventID, out.Error.Code
	return a
}

// stream posts new events from `workers` goroutines, each pausing `pace`
// between posts, until ctx ends; target picks the receiver for each post
// ("" skips the post: no receiver is up). It returns every answer.
type stream struct {
	mu      sync.Mutex
	answers []answer
	acked   atomic.Int64
	done    chan struct{}
}

func startStream(ctx context.Context, p *poster, prefix string, workers int, pace time.Duration, target func(n int) string) *stream {
	s := &stream{done: make(chan struct{})}
	var wg sync.WaitGroup
	var seq atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := int(seq.Add(1))
				base := target(n)
				if base == "" {
					time.Sleep(pace)
					continue
				}
				a := p.post(base, fmt.Sprintf("%s-%06d", prefix, n))
				s.mu.Lock()
				s.answers = append(s.answers, a)
				s.mu.Unlock()
				if a.status/100 == 2 {
					s.acked.Add(1)
				}
				time.Sleep(pace)
			}
		}()
	}
	go func() { wg.Wait(); close(s.done) }()
	return s
}

// snapshot copies the answers so far.
func (s *stream) snapshot() []answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]answer(nil), s.answers...)
}

// ackedIDs are the event ids of every 2xx answer.
func ackedIDs(as []answer) []string {
	var out []string
	for _, a := range as {
		if a.status/100 == 2 {
			out = append(out, a.eventID)
		}
	}
	return out
}

var debugQueues = false

// queueState reads, through the same URL hookshift uses, how many tasks
// are still queued (pending, active, scheduled, retry) and how many were
// archived as dead letters, over every hookshift queue.
func queueState(t *testing.T, redisURL string) (queued, archived int) {
	t.Helper()
	c := redisClient(t, redisURL)
	defer c.Close()
	insp := asynq.NewInspectorFromRedisClient(c)
	for _, q := range queue.Queues() {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			return -1, -1 // Redis not answering (yet): unknown
		}
		queued += info.Pending + info.Active + info.Scheduled + info.Retry + info.Aggregating
		if debugQueues && info.Size > 0 {
			t.Logf("debug %s: pending %d active %d scheduled %d retry %d", q, info.Pending, info.Active, info.Scheduled, info.Retry)
		}
		archived += info.Archived
	}
	return queued, archived
}

// waitDrained waits until the sink has every acknowledged event, or until
// nothing is queued any more for a few seconds (what is missing then is
// lost), or until the deadline. It returns the missing event ids.
func waitDrained(t *testing.T, sink *countingSink, redisURL string, acked []string, deadline time.Time) []string {
	t.Helper()
	idleSince := time.Time{}
	for {
		miss := sink.missing(acked)
		if len(miss) == 0 || time.Now().After(deadline) {
			return miss
		}
		if q, _ := queueState(t, redisURL); q == 0 {
			if idleSince.IsZero() {
				idleSince = time.Now()
			} else if time.Since(idleSince) > 5*time.Second {
				return miss
			}
		} else {
			idleSince = time.Time{}
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// explainMissing logs, for each event that was acknowledged and never
// delivered, where it stopped: its ingest task (and state), its dedupe
// marker, its record, its delivery records and their tasks.
func explainMissing(t *testing.T, redisURL string, ids []string) {
	t.Helper()
	c := redisClient(t, redisURL)
	defer c.Close()
	ctx := context.Background()
	st := store.New(c, nil, store.Options{})
	for _, id := range ids {
		ingest := c.HGet(ctx, "asynq:{ingest}:t:"+id, "state").Val()
		marker := c.Get(ctx, "hookshift:{e:"+id+"}:dedupe").Val()
		event := c.Exists(ctx, "hookshift:{e:"+id+"}:event").Val()
		dels, err := st.Deliveries(ctx, id)
		var tasks []string
		for _, d := range dels { // the chaos test runs one delivery shard
			q := queue.DeliveryQueueOf(d.DestinationID, 1)
			tasks = append(tasks, q+":"+c.HGet(ctx, "asynq:{"+q+"}:t:"+queue.DeliveryTaskID(id, d.DestinationID), "state").Val())
		}
		t.Logf("missing %s: ingest task %q, marker %q, event record %d, deliveries %+v (%v), delivery tasks %v", id, ingest, marker, event, dels, err, tasks)
	}
}

// redisClient is a client on redisURL as hookshift would open it (the
// caller closes it).
func redisClient(t *testing.T, redisURL string) redis.UniversalClient {
	t.Helper()
	tg, err := redisconn.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	return tg.Client(redisconn.ServeOptions)
}
