package redistest

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartReplica launches a private redis-server replicating primary
// (--replicaof) and waits until its link to the primary is up. It stops at
// cleanup; Stop and Restart take it away and bring it back, as a replica
// that dies and returns would.
func StartReplica(primary *Server, extra ...string) *Server {
	primary.t.Helper()
	host, port, _ := strings.Cut(primary.Addr, ":")
	r := Start(primary.t, append([]string{"--replicaof", host, port}, extra...)...)
	r.WaitLinkUp()
	return r
}

// WaitLinkUp waits until the server, a replica, has synchronised with its
// primary (INFO replication says master_link_status:up), or fails the test
// after 10 seconds.
func (s *Server) WaitLinkUp() {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		info, err := c.Info(context.Background(), "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("replica on %s did not link up with its primary within 10s", s.Addr)
}
