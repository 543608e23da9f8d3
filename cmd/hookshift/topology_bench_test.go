package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hookshift/hookshift/internal/redistest"
	"github.com/hookshift/hookshift/queue"
	"github.com/redis/go-redis/v9"
)

// Ingest and end-to-end throughput on one Redis, on a Sentinel group
// (ACK_REPLICAS 0 and 1) and on a Redis Cluster of 1 and of 3 masters (each
// master with one replica, --delivery-shards 3), measured in one run with
// `hookshift load` against the binary (all roles), every Redis with AOF on.
// On the clusters it also prints the share of commands each master served
// during the run (INFO commandstats before/after). Only with HOOKSHIFT_BENCH=1
// (docs/benchmarks.md, "Redis topologies"); it prints Markdown tables.
func TestTopologyThroughput(t *testing.T) {
	if os.Getenv("HOOKSHIFT_BENCH") != "1" {
		t.Skip("set HOOKSHIFT_BENCH=1 to measure (about two minutes)")
	}
	aof := []string{"--appendonly", "yes", "--appendfsync", "everysec"}
	one := redistest.Start(t, aof...)
	group := redistest.StartSentinelGroup(t, 1, aof...)
	one1 := startOneMasterCluster(t)
	three := redistest.StartCluster(t)
	for _, n := range three.Nodes {
		appendOnly(t, n.Addr)
	}
	one1cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: one1.addrs})
	defer one1cc.Close()
	threecc := three.Client()
	shards := []string{"--delivery-shards", "3"}
	runs := []struct {
		name, url string
		masters   []string             // cluster masters, for the command shares
		cc        *redis.ClusterClient // the cluster, for which queue ran where
		extra     []string
		dests     int // >1: that many destinations, one per delivery shard
	}{
		{"one Redis", one.URL(), nil, nil, nil, 0},
		{"Sentinel, ACK_REPLICAS=0", group.URL(), nil, nil, []string{"--ack-replicas", "0"}, 0},
		{"Sentinel, ACK_REPLICAS=1", group.URL(), nil, nil, []string{"--ack-replicas", "1"}, 0},
		{"cluster 1 master, ACK_REPLICAS=0", one1.url, []string{one1.addrs[0]}, one1cc, append([]string{"--ack-replicas", "0"}, shards...), 0},
		{"cluster 3 masters, ACK_REPLICAS=0", three.URL(), three.Masters(), threecc, append([]string{"--ack-replicas", "0"}, shards...), 0},
		{"cluster 3 masters, ACK_REPLICAS=1", three.URL(), three.Masters(), threecc, append([]string{"--ack-replicas", "1"}, shards...), 0},
		{"cluster 3 masters, 3 destinations, ACK_REPLICAS=0", three.URL(), three.Masters(), threecc, append([]string{"--ack-replicas", "0"}, shards...), 3},
		{"cluster 1 master, 3 destinations, ACK_REPLICAS=0", one1.url, []string{one1.addrs[0]}, one1cc, append([]string{"--ack-replicas", "0"}, shards...), 3},
	}
	requests := envIntDefault("HOOKSHIFT_BENCH_REQUESTS", 4000)
	var rows, shareRows []string
	var base float64
	for _, r := range runs {
		p := startServe(t, r.url, r.extra...)
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		sinkAddr := l.Addr().String()
		l.Close()
		before, processed := commandCalls(t, r.masters), queueProcessed(t, r.cc)
		var out, errOut bytes.Buffer
		args := []string{"load", "--requests", fmt.Sprint(requests),
			"--warmup", "300", "--concurrency", "16", "--event", "../../testdata/dodo/payment.succeeded.usd.json", "--sink-addr", sinkAddr, "--redis-url", r.url, "--json"}
		if r.dests > 1 {
			ingest, secret := spreadDestinations(t, p, r.cc, "http://"+sinkAddr+"/")
			args = append(args, "--url", ingest, "--secret", secret)
		} else {
			args = append(args, "--api", p.base, "--admin-token", testRoot)
		}
		start := time.Now()
		if code := run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("%s: load exit %d: %s", r.name, code, errOut.String())
		}
		var rep loadReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%s: %v\n%s", r.name, err, out.String())
		}
		if len(r.masters) > 0 {
			elapsed := drainDeliveries(t, r.cc).Sub(start).Seconds()
			after := commandCalls(t, r.masters)
			var total int64
			served, top := make([]int64, len(after)), make([]string, len(after))
			for i := range after {
				served[i], top[i] = callsDelta(before[i], after[i])
				total += served[i]
			}
			ran := map[string][]string{} // master: the queues that processed tasks in this run
			deliveries := 0
			for q, n := range queueProcessed(t, r.cc) {
				if n -= processed[q]; n > 0 && q != queue.QueueIngest {
					deliveries += n
				}
				if n > 0 {
					m := slotMaster(t, r.cc, q)
					ran[m] = append(ran[m], fmt.Sprintf("%s %d", q, n))
				}
			}
			var shares []string
			for i, m := range r.masters {
				slices.Sort(ran[m])
				shares = append(shares, fmt.Sprintf("%s %.0f%% (tasks: %s; most called: %s)", m, 100*float64(served[i])/float64(max(total, 1)), strings.Join(ran[m], ", "), top[i]))
			}
			shareRows = append(shareRows, fmt.Sprintf("| %s | %d | %.0f | %d | %s |", r.name, deliveries, float64(deliveries)/elapsed, total, strings.Join(shares, ", ")))
		}
		rc, d := rep.Receiver, rep.Delivery
		if base == 0 {
			base = rc.AcceptedRPS
		}
		rows = append(rows, fmt.Sprintf("| %s | %.0f | %.2f | %.2f | %.2f | %.1f | %.1f | %.1f | %d/%d |", r.name,
			rc.AcceptedRPS, rc.AcceptedRPS/base, rc.Latency.P50, rc.Latency.P99, d.DeliveredPS, d.EndToEnd.P50, d.EndToEnd.P99, d.Delivered, d.Accepted))
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	t.Logf("\n| topology | ingest 2xx/s | ÷ one Redis | ingest p50 ms | ingest p99 ms | delivered/s | end-to-end p50 ms | end-to-end p99 ms | delivered/accepted |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n%s",
		strings.Join(rows, "\n"))
	t.Logf("\n| cluster run | deliveries (warm-up included) | deliveries/s, load start to drained | commands on the masters | share per master (queues that ran tasks) |\n| --- | --- | --- | --- | --- |\n%s", strings.Join(shareRows, "\n"))
}

