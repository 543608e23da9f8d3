// Package redisconn turns HOOKSHIFT_REDIS_URL into Redis clients: one parsed
// Target yields the go-redis client the process shares (store, queue,
// asynqmon) and the asynq RedisConnOpt for anything that lets asynq build its
// own. It knows three topologies: one server (redis://, rediss://), a Sentinel
// group (redis-sentinel://) and a Redis Cluster (redis-cluster://). Errors
// name the part of the URL that is wrong and never repeat the password.
package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Kind is the Redis topology a URL names.
type Kind int

const (
	// Single is one Redis server (redis:// or rediss://).
	Single Kind = iota
	// Sentinel is a primary and its replicas watched by Sentinel
	// (redis-sentinel://): the client asks the sentinels where the primary
	// is, and follows a failover by itself.
	Sentinel
	// Cluster is a Redis Cluster (redis-cluster://): the client learns the
	// slots from the seed nodes and follows MOVED and a failover by itself.
	Cluster
)

func (k Kind) String() string {
	switch k {
	case Sentinel:
		return "sentinel"
	case Cluster:
		return "cluster"
	}
	return "single"
}

// The schemes HOOKSHIFT_REDIS_URL accepts (docs: API.md, "Redis topologies").
const (
	schemeRedis    = "redis"
	schemeRediss   = "rediss"
	schemeSentinel = "redis-sentinel"
	schemeCluster  = "redis-cluster"
)

// Default ports when a sentinel or cluster address gives none.
const (
	defaultSentinelPort = "26379"
	defaultRedisPort    = "6379"
)

// Target is a parsed HOOKSHIFT_REDIS_URL.
type Target struct {
	Kind Kind
	// Addrs is the server (Single), the sentinels (Sentinel) or the seed
	// nodes (Cluster), each host:port.
	Addrs []string
	// MasterName is the primary's name in the sentinels' configuration.
	MasterName string
	Username   string
	Password   string
	DB         int
	// single holds go-redis's own parse of a redis:// or rediss:// URL, so
	// its query options (pool_size=, dial_timeout=, ...) keep working.
	single *redis.Options
}

// Options tune the clients a Target builds; a zero field keeps go-redis's
// (or asynq's) default.
type Options struct {
	DialTimeout, ReadTimeout, WriteTimeout, PoolTimeout time.Duration
	PoolSize                                            int
	// Dialer replaces the network dialer (the load tool keeps to loopback).
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
}

// ServeOptions are the timeouts hookshift serve uses: short, so that with no
// primary the receiver answers 503 within its own timeout instead of waiting
// on a socket, and a failover is noticed within a second or two.
var ServeOptions = Options{DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, PoolTimeout: 2 * time.Second}

// Usage is the accepted forms, for error messages and help texts.
const Usage = "redis://[user:password@]host:port[/db], rediss://..., " +
	"redis-sentinel://[user:password@]host:port[,host:port...]/MASTER_NAME[?db=N] or " +
	"redis-cluster://[user:password@]host:port[,host:port...]"

// Parse reads a Redis URL of one of the four schemes. The error names what
// is wrong and what is expected, never the password.
func Parse(raw string) (Target, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Target{}, fmt.Errorf("HOOKSHIFT_REDIS_URL: not a Redis URL (no scheme://); expected %s", Usage)
	}
	var t Target
	var err error
	switch strings.ToLower(scheme) {
	case schemeRedis, schemeRediss:
		t, err = parseSingle(raw, rest)
	case schemeSentinel:
		t, err = parseMulti(Sentinel, rest)
	case schemeCluster:
		t, err = parseMulti(Cluster, rest)
	default:
		return Target{}, fmt.Errorf("HOOKSHIFT_REDIS_URL: unknown scheme %q; expected redis, rediss, redis-sentinel or redis-cluster", scheme)
	}
	if err != nil {
		return Target{}, redact(err, rest)
	}
	return t, nil
}

// parseSingle checks the parts itself (url.Parse would quote the whole URL,
// password included, in its errors), then lets go-redis parse it.
func parseSingle(raw, rest string) (Target, error) {
	user, pass, hosts, _, err := splitURL(rest)
	if err != nil {
		return Target{}, err
	}
	if strings.Contains(hosts, ",") {
		return Target{}, errors.New("redis:// names one server; for several use redis-sentinel://HOSTS/MASTER_NAME or redis-cluster://HOSTS")
	}
	if hosts == "" {
		return Target{}, errors.New("no host; expected redis://host:port")
	}
	if _, err := hostPort(hosts, defaultRedisPort); err != nil {
		return Target{}, err
	}
	if _, err := url.Parse(raw); err != nil {
		return Target{}, errors.New("not a valid URL; percent-encode special characters in the user name and password")
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return Target{}, fmt.Errorf("%s; expected redis://[user:password@]host:port[/db]", strings.TrimPrefix(err.Error(), "redis: "))
	}
	return Target{Kind: Single, Addrs: []string{opt.Addr}, Username: user, Password: pass, DB: opt.DB, single: opt}, nil
}

