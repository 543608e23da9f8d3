package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const dlqUsage = `usage:
  hookshift dlq list [--queue delivery] [--page 1] [--size 100]
  hookshift dlq replay [--queue delivery] (--all | TASK_ID...) [--progress]

Archived (dead-letter) tasks, through asynqmon's API at /monitoring. Needs the
operator's root token.

` + opsCommonFlags

func cmdDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, dlqUsage)
		return 2
	}
	switch args[0] {
	case "list":
		return cmdDLQList(ctx, args[1:], stdout, stderr)
	case "replay", "run":
		return cmdDLQReplay(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, dlqUsage)
		return 0
	default:
		return opsUsageError(stderr, dlqUsage, "unknown dlq command %q", args[0])
	}
}

// opsMonitoringQueue is asynqmon's API path of a queue (see asynqmon's
// handler.go, muxRouter; the UI is mounted at /monitoring by serve).
func opsMonitoringQueue(q string) string { return "/monitoring/api/queues/" + url.PathEscape(q) }

// opsNoQueue recognises asynq's answer for a queue it has never seen (a plain
// 500 through asynqmon): for a dead-letter list that is an empty one.
func opsNoQueue(err error) bool {
	var ae *opsAPIError
	return errors.As(err, &ae) && ae.Status == http.StatusInternalServerError &&
		(strings.Contains(ae.Message, "queue not found") || strings.Contains(ae.Message, "does not exist"))
}

type opsArchivedTask struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Queue        string    `json:"queue"`
	Retried      int       `json:"retried"`
	LastError    string    `json:"error_message"`
	LastFailedAt time.Time `json:"last_failed_at"`
}

func cmdDLQList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("dlq list", dlqUsage, stderr, &o, true)
	queue := fs.String("queue", "delivery", "the asynq queue")
	page := fs.Int("page", 1, "page number")
	size := fs.Int("size", 100, "tasks per page")
	pos, code, ok := opsParse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return opsUsageError(stderr, dlqUsage, "dlq list takes no arguments (got %q)", pos)
	}
	if *queue == "" || *page < 1 || *size < 1 || *size > 1000 {
		return opsUsageError(stderr, dlqUsage, "--queue is required; --page from 1; --size from 1 to 1000")
	}
	c, code := o.client(stderr, dlqUsage)
	if c == nil {
		return code
	}
	q := url.Values{"page": {strconv.Itoa(*page)}, "size": {strconv.Itoa(*size)}}
	b, _, err := c.do(ctx, http.MethodGet, opsMonitoringQueue(*queue)+"/archived_tasks", q, nil, true)
	if opsNoQueue(err) && !o.jsonOut {
		fmt.Fprintf(stdout, "no archived tasks in %s (asynq has no such queue yet: no task was ever enqueued to it)\n", *queue)
		return 0
	}
	if err != nil {
		return opsFail(stderr, err)
	}
	if o.jsonOut {
		opsWriteJSON(stdout, b)
		return 0
	}
	var out struct {
		Tasks []opsArchivedTask `json:"tasks"`
		Stats struct {
			Archived int `json:"archived"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return opsFail(stderr, fmt.Errorf("archived tasks: %w", err))
	}
	if len(out.Tasks) == 0 {
		fmt.Fprintf(stdout, "no archived tasks in %s", *queue)
		if *page > 1 {
			fmt.Fprintf(stdout, " on page %d", *page)
		}
		fmt.Fprintln(stdout)
		return 0
	}
	tw := opsTable(stdout)
	fmt.Fprintln(tw, "TASK ID\tTYPE\tLAST FAILED\tERROR")
	for _, t := range out.Tasks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Type, opsTime(t.LastFailedAt), opsDash(opsOneLine(t.LastError, 100)))
	}
	tw.Flush()
	if shown := (*page-1)**size + len(out.Tasks); shown < out.Stats.Archived {
		fmt.Fprintf(stderr, "%d of %d archived tasks shown; more: --page %d\n", shown, out.Stats.Archived, *page+1)
	}
	return 0
}

func cmdDLQReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("dlq replay", dlqUsage, stderr, &o, true)
	queue := fs.String("queue", "delivery", "the asynq queue")
	all := fs.Bool("all", false, "run every archived task of the queue again")
	progress := fs.Bool("progress", false, "show a progress bar on stderr even when it is not a terminal")
	ids, code, ok := opsParse(fs, args)
	if !ok {
		return code
	}
	if *all == (len(ids) > 0) {
		return opsUsageError(stderr, dlqUsage, "dlq replay takes --all or TASK_IDs, not both")
	}
	if *queue == "" {
		return opsUsageError(stderr, dlqUsage, "--queue is required")
	}
	c, code := o.client(stderr, dlqUsage)
	if c == nil {
		return code
	}
	base := opsMonitoringQueue(*queue) + "/archived_tasks"
	if *all {
		b, _, err := c.do(ctx, http.MethodPost, base+":run_all", nil, nil, true)
		if opsNoQueue(err) && !o.jsonOut {
			fmt.Fprintf(stdout, "0 archived tasks in %s queued to run again (asynq has no such queue yet)\n", *queue)
			return 0
		}
		if err != nil {
			return opsFail(stderr, err)
		}
		if o.jsonOut {
			opsWriteJSON(stdout, b)
			return 0
		}
		var out struct {
			Scheduled int `json:"scheduled"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return opsFail(stderr, fmt.Errorf("run all archived tasks: %w", err))
		}
		fmt.Fprintf(stdout, "%d archived tasks in %s queued to run again\n", out.Scheduled, *queue)
		return 0
	}

	var bar *progressBar
	if len(ids) > 1 && (*progress || opsIsTerminal(stderr)) {
		bar = newProgressBar(stderr, len(ids))
	}
	var mu sync.Mutex
	var done []string
	failed := opsForEach(ctx, ids, 4, func(ctx context.Context, id string) error {
		// asynqmon answers 204; a 200 here is its UI page for a path it
		// does not route, which ran nothing.
		_, status, err := c.do(ctx, http.MethodPost, base+"/"+url.PathEscape(id)+":run", nil, nil, false)
		if err == nil && status != http.StatusNoContent {
			err = fmt.Errorf("unexpected %d from the monitoring API; task not run", status)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			bar.clear()
			fmt.Fprintf(stderr, "hookshift: %s: %v\n", id, err)
		} else {
			done = append(done, id)
		}
		bar.add(1)
		return err
	})
	bar.finish()
	if o.jsonOut {
		if done == nil {
			done = []string{}
		}
		b, _ := json.Marshal(map[string]any{"queue": *queue, "run": done})
		opsWriteJSON(stdout, b)
	} else {
		fmt.Fprintf(stdout, "%d of %d archived tasks in %s queued to run again\n", len(done), len(ids), *queue)
	}
	if failed > 0 || len(done) < len(ids) {
		return 1
	}
	return 0
}
