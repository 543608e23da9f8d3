package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const replayUsage = `usage:
  hookshift replay EVENT_ID [--destination D]
  hookshift replay --destination D --since RFC3339|DURATION
  hookshift replay --from-file FILE [--destination D] [--concurrency 4] [--progress]

Runs deliveries again through the destination's current script; the
idempotency key stays the same. --since takes a time (2025-01-02T15:04:05Z) or
a duration back from now (90m, 24h, 7d). --from-file reads one event id a line
("-" for stdin; blank lines and # comments skipped).
`

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("replay", replayUsage, stdout, stderr, &o, false)
	dest := fs.String("destination", "", "only this destination (with --since: the destination to replay)")
	since := fs.String("since", "", "with --destination: replay its events since this time or duration ago")
	fromFile := fs.String("from-file", "", `replay every event id in FILE, one a line ("-": stdin)`)
	conc := fs.Int("concurrency", 4, "with --from-file: requests in flight, 1 to 16")
	progress := fs.Bool("progress", false, "show a progress bar on stderr even when it is not a terminal (never with --json)")
	pos, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	modes := 0
	for _, set := range []bool{len(pos) > 0, *since != "", *fromFile != ""} {
		if set {
			modes++
		}
	}
	switch {
	case modes != 1:
		return fs.usageError("give one of EVENT_ID, --since or --from-file")
	case len(pos) > 1:
		return fs.usageError("replay takes one EVENT_ID (for many: --from-file)")
	case *since != "" && *dest == "":
		return fs.usageError("--since needs --destination")
	case *conc < 1 || *conc > 16:
		return fs.usageError("--concurrency must be from 1 to 16")
	}
	var sinceT time.Time
	if *since != "" {
		t, err := opsParseSince(*since, time.Now())
		if err != nil {
			return fs.usageError("%v", err)
		}
		sinceT = t
	}
	var ids []string
	if *fromFile != "" {
		var err error
		if ids, err = opsReadIDs(*fromFile); err != nil {
			return opsFail(stderr, err)
		}
		if len(ids) == 0 {
			return opsFail(stderr, fmt.Errorf("%s holds no event ids", *fromFile))
		}
	}
	c, code := o.client(fs)
	if c == nil {
		return code
	}

	switch {
	case *since != "":
		path := "/v1/destinations/" + url.PathEscape(*dest) + "/replay"
		b, _, err := c.do(ctx, http.MethodPost, path, nil, map[string]string{"since": sinceT.UTC().Format(time.RFC3339)}, true)
		if err != nil {
			return opsFail(stderr, err)
		}
		if o.jsonOut {
			opsWriteJSON(stdout, b)
			return 0
		}
		var out struct {
			Replayed int `json:"replayed"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return opsFail(stderr, fmt.Errorf("POST %s: %w", path, err))
		}
		fmt.Fprintf(stdout, "replaying %d events to %s received since %s\n", out.Replayed, *dest, opsTime(sinceT))
		return 0

	case *fromFile != "":
		bar := newProgress(stderr, len(ids), *progress, o.jsonOut)
		var mu sync.Mutex // orders the lines of stdout and stderr
		replayed, destinations := 0, 0
		failed := opsForEach(ctx, ids, *conc, func(ctx context.Context, id string) error {
			b, err := opsReplayOne(ctx, c, id, *dest)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bar.clear()
				fmt.Fprintf(stderr, "hookshift: %s: %v\n", id, err)
			} else {
				var out opsReplayAnswer
				json.Unmarshal(b, &out)
				replayed++
				destinations += len(out.DestinationIDs)
				if o.jsonOut {
					var buf bytes.Buffer
					if json.Compact(&buf, b) != nil {
						buf.Reset()
						buf.Write(b)
					}
					opsWriteJSON(stdout, buf.Bytes())
				}
			}
			bar.add(1)
			return err
		})
		bar.finish()
		if !o.jsonOut || failed > 0 {
			fmt.Fprintf(stderr, "replayed %d of %d events (%d deliveries queued)", replayed, len(ids), destinations)
			if failed > 0 {
				fmt.Fprintf(stderr, "; %d failed", failed)
			}
			if skipped := len(ids) - replayed - failed; skipped > 0 {
				fmt.Fprintf(stderr, "; %d not tried", skipped)
			}
			fmt.Fprintln(stderr)
		}
		if failed > 0 || replayed < len(ids) {
			return 1
		}
		return 0

	default:
		b, err := opsReplayOne(ctx, c, pos[0], *dest)
		if err != nil {
			return opsFail(stderr, err)
		}
		if o.jsonOut {
			opsWriteJSON(stdout, b)
			return 0
		}
		var out opsReplayAnswer
		if err := json.Unmarshal(b, &out); err != nil {
			return opsFail(stderr, fmt.Errorf("POST /v1/events/%s/replay: %w", pos[0], err))
		}
		if len(out.DestinationIDs) == 0 {
			fmt.Fprintf(stdout, "%s: no enabled destination matches; nothing replayed\n", out.EventID)
			return 0
		}
		fmt.Fprintf(stdout, "replaying %s to %s\n", out.EventID, strings.Join(out.DestinationIDs, ", "))
		return 0
	}
}

type opsReplayAnswer struct {
	EventID        string   `json:"event_id"`
	DestinationIDs []string `json:"destination_ids"`
}

func opsReplayOne(ctx context.Context, c *opsClient, id, dest string) ([]byte, error) {
	var body any
	if dest != "" {
		body = map[string]string{"destination_id": dest}
	}
	b, _, err := c.do(ctx, http.MethodPost, "/v1/events/"+url.PathEscape(id)+"/replay", nil, body, true)
	return b, err
}

// opsParseSince reads an RFC 3339 time, or a duration back from now (Go's, plus
// whole days: 7d).
func opsParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if t.After(now) {
			return time.Time{}, fmt.Errorf("--since %s is in the future", s)
		}
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 && n <= 3650 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time (2025-01-02T15:04:05Z) or a duration back from now (90m, 24h, 7d)", s)
}

// opsReadIDs reads one id a line: the first field, blank lines and # comments
// skipped, repeats dropped.
func opsReadIDs(name string) ([]string, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var ids []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") || seen[fields[0]] {
			continue
		}
		seen[fields[0]] = true
		ids = append(ids, fields[0])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ids, nil
}

// opsForEach runs fn over items with at most n in flight and returns how
// many failed. An authentication failure stops it feeding more (every further
// request would fail the same way); requests already in flight finish. Items
// never started count as neither done nor failed.
func opsForEach(ctx context.Context, items []string, n int, fn func(context.Context, string) error) (failed int) {
	feed, stop := context.WithCancel(ctx)
	defer stop()
	work := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(n, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				if err := fn(ctx, it); err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
					if opsAuthFailure(err) {
						stop()
					}
				}
			}
		}()
	}
loop:
	for _, it := range items {
		select {
		case <-feed.Done():
			break loop
		default:
		}
		select {
		case work <- it:
		case <-feed.Done():
			break loop
		}
	}
	close(work)
	wg.Wait()
	return failed
}