// oneMasterCluster is a Redis Cluster of one master (every slot) and its
// replica, the 1-master point of the 1-to-3-masters comparison.
type oneMasterCluster struct {
	url   string
	addrs []string // the master, then the replica
}

// startOneMasterCluster starts two cluster-enabled redis-servers, gives
// the first every slot and makes the second its replica (redis-cli
// --cluster create wants three masters), and waits until both say
// cluster_state:ok and the replica is in sync.
func startOneMasterCluster(t *testing.T) oneMasterCluster {
	t.Helper()
	ctx := context.Background()
	var nodes []*redistest.Server
	var busPorts []string
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		bus := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		busPorts = append(busPorts, bus)
		nodes = append(nodes, redistest.Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", bus, "--cluster-node-timeout", "1000", "--repl-diskless-sync-delay", "0",
			"--appendonly", "yes", "--appendfsync", "everysec"))
	}
	m, r := nodes[0].Client(), nodes[1].Client()
	if err := m.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("cluster addslotsrange: %v", err)
	}
	id, err := m.ClusterMyID(ctx).Result()
	if err != nil {
		t.Fatalf("cluster myid: %v", err)
	}
	host, port, _ := net.SplitHostPort(nodes[0].Addr)
	if err := r.Do(ctx, "CLUSTER", "MEET", host, port, busPorts[0]).Err(); err != nil {
		t.Fatalf("cluster meet: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for replicating := false; ; {
		if time.Now().After(deadline) {
			t.Fatalf("1-master cluster not ok within 30s")
		}
		time.Sleep(100 * time.Millisecond)
		if !replicating { // once the replica knows the master
			replicating = r.ClusterReplicate(ctx, id).Err() == nil
			continue
		}
		mi, _ := m.ClusterInfo(ctx).Result()
		ri, _ := r.ClusterInfo(ctx).Result()
		repl, _ := r.Info(ctx, "replication").Result()
		if strings.Contains(mi, "cluster_state:ok") && strings.Contains(ri, "cluster_state:ok") && strings.Contains(repl, "master_link_status:up") {
			break
		}
	}
	return oneMasterCluster{url: "redis-cluster://" + nodes[0].Addr + "," + nodes[1].Addr, addrs: []string{nodes[0].Addr, nodes[1].Addr}}
}