// parseMulti reads the part after redis-sentinel:// or redis-cluster://.
func parseMulti(kind Kind, rest string) (Target, error) {
	user, pass, hosts, tail, err := splitURL(rest)
	if err != nil {
		return Target{}, err
	}
	t := Target{Kind: kind, Username: user, Password: pass}
	defPort := defaultRedisPort
	if kind == Sentinel {
		defPort = defaultSentinelPort
	}
	if hosts == "" {
		return Target{}, fmt.Errorf("no host; expected %s://host:port[,host:port...]", schemeOf(kind))
	}
	for _, h := range strings.Split(hosts, ",") {
		a, err := hostPort(h, defPort)
		if err != nil {
			return Target{}, err
		}
		t.Addrs = append(t.Addrs, a)
	}
	path, query, _ := strings.Cut(tail, "?")
	path = strings.TrimPrefix(path, "/")
	switch kind {
	case Sentinel:
		if path == "" {
			return Target{}, errors.New("no master name; expected redis-sentinel://host:port[,host:port...]/MASTER_NAME (the name in the sentinels' 'sentinel monitor' line)")
		}
		name, err := url.PathUnescape(path)
		if err != nil || strings.Contains(name, "/") {
			return Target{}, errors.New("the master name is not one path segment; expected .../MASTER_NAME[?db=N]")
		}
		t.MasterName = name
	case Cluster:
		if path != "" {
			return Target{}, errors.New("a cluster URL has no path (a cluster has only database 0); expected redis-cluster://host:port[,host:port...]")
		}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return Target{}, errors.New("the query is not valid; expected ?db=N")
	}
	for k, v := range q {
		switch {
		case k == "db" && kind == Cluster:
			return Target{}, errors.New("db is not allowed on a cluster (Redis Cluster has only database 0); remove ?db=")
		case k == "db":
			n, err := strconv.Atoi(v[len(v)-1])
			if err != nil || n < 0 || len(v) > 1 {
				return Target{}, fmt.Errorf("db must be one whole number, 0 or more (got %q)", strings.Join(v, ","))
			}
			t.DB = n
		default:
			return Target{}, fmt.Errorf("unknown query parameter %q; %s accepts %s", k, schemeOf(kind), map[Kind]string{Sentinel: "only db", Cluster: "none"}[kind])
		}
	}
	return t, nil
}

func schemeOf(k Kind) string {
	if k == Cluster {
		return schemeCluster
	}
	return schemeSentinel
}

// splitURL splits "[user[:password]@]hosts[/path][?query]" (after the
// scheme). The user information ends at the last @ before the first /.
func splitURL(rest string) (user, pass, hosts, tail string, err error) {
	auth := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		auth, tail = rest[:i], rest[i:]
	}
	hosts = auth
	if i := strings.LastIndex(auth, "@"); i >= 0 {
		info := auth[:i]
		hosts = auth[i+1:]
		u, p, hasPass := strings.Cut(info, ":")
		if user, err = url.PathUnescape(u); err != nil {
			return "", "", "", "", errors.New("the user name is not valid percent-encoding")
		}
		if hasPass {
			if pass, err = url.PathUnescape(p); err != nil {
				return "", "", "", "", errors.New("the password is not valid percent-encoding (percent-encode @, :, / and %)")
			}
		}
	}
	return user, pass, hosts, tail, nil
}

// hostPort checks one host[:port] and fills in the default port.
func hostPort(h, defPort string) (string, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", errors.New("an empty address in the host list; expected host:port[,host:port...]")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port at all ("redis" or "[::1]"): take the default.
		if strings.Contains(strings.Trim(h, "[]"), ":") && !strings.HasPrefix(h, "[") {
			return "", fmt.Errorf("address %q is not host:port (write an IPv6 address in brackets: [::1]:6379)", h)
		}
		host, port = strings.Trim(h, "[]"), defPort
	}
	if host == "" {
		return "", fmt.Errorf("address %q has no host; expected host:port", h)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("address %q has a bad port %q; expected a number from 1 to 65535", h, port)
	}
	return net.JoinHostPort(host, port), nil
}

