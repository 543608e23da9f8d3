package redisconn

import (
	"context"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/internal/redistest"
)

const secret = "s3cr%3Aet-pw" // percent-encoded ':' inside, decoded "s3cr:et-pw"

func TestParseAcceptsEachScheme(t *testing.T) {
	cases := []struct {
		url  string
		want Target
	}{
		{"redis://127.0.0.1:6379/0", Target{Kind: Single, Addrs: []string{"127.0.0.1:6379"}}},
		{"redis://u:" + secret + "@redis:6380/3", Target{Kind: Single, Addrs: []string{"redis:6380"}, Username: "u", Password: "s3cr:et-pw", DB: 3}},
		{"redis://localhost", Target{Kind: Single, Addrs: []string{"localhost:6379"}}},
		{"rediss://:pw@cache.example.com:6380", Target{Kind: Single, Addrs: []string{"cache.example.com:6380"}, Password: "pw"}},
		{"redis-sentinel://s1:26379,s2:26380,s3/mymaster", Target{Kind: Sentinel, Addrs: []string{"s1:26379", "s2:26380", "s3:26379"}, MasterName: "mymaster"}},
		{"redis-sentinel://app:" + secret + "@10.0.0.1:26379/my%2Dmaster?db=2", Target{Kind: Sentinel, Addrs: []string{"10.0.0.1:26379"}, MasterName: "my-master", Username: "app", Password: "s3cr:et-pw", DB: 2}},
		{"redis-sentinel://[::1]:26379,[::1]:26380/m", Target{Kind: Sentinel, Addrs: []string{"[::1]:26379", "[::1]:26380"}, MasterName: "m"}},
		{"redis-cluster://n1:7000,n2:7001,n3:7002", Target{Kind: Cluster, Addrs: []string{"n1:7000", "n2:7001", "n3:7002"}}},
		{"redis-cluster://:pw@n1:7000/", Target{Kind: Cluster, Addrs: []string{"n1:7000"}, Password: "pw"}},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			got, err := Parse(c.url)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got.single = nil
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Parse(%q)\n got %+v\nwant %+v", c.url, got, c.want)
			}
		})
	}
}

// Every malformed form is refused with a message naming what is wrong and
// what is expected, and the password never appears in it.
func TestParseRefusesMalformedURLsWithoutThePassword(t *testing.T) {
	cases := []struct{ url, want string }{
		{"127.0.0.1:6379", "no scheme"},
		{"http://u:" + secret + "@h:1", "unknown scheme"},
		{"redis-sentinel://u:" + secret + "@s1:26379,s2:26379", "no master name"},
		{"redis-sentinel://u:" + secret + "@s1:26379/", "no master name"},
		{"redis-sentinel://u:" + secret + "@s1:26379/m/x", "one path segment"},
		{"redis-sentinel://u:" + secret + "@s1:26379/m?db=x", "db must be one whole number"},
		{"redis-sentinel://u:" + secret + "@s1:26379/m?db=-1", "db must be one whole number"},
		{"redis-sentinel://u:" + secret + "@s1:26379/m?master=m", `unknown query parameter "master"`},
		{"redis-sentinel://u:" + secret + "@s1:port/m", `bad port "port"`},
		{"redis-sentinel://u:" + secret + "@s1:99999/m", `bad port "99999"`},
		{"redis-sentinel://u:" + secret + "@s1:26379,,s2/m", "empty address"},
		{"redis-sentinel://u:" + secret + "@/m", "no host"},
		{"redis-cluster://u:" + secret + "@n1:7000?db=1", "db is not allowed on a cluster"},
		{"redis-cluster://u:" + secret + "@n1:7000/1", "has no path"},
		{"redis-cluster://u:" + secret + "@n1:7000?timeout=1s", `unknown query parameter "timeout"`},
		{"redis-cluster://u:" + secret + "@n1:0", `bad port "0"`},
		{"redis://u:" + secret + "@h:notaport/0", `bad port "notaport"`},
		{"redis://u:" + secret + "@h:6379/x", "database number"},
		{"redis://u:" + secret + "@h:6379/0?nosuch=1", "unexpected option: nosuch"},
		{"redis://u:" + secret + "@h1:6379,h2:6379/0", "names one server"},
		{"redis://u:" + secret + "@", "no host"},
		{"redis://u:s3cr%zzet@h:6379", "password is not valid percent-encoding"},
		{"redis://u:s3cr et@h:6379", "not a valid URL"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			_, err := Parse(c.url)
			if err == nil {
				t.Fatalf("Parse(%q) accepted it", c.url)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Fatalf("error %q does not say %q", msg, c.want)
			}
			for _, leak := range []string{"s3cr", "et-pw", "zzet"} {
				if strings.Contains(msg, leak) {
					t.Fatalf("error %q repeats the password", msg)
				}
			}
			if !strings.HasPrefix(msg, "HOOKSHIFT_REDIS_URL: ") {
				t.Fatalf("error %q does not name the variable", msg)
			}
		})
	}
}

