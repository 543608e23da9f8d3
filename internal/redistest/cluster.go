package redistest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a private Redis Cluster of three masters, each with one
// replica, on loopback ports; it is stopped at the test's end.
type Cluster struct {
	t     testing.TB
	Nodes []*Server
}

// StartCluster launches six cluster-enabled redis-servers and joins them
// with redis-cli --cluster create (three masters, one replica each), then
// waits until every node reports cluster_state:ok. A node timeout of one
// second makes a replica take over a killed master within a few seconds.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli is required for this test (apt-get install redis-tools): %v", err)
	}
	c := &Cluster{t: t}
	for range 6 {
		c.Nodes = append(c.Nodes, Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(freePort(t)), "--cluster-node-timeout", "1000",
			"--repl-diskless-sync-delay", "0")) // a replica in sync at once can take over at once
	}
	args := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		args = append(args, n.Addr)
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	cmd := exec.Command(cli, args...)
	cmd.Stderr = os.Stderr
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitOK()
	return c
}

// Addrs are the nodes' addresses (host:port), masters and replicas.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// URL is the redis-cluster:// URL of the cluster (API.md).
func (c *Cluster) URL() string { return "redis-cluster://" + strings.Join(c.Addrs(), ",") }

// Client returns a go-redis cluster client, closed at cleanup.
func (c *Cluster) Client() *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	c.t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// WaitOK waits until every running node says cluster_state:ok and agrees
// on three masters covering every slot (after a start or a failover), and
// every running replica's link to its master is up (a replica that never
// synced cannot take over).
func (c *Cluster) WaitOK() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c.ok() {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("redis cluster not ok within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) ok() bool {
	ctx := context.Background()
	for _, n := range c.Nodes {
		if n.cmd == nil {
			continue // stopped
		}
		cl := redis.NewClient(&redis.Options{Addr: n.Addr})
		info, err := cl.ClusterInfo(ctx).Result()
		repl, _ := cl.Info(ctx, "replication").Result()
		if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
			err = errors.New("replica not in sync")
		}
		masters := 0
		if err == nil {
			for _, line := range strings.Split(c.nodes(cl), "\n") {
				f := strings.Fields(line)
				if len(f) > 8 && strings.Contains(f[2], "master") && !strings.Contains(f[2], "fail") {
					masters++
				}
			}
		}
		_ = cl.Close()
		if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") || masters != 3 {
			return false
		}
	}
	return true
}

func (c *Cluster) nodes(cl *redis.Client) string {
	s, _ := cl.ClusterNodes(context.Background()).Result()
	return s
}

// Masters are the addresses of the running masters that serve slots.
func (c *Cluster) Masters() []string {
	ctx := context.Background()
	for _, n := range c.Nodes {
		if n.cmd == nil {
			continue
		}
		cl := redis.NewClient(&redis.Options{Addr: n.Addr})
		s, err := cl.ClusterNodes(ctx).Result()
		_ = cl.Close()
		if err != nil {
			continue
		}
		var out []string
		for _, line := range strings.Split(s, "\n") {
			f := strings.Fields(line)
			if len(f) > 8 && strings.Contains(f[2], "master") && !strings.Contains(f[2], "fail") {
				out = append(out, strings.SplitN(f[1], "@", 2)[0])
			}
		}
		slices.Sort(out)
		return out
	}
	return nil
}

// MasterOf is the address of the master serving key.
func (c *Cluster) MasterOf(key string) string {
	c.t.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer cc.Close()
	ctx := context.Background()
	slot, err := cc.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		c.t.Fatalf("cluster keyslot %s: %v", key, err)
	}
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		c.t.Fatalf("cluster slots: %v", err)
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) && len(s.Nodes) > 0 {
			return s.Nodes[0].Addr
		}
	}
	c.t.Fatalf("no master serves slot %d", slot)
	return ""
}

// Node is the node listening on addr.
func (c *Cluster) Node(addr string) *Server {
	for _, n := range c.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	c.t.Fatalf("no cluster node at %s", addr)
	return nil
}

// Kill SIGKILLs the node at addr; when it was a master, Kill returns once
// the other nodes have marked it failed and its replica serves its slots.
// It reports how long the take-over took.
func (c *Cluster) Kill(addr string) time.Duration {
	c.t.Helper()
	c.Node(addr).Stop()
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for slices.Contains(c.Masters(), addr) || !c.ok() {
		if time.Now().After(deadline) {
			c.t.Fatalf("no replica took over %s within 30s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}
