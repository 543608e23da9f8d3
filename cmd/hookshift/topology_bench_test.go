package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/internal/redistest"
)

// Ingest and end-to-end throughput on one Redis and on a Sentinel group
// (ACK_REPLICAS 0 and 1), measured in one run with `hookshift load` against
// the binary (all roles), every Redis with AOF on. Only with HOOKSHIFT_BENCH=1
// (docs/benchmarks.md, "Redis topologies"); it prints a Markdown table.
func TestTopologyThroughput(t *testing.T) {
	if os.Getenv("HOOKSHIFT_BENCH") != "1" {
		t.Skip("set HOOKSHIFT_BENCH=1 to measure (about a minute)")
	}
	aof := []string{"--appendonly", "yes", "--appendfsync", "everysec"}
	one := redistest.Start(t, aof...)
	group := redistest.StartSentinelGroup(t, 1, aof...)
	runs := []struct {
		name, url string
		extra     []string
	}{
		{"one Redis", one.URL(), nil},
		{"Sentinel, ACK_REPLICAS=0", group.URL(), []string{"--ack-replicas", "0"}},
		{"Sentinel, ACK_REPLICAS=1", group.URL(), []string{"--ack-replicas", "1"}},
	}
	requests := envIntDefault("HOOKSHIFT_BENCH_REQUESTS", 4000)
	var rows []string
	var base float64
	for _, r := range runs {
		p := startServe(t, r.url, r.extra...)
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		sinkAddr := l.Addr().String()
		l.Close()
		var out, errOut bytes.Buffer
		args := []string{"load", "--api", p.base, "--admin-token", testRoot, "--requests", fmt.Sprint(requests),
			"--warmup", "300", "--concurrency", "16", "--event", "../../testdata/dodo/payment.succeeded.usd.json", "--sink-addr", sinkAddr, "--redis-url", r.url, "--json"}
		if code := run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("%s: load exit %d: %s", r.name, code, errOut.String())
		}
		var rep loadReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%s: %v\n%s", r.name, err, out.String())
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
}
