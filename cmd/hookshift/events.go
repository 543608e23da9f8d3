package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hookshift/hookshift/store"
)

const eventsUsage = `usage:
  hookshift events search [--type T] [--customer-id C] [--email E] [--payment-id P]
                          [--source-id S] [--limit N] [--cursor C] [--all]
  hookshift events show [--payload] EVENT_ID

search lists events, newest first (--all follows next_cursor to the end);
show prints one event, its deliveries and every attempt.
`

func cmdEvents(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	sub := func(f func(context.Context, []string, io.Writer, io.Writer) int) func([]string) int {
		return func(a []string) int { return f(ctx, a, stdout, stderr) }
	}
	return runGroup("events", eventsUsage+"\n"+opsCommonFlags, map[string]func([]string) int{
		"search": sub(cmdEventsSearch),
		"list":   sub(cmdEventsSearch),
		"show":   sub(cmdEventsShow),
		"get":    sub(cmdEventsShow),
	}, args, stdout, stderr)
}

func cmdEventsSearch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("events search", eventsUsage, stdout, stderr, &o, false)
	filters := []struct{ flag, param string }{
		{"type", "type"}, {"customer-id", "customer_id"}, {"email", "email"},
		{"payment-id", "payment_id"}, {"source-id", "source_id"}, {"cursor", "cursor"},
	}
	vals := make([]*string, len(filters))
	for i, f := range filters {
		vals[i] = fs.String(f.flag, "", "filter: "+f.param)
	}
	limit := fs.Int("limit", 0, "events per page, 1 to 500 (default: the server's, 50; with --all, 500)")
	all := fs.Bool("all", false, "follow next_cursor through every page")
	pos, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError("events search takes no arguments (got %q)", pos)
	}
	if *limit < 0 || *limit > 500 {
		return fs.usageError("--limit must be from 1 to 500")
	}
	c, code := o.client(fs)
	if c == nil {
		return code
	}
	q := url.Values{}
	for i, f := range filters {
		if *vals[i] != "" {
			q.Set(f.param, *vals[i])
		}
	}
	if *limit == 0 && *all {
		*limit = 500
	}
	if *limit > 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}

	page, raw, err := c.list(ctx, "/v1/events", q, *all)
	if err != nil {
		return opsFail(stderr, err)
	}
	if o.jsonOut {
		opsWriteList(stdout, page, raw)
		return 0
	}
	if len(page.Data) == 0 {
		fmt.Fprintln(stdout, "no events match")
		return 0
	}
	tw := opsTable(stdout)
	fmt.Fprintln(tw, "ID\tTYPE\tSOURCE\tRECEIVED")
	for _, raw := range page.Data {
		var ev store.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return opsFail(stderr, fmt.Errorf("GET /v1/events: %w", err))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", opsCell(ev.ID), opsCell(ev.Type), opsCell(ev.SourceID), opsTime(ev.ReceivedAt))
	}
	tw.Flush()
	if page.NextCursor != "" {
		fmt.Fprintf(stderr, "more: --cursor %s (or --all)\n", page.NextCursor)
	}
	return 0
}

type opsEventDetail struct {
	store.Event
	Deliveries []store.Delivery `json:"deliveries"`
}

func cmdEventsShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("events show", eventsUsage, stdout, stderr, &o, false)
	payload := fs.Bool("payload", false, "print the event's payload too")
	pos, code, ok := fs.parse(args)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		return fs.usageError("events show takes one EVENT_ID")
	}
	c, code := o.client(fs)
	if c == nil {
		return code
	}
	b, _, err := c.do(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(pos[0]), nil, nil, true)
	if err != nil {
		return opsFail(stderr, err)
	}
	if o.jsonOut {
		opsWriteJSON(stdout, b)
		return 0
	}
	var ev opsEventDetail
	if err := json.Unmarshal(b, &ev); err != nil {
		return opsFail(stderr, fmt.Errorf("GET /v1/events/%s: %w", pos[0], err))
	}
	opsPrintEvent(stdout, ev, *payload)
	return 0
}

func opsPrintEvent(w io.Writer, ev opsEventDetail, payload bool) {
	tw := opsTable(w)
	fmt.Fprintf(tw, "Event:\t%s\n", opsCell(ev.ID))
	fmt.Fprintf(tw, "Type:\t%s\n", opsCell(ev.Type))
	fmt.Fprintf(tw, "Source:\t%s\n", opsCell(ev.SourceID))
	fmt.Fprintf(tw, "Provider ID:\t%s\n", opsCell(ev.ProviderID))
	fmt.Fprintf(tw, "Received:\t%s\n", opsTime(ev.ReceivedAt))
	tw.Flush()
	if payload && len(ev.Payload) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, ev.Payload, "", "  ") != nil {
			buf.Reset()
			buf.Write(ev.Payload)
		}
		fmt.Fprintf(w, "Payload:\n%s\n", buf.String())
	}
	fmt.Fprintln(w)
	if len(ev.Deliveries) == 0 {
		fmt.Fprintln(w, "No deliveries: no destination matched, or fan-out has not run yet.")
		return
	}
	tw = opsTable(w)
	fmt.Fprintln(tw, "DESTINATION\tSTATUS\tATTEMPTS\tLAST ERROR")
	for _, d := range ev.Deliveries {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", opsCell(d.DestinationID), opsCell(d.Status), d.AttemptCount, opsCell(d.LastError))
	}
	tw.Flush()
	for _, d := range ev.Deliveries {
		if len(d.Attempts) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nAttempts to %s:\n", opsCell(d.DestinationID))
		tw = opsTable(w)
		fmt.Fprintln(tw, "  #\tAT\tOUTCOME\tHTTP\tMS\tERROR")
		for _, a := range d.Attempts {
			status := "-"
			if a.StatusCode != 0 {
				status = strconv.Itoa(a.StatusCode)
			}
			msg := opsOneLine(a.Error, 100)
			if a.Line > 0 {
				msg += " (line " + strconv.Itoa(a.Line) + ")"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", a.Number, opsTime(a.At), opsCell(a.Outcome), status, opsMS(a.DurationMS), opsDash(msg))
		}
		tw.Flush()
	}
}

func opsMS(ms float64) string {
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}
