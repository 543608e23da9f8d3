package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const dlqUsage = `usage:
  hookshift dlq list [--limit N] [--cursor C] [--all]
  hookshift dlq replay (--all | DEAD_LETTER_ID...)

Dead-lettered deliveries (failed for good), newest first, through the admin
API's /v1/dlq; works while /monitoring/ is read-only. replay runs them again
(the ids are the first column of list). Needs the operator's root token.
`

func cmdDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	sub := func(f func(context.Context, []string, io.Writer, io.Writer) int) func([]string) int {
		return func(a []string) int { return f(ctx, a, stdout, stderr) }
	}
	return runGroup("dlq", dlqUsage+"\n"+opsCommonFlags, map[string]func([]string) int{
		"list":   sub(cmdDLQList),
		"replay": sub(cmdDLQReplay),
		"run":    sub(cmdDLQReplay),
	}, args, stdout, stderr)
}

// opsDeadLetter is one item of GET /v1/dlq.
type opsDeadLetter struct {
	ID            string    `json:"id"`
	EventID       string    `json:"event_id"`
	DestinationID string    `json:"destination_id"`
	TenantID      string    `json:"tenant_id"`
	Integration   string    `json:"integration"`
	Reason        string    `json:"reason"`
	FailedAt      time.Time `json:"failed_at"`
}

func cmdDLQList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("dlq list", dlqUsage, stdout, stderr, &o, true)
	limit := fs.Int("limit", 0, "dead letters per page, 1 to 500 (default: the server's)")
	cursor := fs.String("cursor", "", "start at this page (next_cursor of the previous one)")
	all := fs.Bool("all", false, "follow next_cursor through every page")
	pos, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError("dlq list takes no arguments (got %q)", pos)
	}
	if *limit < 0 || *limit > 500 {
		return fs.usageError("--limit must be from 1 to 500")
	}
	c, code := o.client(fs)
	if c == nil {
		return code
	}
	q := url.Values{}
	if *limit > 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	if *cursor != "" {
		q.Set("cursor", *cursor)
	}
	page, raw, err := c.list(ctx, "/v1/dlq", q, *all)
	if err != nil {
		return opsFail(stderr, err)
	}
	if o.jsonOut {
		opsWriteList(stdout, page, raw)
		return 0
	}
	if len(page.Data) == 0 {
		fmt.Fprintln(stdout, "no dead letters")
		return 0
	}
	tw := opsTable(stdout)
	fmt.Fprintln(tw, "ID\tEVENT\tDESTINATION\tTENANT\tINTEGRATION\tFAILED\tREASON")
	for _, b := range page.Data {
		var d opsDeadLetter
		if err := json.Unmarshal(b, &d); err != nil {
			return opsFail(stderr, fmt.Errorf("GET /v1/dlq: %w", err))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", opsCell(d.ID), opsCell(d.EventID), opsCell(d.DestinationID),
			opsCell(d.TenantID), opsCell(d.Integration), opsTime(d.FailedAt), opsCell(d.Reason))
	}
	tw.Flush()
	if page.NextCursor != "" {
		fmt.Fprintf(stderr, "more: --cursor %s (or --all)\n", page.NextCursor)
	}
	return 0
}

func cmdDLQReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("dlq replay", dlqUsage, stdout, stderr, &o, true)
	all := fs.Bool("all", false, "run every dead letter again")
	ids, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	if *all == (len(ids) > 0) {
		return fs.usageError("dlq replay takes --all or DEAD_LETTER_IDs, not both")
	}
	c, code := o.client(fs)
	if c == nil {
		return code
	}
	var body any = map[string]bool{"all": true}
	if !*all {
		body = map[string][]string{"ids": ids}
	}
	b, _, err := c.do(ctx, http.MethodPost, "/v1/dlq/replay", nil, body, true)
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
		return opsFail(stderr, fmt.Errorf("POST /v1/dlq/replay: %w", err))
	}
	if *all {
		fmt.Fprintf(stdout, "%d dead letters queued to run again\n", out.Replayed)
		return 0
	}
	fmt.Fprintf(stdout, "%d of %d dead letters queued to run again\n", out.Replayed, len(ids))
	if out.Replayed < len(ids) {
		fmt.Fprintln(stderr, "hookshift: the others are no longer dead letters (already replayed or expired): see hookshift dlq list")
		return 1
	}
	return 0
}
