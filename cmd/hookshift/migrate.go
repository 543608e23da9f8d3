package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookshift/hookshift/internal/redisconn"
	"github.com/hookshift/hookshift/store"
)

const migrateUsage = `usage: hookshift migrate [--from URL] [--delete-old]

Copies hookshift's data from the key layout before Redis Cluster support
(layout 1) to the current one (hash-tagged keys), on the Redis named by
HOOKSHIFT_REDIS_URL. Every key keeps its value and time to live; a key
already copied is left as it is, so the command may run again at no harm.
serve does the same by itself at its first start on a Redis not yet
migrated; this command is for moving to another Redis (--from the old one,
e.g. to a new cluster) and for removing the old keys (--delete-old).
Stop the previous version's processes first: a change they make after a
key's copy is not carried over.
`

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newCmdFlags("migrate", migrateUsage, stdout, stderr)
	to := os.Getenv("HOOKSHIFT_REDIS_URL")
	from := f.String("from", "", "`URL` of the Redis holding layout 1 (default: HOOKSHIFT_REDIS_URL itself)")
	deleteOld := f.Bool("delete-old", false, "remove each layout-1 key once its copy is in place")
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return f.usageError("migrate takes no arguments (got %q)", pos)
	}
	if to == "" {
		return f.usageError("HOOKSHIFT_REDIS_URL is not set: it names the Redis to migrate")
	}
	dst, err := openRedis(to)
	if err != nil {
		fmt.Fprintf(stderr, "hookshift: HOOKSHIFT_REDIS_URL: %v\n", err)
		return 1
	}
	defer dst.Close()
	src := dst
	if *from != "" {
		if src, err = openRedis(*from); err != nil {
			fmt.Fprintf(stderr, "hookshift: --from: %v\n", err)
			return 1
		}
		defer src.Close()
	}
	rep, err := store.New(dst, nil, store.Options{}).MigrateLayout(ctx, src, *deleteOld)
	if err != nil {
		fmt.Fprintln(stderr, "hookshift:", err)
		return 1
	}
	fmt.Fprintf(stdout, "copied %d keys to the new layout, %d were already there, %d unchanged keys copied, %d old keys deleted\n",
		rep.Copied, rep.Present, rep.Unchanged, rep.Deleted)
	return 0
}

// openRedis opens a Redis of any topology HOOKSHIFT_REDIS_URL accepts
// (internal/redisconn), checking that it answers.
func openRedis(url string) (redis.UniversalClient, error) {
	target, err := redisconn.Parse(url)
	if err != nil {
		return nil, err
	}
	c := target.Client(redisconn.ServeOptions)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("cannot reach Redis at %s: %w", target, err)
	}
	return c, nil
}