// redact removes the password (and the user information) from an error
// text, whatever produced it.
func redact(err error, rest string) error {
	msg := err.Error()
	if i := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); i > 0 {
		info := rest[:i]
		if _, p, ok := strings.Cut(info, ":"); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "***")
			if dp, err := url.PathUnescape(p); err == nil && dp != "" {
				msg = strings.ReplaceAll(msg, dp, "***")
			}
		}
	}
	return errors.New("HOOKSHIFT_REDIS_URL: " + msg)
}

// String is the URL without its password, for logs and error texts.
func (t Target) String() string {
	var b strings.Builder
	switch t.Kind {
	case Sentinel:
		b.WriteString(schemeSentinel)
	case Cluster:
		b.WriteString(schemeCluster)
	default:
		if t.single != nil && t.single.TLSConfig != nil {
			b.WriteString(schemeRediss)
		} else {
			b.WriteString(schemeRedis)
		}
	}
	b.WriteString("://")
	if t.Username != "" || t.Password != "" {
		b.WriteString(url.PathEscape(t.Username))
		if t.Password != "" {
			b.WriteString(":***")
		}
		b.WriteString("@")
	}
	b.WriteString(strings.Join(t.Addrs, ","))
	switch {
	case t.Kind == Sentinel:
		b.WriteString("/" + url.PathEscape(t.MasterName))
		if t.DB != 0 {
			b.WriteString("?db=" + strconv.Itoa(t.DB))
		}
	case t.Kind == Single:
		b.WriteString("/" + strconv.Itoa(t.DB))
	}
	return b.String()
}

// Client builds the go-redis client for the topology: a plain client, a
// failover client that asks the sentinels for the primary (and re-asks after
// a failover), or a cluster client. The caller closes it.
func (t Target) Client(o Options) redis.UniversalClient {
	switch t.Kind {
	case Sentinel:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: t.MasterName, SentinelAddrs: t.Addrs, Username: t.Username, Password: t.Password, DB: t.DB,
			Dialer: o.Dialer, DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			PoolTimeout: o.PoolTimeout, PoolSize: o.PoolSize, ContextTimeoutEnabled: true,
		})
	case Cluster:
		cc := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: t.Addrs, Username: t.Username, Password: t.Password,
			Dialer: o.Dialer, DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			PoolTimeout: o.PoolTimeout, PoolSize: o.PoolSize, ContextTimeoutEnabled: true,
		})
		FollowFailover(cc) // failover.go
		return cc
	}
	opt := *t.single
	if o.Dialer != nil {
		opt.Dialer = o.Dialer
	}
	setDur(&opt.DialTimeout, o.DialTimeout)
	setDur(&opt.ReadTimeout, o.ReadTimeout)
	setDur(&opt.WriteTimeout, o.WriteTimeout)
	setDur(&opt.PoolTimeout, o.PoolTimeout)
	opt.PoolSize = max(opt.PoolSize, o.PoolSize)
	opt.ContextTimeoutEnabled = true
	return redis.NewClient(&opt)
}

// ConnOpt is the same connection for asynq: RedisClientOpt,
// RedisFailoverClientOpt or RedisClusterClientOpt. Each MakeRedisClient
// call opens a new pool; hookshift serve shares Client's instead.
func (t Target) ConnOpt(o Options) asynq.RedisConnOpt {
	switch t.Kind {
	case Sentinel:
		return asynq.RedisFailoverClientOpt{MasterName: t.MasterName, SentinelAddrs: t.Addrs, Username: t.Username,
			Password: t.Password, DB: t.DB, DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout,
			WriteTimeout: o.WriteTimeout, PoolSize: o.PoolSize}
	case Cluster:
		return asynq.RedisClusterClientOpt{Addrs: t.Addrs, Username: t.Username, Password: t.Password,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout}
	}
	return asynq.RedisClientOpt{Network: t.single.Network, Addr: t.single.Addr, Username: t.Username, Password: t.Password,
		DB: t.DB, DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
		PoolSize: max(t.single.PoolSize, o.PoolSize), TLSConfig: cloneTLS(t.single.TLSConfig)}
}

func setDur(dst *time.Duration, v time.Duration) {
	if v != 0 {
		*dst = v
	}
}

func cloneTLS(c *tls.Config) *tls.Config {
	if c == nil {
		return nil
	}
	return c.Clone()
}