func TestStringHidesThePassword(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://u:" + secret + "@h:6379/2":               "redis://u:***@h:6379/2",
		"redis-sentinel://:" + secret + "@a:1,b:2/m?db=1": "redis-sentinel://:***@a:1,b:2/m?db=1",
		"redis-cluster://a:1,b:2":                         "redis-cluster://a:1,b:2",
	} {
		tg, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.String(); got != want {
			t.Errorf("String(%q) = %q, want %q", raw, got, want)
		}
	}
}

// The asynq option is the type asynq documents for each topology, and it
// carries what the URL said.
func TestConnOptIsAsynqsTypeForTheTopology(t *testing.T) {
	o := ServeOptions
	s, _ := Parse("redis://:pw@h:1/4")
	if got, ok := s.ConnOpt(o).(asynq.RedisClientOpt); !ok || got.Addr != "h:1" || got.DB != 4 || got.Password != "pw" || got.ReadTimeout != o.ReadTimeout {
		t.Fatalf("single: %#v", s.ConnOpt(o))
	}
	f, _ := Parse("redis-sentinel://:pw@a:1,b:2/m?db=1")
	if got, ok := f.ConnOpt(o).(asynq.RedisFailoverClientOpt); !ok || got.MasterName != "m" || len(got.SentinelAddrs) != 2 || got.DB != 1 || got.Password != "pw" {
		t.Fatalf("sentinel: %#v", f.ConnOpt(o))
	}
	c, _ := Parse("redis-cluster://:pw@a:1,b:2")
	if got, ok := c.ConnOpt(o).(asynq.RedisClusterClientOpt); !ok || len(got.Addrs) != 2 || got.Password != "pw" {
		t.Fatalf("cluster: %#v", c.ConnOpt(o))
	}
}

// roundTrip writes and reads a key through both the go-redis client and a
// client asynq builds from ConnOpt, so each really reaches the data server.
func roundTrip(t *testing.T, tg Target) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := tg.Client(ServeOptions)
	defer c.Close()
	if err := c.Set(ctx, "redisconn-test", "v", 0).Err(); err != nil {
		t.Fatalf("%s: SET through Client: %v", tg.Kind, err)
	}
	ac := tg.ConnOpt(ServeOptions).MakeRedisClient().(redis.UniversalClient)
	defer ac.Close()
	if v, err := ac.Get(ctx, "redisconn-test").Result(); err != nil || v != "v" {
		t.Fatalf("%s: GET through ConnOpt's client: %q %v", tg.Kind, v, err)
	}
}

func TestClientsReachARealServer(t *testing.T) {
	rs := redistest.Start(t)
	if err := rs.Client().ConfigSet(context.Background(), "requirepass", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	tg, err := Parse("redis://:pw@" + rs.Addr + "/5")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, tg)
	// The db in the URL is the db written to.
	c := redis.NewClient(&redis.Options{Addr: rs.Addr, Password: "pw", DB: 5})
	defer c.Close()
	if v, _ := c.Get(context.Background(), "redisconn-test").Result(); v != "v" {
		t.Fatalf("the key is not in db 5")
	}
}

func TestClientsReachTheSentinelsPrimary(t *testing.T) {
	g := redistest.StartSentinelGroup(t, 1)
	tg, err := Parse(g.URL() + "?db=2")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, tg)
	c := redis.NewClient(&redis.Options{Addr: g.Primary.Addr, DB: 2})
	defer c.Close()
	if v, _ := c.Get(context.Background(), "redisconn-test").Result(); v != "v" {
		t.Fatalf("the key is not on the primary's db 2")
	}
}

// A one-node cluster (every slot on one master) is enough to show that the
// URL builds cluster clients; the cluster tests cover several masters.
func TestClientsReachACluster(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli is needed to assign the slots")
	}
	rs := redistest.Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	if out, err := exec.Command("redis-cli", "-h", strings.Split(rs.Addr, ":")[0], "-p", strings.Split(rs.Addr, ":")[1],
		"CLUSTER", "ADDSLOTSRANGE", "0", "16383").CombinedOutput(); err != nil {
		t.Fatalf("assign slots: %v %s", err, out)
	}
	tg, err := Parse("redis-cluster://" + rs.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c := rs.Client()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ := c.ClusterInfo(context.Background()).Result()
		if strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ok: %s", info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, ok := tg.Client(ServeOptions).(*redis.ClusterClient); !ok {
		t.Fatalf("cluster URL did not build a cluster client")
	}
	roundTrip(t, tg)
}