// spreadDestinations creates a tenant and a standard-webhooks source on p
// and http destinations at sinkURL until there is one on each of the three
// delivery shards (a destination landing on a shard already taken is
// deleted); it returns the ingest URL and signing secret for `load`.
func spreadDestinations(t *testing.T, p *proc, cc *redis.ClusterClient, sinkURL string) (ingest, secret string) {
	t.Helper()
	tok := p.call(t, "POST", "/v1/tenants", testRoot, map[string]any{"name": "spread"})["token"].(string)
	src := p.call(t, "POST", "/v1/sources", tok, map[string]any{"name": "load", "kind": "standard-webhooks"})
	taken := map[string]bool{}
	for i := 0; len(taken) < 3; i++ {
		if i == 50 {
			t.Fatalf("50 destinations and still not one on each delivery shard: %v", taken)
		}
		id := p.call(t, "POST", "/v1/destinations", tok, map[string]any{"source_id": src["id"], "name": fmt.Sprint("sink-", i),
			"integration": "http", "url": sinkURL})["id"].(string)
		if q := queue.DeliveryQueueOf(id, 3); !taken[q] {
			taken[q] = true
		} else {
			p.call(t, "DELETE", "/v1/destinations/"+id, tok, nil)
		}
	}
	return p.base + src["ingest_path"].(string), src["secret"].(string)
}

// drainDeliveries waits until no delivery queue on cc holds a task to run
// (every copy to every destination was delivered) and returns when.
func drainDeliveries(t *testing.T, cc *redis.ClusterClient) time.Time {
	t.Helper()
	insp := asynq.NewInspectorFromRedisClient(cc)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		left := 0
		for _, q := range append(queue.DeliveryQueuesFor(3), queue.QueueIngest) {
			if qi, err := insp.GetQueueInfo(q); err == nil {
				left += qi.Pending + qi.Active + qi.Scheduled + qi.Retry
			}
		}
		if left == 0 {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tasks still queued after 2 minutes", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// queueProcessed is how many tasks each of hookshift's queues (3 delivery
// shards) has processed so far on the cluster cc; nil without a cluster.
func queueProcessed(t *testing.T, cc *redis.ClusterClient) map[string]int {
	t.Helper()
	if cc == nil {
		return nil
	}
	insp := asynq.NewInspectorFromRedisClient(cc)
	out := map[string]int{}
	for _, q := range queue.QueuesFor(3) {
		if qi, err := insp.GetQueueInfo(q); err == nil {
			out[q] = qi.ProcessedTotal
		}
	}
	return out
}

// slotMaster is the master serving queue q's keys (asynq hash-tags every
// key of a queue with its name).
func slotMaster(t *testing.T, cc *redis.ClusterClient, q string) string {
	t.Helper()
	ctx := context.Background()
	slot, err := cc.ClusterKeySlot(ctx, q).Result()
	if err != nil {
		t.Fatalf("cluster keyslot %s: %v", q, err)
	}
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatalf("cluster slots: %v", err)
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) && len(s.Nodes) > 0 {
			return s.Nodes[0].Addr
		}
	}
	t.Fatalf("no master serves slot %d", slot)
	return ""
}

// appendOnly turns AOF (everysec, the default) on in a running node, as the
// other topologies are started with it.
func appendOnly(t *testing.T, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	if err := c.ConfigSet(context.Background(), "appendonly", "yes").Err(); err != nil {
		t.Fatalf("config set appendonly on %s: %v", addr, err)
	}
}

// commandCalls is the number of commands each node has served so far, by
// command (calls= of INFO commandstats), in the order of addrs.
func commandCalls(t *testing.T, addrs []string) []map[string]int64 {
	t.Helper()
	out := make([]map[string]int64, len(addrs))
	for i, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		s, err := c.Info(context.Background(), "commandstats").Result()
		_ = c.Close()
		if err != nil {
			t.Fatalf("info commandstats on %s: %v", a, err)
		}
		out[i] = map[string]int64{}
		for _, line := range strings.Split(s, "\n") {
			name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
			if !ok || !strings.HasPrefix(line, "cmdstat_") {
				continue
			}
			n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
			out[i][name] = n
		}
	}
	return out
}

// callsDelta is the commands served between before and after, in all and
// the three most called with their counts.
func callsDelta(before, after map[string]int64) (total int64, top string) {
	type nc struct {
		name string
		n    int64
	}
	var all []nc
	for name, n := range after {
		if d := n - before[name]; d > 0 {
			all = append(all, nc{name, d})
			total += d
		}
	}
	slices.SortFunc(all, func(a, b nc) int { return int(b.n - a.n) })
	var parts []string
	for _, c := range all[:min(3, len(all))] {
		parts = append(parts, fmt.Sprintf("%s %d", c.name, c.n))
	}
	return total, strings.Join(parts, ", ")
}
