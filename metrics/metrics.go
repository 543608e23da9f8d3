// Package metrics defines hookshift's Prometheus metrics. Label values are
// bounded sets (source kind, outcome, integration, queue, state): never an
// event id, a tenant or a URL, so cardinality stays fixed. A nil *Metrics
// records nothing, which keeps tests and tools free of wiring.
package metrics

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector hookshift records into.
type Metrics struct {
	received       *prometheus.CounterVec
	receiveLatency *prometheus.HistogramVec
	deliveries     *prometheus.CounterVec
	transform      prometheus.Histogram
	destination    *prometheus.HistogramVec
	eventAge       *prometheus.HistogramVec
}

// New registers hookshift's metrics, the Go runtime's and the process's on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookshift_webhooks_received_total",
			Help: "Inbound webhooks by source kind and outcome (accepted, duplicate, or the rejection reason).",
		}, []string{"kind", "outcome"}),
		receiveLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookshift_receive_duration_seconds",
			Help:    "Time from request to answer at the webhook receiver.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 3},
		}, []string{"kind"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookshift_delivery_attempts_total",
			Help: "Delivery attempts by integration and outcome (delivered, cancelled, retry, permanent).",
		}, []string{"integration", "outcome"}),
		transform: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookshift_transform_duration_seconds",
			Help:    "Wall time of one merchant transform run.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .005, .025, .1, .5, 1},
		}),
		destination: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookshift_destination_response_seconds",
			Help:    "Time for a destination to answer a delivery request.",
			Buckets: prometheus.DefBuckets,
		}, []string{"integration"}),
		eventAge: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookshift_event_age_at_delivery_seconds",
			Help:    "Time from receipt to a successful delivery (queueing, retries and sending).",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 5, 30, 300, 1800, 7200, 36000, 86400},
		}, []string{"integration"}),
	}
	reg.MustRegister(m.received, m.receiveLatency, m.deliveries, m.transform, m.destination, m.eventAge,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Received counts one answered webhook.
func (m *Metrics) Received(kind, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	if kind == "" {
		kind = "unknown"
	}
	m.received.WithLabelValues(kind, outcome).Inc()
	m.receiveLatency.WithLabelValues(kind).Observe(took.Seconds())
}

// Transformed records one transform run.
func (m *Metrics) Transformed(took time.Duration) {
	if m == nil {
		return
	}
	m.transform.Observe(took.Seconds())
}

// Delivered records one delivery attempt. responded is how long the
// destination took (0 if no request was sent); age is the event's age when
// it was delivered (0 unless delivered).
func (m *Metrics) Delivered(integration, outcome string, responded, age time.Duration) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(integration, outcome).Inc()
	if responded > 0 {
		m.destination.WithLabelValues(integration).Observe(responded.Seconds())
	}
	if age > 0 {
		m.eventAge.WithLabelValues(integration).Observe(age.Seconds())
	}
}

// QueueCollector exports asynq queue sizes by state, and whether Redis
// answers, read on each scrape. While Redis is down it reports
// hookshift_redis_up 0 and no queue sample at all: a zero would read as
// "no dead letters" and clear the very alerts that should hold.
type QueueCollector struct {
	Inspector *asynq.Inspector
	Queues    []string
	Ping      func(context.Context) error // whether Redis answers; nil skips hookshift_redis_up
}

var (
	queueSize = prometheus.NewDesc("hookshift_queue_tasks", "Tasks in an asynq queue by state.", []string{"queue", "state"}, nil)
	redisUp   = prometheus.NewDesc("hookshift_redis_up", "1 if Redis answered a ping at this scrape, else 0.", nil, nil)
)

// scrapeTimeout bounds the Redis reads of one scrape.
const scrapeTimeout = 2 * time.Second

// Describe implements prometheus.Collector.
func (c QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueSize
	if c.Ping != nil {
		ch <- redisUp
	}
}

// Collect implements prometheus.Collector. A queue that does not exist yet
// reports zeros; a queue that cannot be read reports nothing.
func (c QueueCollector) Collect(ch chan<- prometheus.Metric) {
	if c.Ping != nil {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		err := c.Ping(ctx)
		cancel()
		up := 1.0
		if err != nil {
			up = 0
		}
		ch <- prometheus.MustNewConstMetric(redisUp, prometheus.GaugeValue, up)
		if err != nil {
			return
		}
	}
	existing, err := c.Inspector.Queues()
	if err != nil {
		return
	}
	for _, q := range c.Queues {
		var pending, active, scheduled, retry, archived int
		if slices.Contains(existing, q) {
			info, err := c.Inspector.GetQueueInfo(q)
			if err != nil {
				continue
			}
			pending, active, scheduled, retry, archived = info.Pending, info.Active, info.Scheduled, info.Retry, info.Archived
		}
		for state, n := range map[string]int{"pending": pending, "active": active, "scheduled": scheduled, "retry": retry, "archived": archived} {
			ch <- prometheus.MustNewConstMetric(queueSize, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}

// DestinationCollector exports how many destinations are disabled and how
// many have an open circuit, by integration (a bounded set: the catalog's).
// Counting reads every destination, so a count is reused for MaxAge; when it
// cannot be read, nothing is reported rather than a misleading zero.
type DestinationCollector struct {
	// Census counts destinations by integration: disabled, and with an open circuit.
	Census       func(context.Context) (disabled, circuitOpen map[string]int, err error)
	Integrations []string      // every integration, so a zero is reported for each
	MaxAge       time.Duration // how long a count is reused, default 30s
	Now          func() time.Time

	mu       sync.Mutex
	at       time.Time
	disabled map[string]int
	open     map[string]int
}

var (
	destDisabled = prometheus.NewDesc("hookshift_destinations_disabled", "Destinations disabled (410 Gone, or failing for days), by integration.", []string{"integration"}, nil)
	destOpen     = prometheus.NewDesc("hookshift_destinations_circuit_open", "Enabled destinations whose circuit is open (deliveries wait), by integration.", []string{"integration"}, nil)
)

// Describe implements prometheus.Collector.
func (c *DestinationCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- destDisabled
	ch <- destOpen
}

// Collect implements prometheus.Collector.
func (c *DestinationCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	maxAge := c.MaxAge
	if maxAge <= 0 {
		maxAge = 30 * time.Second
	}
	if c.disabled == nil || now().Sub(c.at) >= maxAge {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		disabled, open, err := c.Census(ctx)
		cancel()
		if err != nil {
			c.disabled, c.open = nil, nil
			return
		}
		c.disabled, c.open, c.at = disabled, open, now()
	}
	for _, m := range []struct {
		desc *prometheus.Desc
		n    map[string]int
	}{{destDisabled, c.disabled}, {destOpen, c.open}} {
		seen := map[string]bool{}
		for _, integ := range c.Integrations {
			seen[integ] = true
			ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, float64(m.n[integ]), integ)
		}
		for integ, n := range m.n {
			if !seen[integ] {
				ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, float64(n), integ)
			}
		}
	}
}
