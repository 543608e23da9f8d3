package redistest

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Slot agrees with Redis: the reference values of the cluster spec, and
// hash tags (first "{...}" that is not empty).
func TestSlot(t *testing.T) {
	for key, want := range map[string]int{
		"123456789":            12739, // CRC16 check value 0x31C3
		"foo":                  12182,
		"{user1000}.following": Slot("user1000"),
		"a{}{b}":               Slot("a{}{b}"), // empty tag: the whole key
		"x{b}y{c}":             Slot("b"),
	} {
		if got := Slot(key); got != want {
			t.Errorf("Slot(%q) = %d, want %d", key, got, want)
		}
	}
}

// The guard refuses a script, a MULTI and a multi-key command that span
// slots (what RecordEvent did before hash tags), and lets the same on one
// tag through.
func TestGuardSlotsRefusesCrossSlot(t *testing.T) {
	rdb := Start(t).Client()
	var reports []string
	GuardSlots(rdb, func(m string) { reports = append(reports, m) })
	ctx := context.Background()
	script := redis.NewScript(`for i = 1, #KEYS do redis.call('SET', KEYS[i], '1') end return 1`)

	if err := script.Run(ctx, rdb, []string{"p:{e:1}:event", "p:{e:1}:dedupe"}).Err(); err != nil {
		t.Fatalf("one-slot script refused: %v", err)
	}
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "p:{d:1}:dest", "x", 0)
		p.Del(ctx, "p:{d:1}:probe")
		return nil
	})
	if err != nil {
		t.Fatalf("one-slot MULTI refused: %v", err)
	}
	if len(reports) != 0 {
		t.Fatalf("reports for one-slot work: %v", reports)
	}

	for name, run := range map[string]func() error{
		"script": func() error {
			return script.Run(ctx, rdb, []string{"p:{e:1}:dedupe", "p:{t:1}:events"}).Err()
		},
		"multi": func() error {
			_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "p:{s:1}:source", "x", 0)
				p.SAdd(ctx, "p:{t:1}:sources", "1")
				return nil
			})
			return err
		},
		"del": func() error { return rdb.Del(ctx, "p:{d:1}:dest", "p:{s:1}:dests").Err() },
	} {
		reports = nil
		err := run()
		if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") || len(reports) != 1 {
			t.Errorf("%s across slots: err %v, reports %v; want refused and reported", name, err, reports)
		}
	}
	for _, k := range []string{"p:{s:1}:source", "p:{t:1}:events", "p:{t:1}:sources"} {
		if n, _ := rdb.Exists(ctx, k).Result(); n != 0 {
			t.Fatalf("a refused write reached Redis: %s exists", k)
		}
	}
}
