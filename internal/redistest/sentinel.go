package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelGroup is a private Sentinel deployment: a primary, its replicas
// (started with --replicaof) and three sentinels (redis-server CONF
// --sentinel) that notice a dead primary after one second and promote a
// replica. Every process is stopped at cleanup.
type SentinelGroup struct {
	t          testing.TB
	MasterName string
	Primary    *Server   // the primary at start; after a failover, one of the replicas is
	Replicas   []*Server // started with --replicaof Primary
	Sentinels  []*Server // three sentinels, quorum 2
}

// SentinelDownAfter is how long the sentinels wait before they call a
// silent primary down (down-after-milliseconds): low, so tests fail over fast.
const SentinelDownAfter = time.Second

// StartSentinelGroup starts a primary, the given number of replicas and
// three sentinels, and returns once every sentinel knows the replicas and
// the other sentinels, so a failover can be authorised at once. Extra
// arguments go to the primary and the replicas (e.g. "--appendonly", "yes").
func StartSentinelGroup(t testing.TB, replicas int, extra ...string) *SentinelGroup {
	t.Helper()
	g := &SentinelGroup{t: t, MasterName: "hookshift"}
	g.Primary = Start(t, extra...)
	host, port, _ := strings.Cut(g.Primary.Addr, ":")
	for range replicas {
		g.Replicas = append(g.Replicas, Start(t, append([]string{"--replicaof", host, port}, extra...)...))
	}
	for range 3 {
		g.Sentinels = append(g.Sentinels, g.startSentinel(host, port))
	}
	g.waitDiscovered(replicas, 20*time.Second)
	return g
}

// startSentinel writes a sentinel's configuration (which the sentinel
// rewrites as it learns the group) and starts it.
func (g *SentinelGroup) startSentinel(primaryHost, primaryPort string) *Server {
	t := g.t
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is required for this test (apt-get install redis-server): %v", err)
	}
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf(`port %[1]d
bind 127.0.0.1
dir %[2]s
logfile %[3]s
sentinel monitor %[4]s %[5]s %[6]s 2
sentinel down-after-milliseconds %[4]s %[7]d
sentinel failover-timeout %[4]s 4000
sentinel parallel-syncs %[4]s 1
`, port, dir, filepath.Join(dir, "sentinel.log"), g.MasterName, primaryHost, primaryPort, SentinelDownAfter.Milliseconds())
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatalf("write sentinel.conf: %v", err)
	}
	s := &Server{t: t, bin: bin, Addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir, args: []string{conf, "--sentinel"}}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// waitDiscovered waits until every sentinel sees the replicas and the other
// sentinels (they learn both from the primary, within a few seconds).
func (g *SentinelGroup) waitDiscovered(replicas int, within time.Duration) {
	g.t.Helper()
	deadline := time.Now().Add(within)
	for _, s := range g.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
		for {
			m, err := c.Master(context.Background(), g.MasterName).Result()
			if err == nil && atoi(m["num-slaves"]) >= replicas && atoi(m["num-other-sentinels"]) >= len(g.Sentinels)-1 {
				break
			}
			if time.Now().After(deadline) {
				_ = c.Close()
				g.t.Fatalf("sentinel %s did not discover the group within %v: %v %v", s.Addr, within, m, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = c.Close()
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// URL is the group's redis-sentinel:// URL (the sentinels and the master name).
func (g *SentinelGroup) URL() string {
	addrs := make([]string, len(g.Sentinels))
	for i, s := range g.Sentinels {
		addrs[i] = s.Addr
	}
	return "redis-sentinel://" + strings.Join(addrs, ",") + "/" + g.MasterName
}

// PrimaryAddr asks the sentinels where the primary is now.
func (g *SentinelGroup) PrimaryAddr(ctx context.Context) (string, error) {
	var last error
	for _, s := range g.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
		a, err := c.GetMasterAddrByName(ctx, g.MasterName).Result()
		_ = c.Close()
		if err == nil && len(a) == 2 {
			return a[0] + ":" + a[1], nil
		}
		last = err
	}
	return "", fmt.Errorf("no sentinel names the primary of %s: %w", g.MasterName, last)
}

// Server returns the group's data server (primary or replica) at addr.
func (g *SentinelGroup) Server(addr string) *Server {
	for _, s := range append([]*Server{g.Primary}, g.Replicas...) {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// WaitFailover waits until the sentinels name a primary other than old and
// that server answers as a master; it returns the new primary's address.
func (g *SentinelGroup) WaitFailover(old string, within time.Duration) string {
	g.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		a, err := g.PrimaryAddr(context.Background())
		if err == nil && a != old {
			c := redis.NewClient(&redis.Options{Addr: a})
			role, err := c.Do(context.Background(), "ROLE").Slice()
			_ = c.Close()
			if err == nil && len(role) > 0 && role[0] == "master" {
				return a
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	g.t.Fatalf("no failover away from %s within %v", old, within)
	return ""
}
