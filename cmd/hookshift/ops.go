package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hookshift/hookshift/store"
)

// The operator and merchant commands: `events`, `replay` and `dlq` talk to a
// running hookshift over its admin API (and, for the dead letters, over the
// asynqmon API it mounts at /monitoring). They print aligned tables for people
// and, with --json, the server's JSON untouched for scripts.

const opsCommonFlags = `Common flags:
  --api URL     the hookshift API (env HOOKSHIFT_API, default http://localhost:8080)
  --token T     a tenant token (env HOOKSHIFT_TOKEN); dlq needs the root token
                (env HOOKSHIFT_TOKEN, else HOOKSHIFT_ADMIN_TOKEN)
  --json        print the API's JSON as is
`

const eventsUsage = `usage:
  hookshift events search [--type T] [--customer-id C] [--email E] [--payment-id P]
                          [--source-id S] [--limit N] [--cursor C] [--all]
  hookshift events show [--payload] EVENT_ID

search lists events, newest first (--all follows next_cursor to the end);
show prints one event, its deliveries and every attempt.

` + opsCommonFlags

const replayUsage = `usage:
  hookshift replay EVENT_ID [--destination D]
  hookshift replay --destination D --since RFC3339|DURATION
  hookshift replay --from-file FILE [--destination D] [--concurrency 4] [--progress]

Runs deliveries again through the destination's current script; the
idempotency key stays the same. --since takes a time (2025-01-02T15:04:05Z) or
a duration back from now (90m, 24h, 7d). --from-file reads one event id a line
("-" for stdin; blank lines and # comments skipped).

` + opsCommonFlags

const dlqUsage = `usage:
  hookshift dlq list [--queue delivery] [--page 1] [--size 100]
  hookshift dlq replay [--queue delivery] (--all | TASK_ID...) [--progress]

Archived (dead-letter) tasks, through asynqmon's API at /monitoring. Needs the
operator's root token.

` + opsCommonFlags

// opsOptions are the flags every command here shares.
type opsOptions struct {
	api, token string
	jsonOut    bool
}

func opsFlagSet(name, usage string, stderr io.Writer, o *opsOptions, rootToken bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	tok := os.Getenv("HOOKSHIFT_TOKEN")
	if tok == "" && rootToken {
		tok = os.Getenv("HOOKSHIFT_ADMIN_TOKEN")
	}
	fs.StringVar(&o.api, "api", env("HOOKSHIFT_API", "http://localhost:8080"), "the hookshift API base URL")
	fs.StringVar(&o.token, "token", tok, "bearer token")
	fs.BoolVar(&o.jsonOut, "json", false, "print the API's JSON as is")
	return fs
}

// opsParse parses flags wherever they appear among the positional arguments
// (`replay EVT --destination D` as well as `replay --destination D EVT`); a
// "--" ends the flags. The exit code is meaningful only when ok is false.
func opsParse(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), 0, true
		}
		if len(rest) == 0 {
			return pos, 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// opsUsageError prints a complaint and the command's usage; exit 2.
func opsUsageError(stderr io.Writer, usage, format string, args ...any) int {
	fmt.Fprintf(stderr, "hookshift: "+format+"\n\n", args...)
	fmt.Fprint(stderr, usage)
	return 2
}

// client checks the shared options and returns a client, or a usage error.
func (o *opsOptions) client(stderr io.Writer, usage string) (*opsClient, int) {
	u, err := url.Parse(o.api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, opsUsageError(stderr, usage, "--api %q: want an http:// or https:// URL", o.api)
	}
	if o.token == "" {
		return nil, opsUsageError(stderr, usage, "no token: pass --token or set HOOKSHIFT_TOKEN")
	}
	return &opsClient{base: strings.TrimRight(o.api, "/"), token: o.token, http: &http.Client{Timeout: 30 * time.Second}}, 0
}

// opsClient calls the admin API with a bearer token.
type opsClient struct {
	base, token string
	http        *http.Client
}

// opsAPIError is an answer outside 2xx: the API's {"error": {"code", "message"}}
// or, for anything else (asynqmon answers in plain text), the status and text.
type opsAPIError struct {
	Status        int
	Code, Message string
}

func (e *opsAPIError) Error() string { return e.Message + " (" + e.Code + ")" }

// do sends one request and returns the body of a 2xx answer. wantJSON makes a
// 2xx answer that is not JSON an error: asynqmon serves its UI page, 200, for
// any path it does not route.
func (c *opsClient) do(ctx context.Context, method, path string, query url.Values, body any, wantJSON bool) ([]byte, int, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "hookshift-cli")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.StatusCode, opsDecodeError(resp.StatusCode, b)
	}
	// The body, not Content-Type: asynqmon's JSON answers go out without one.
	if wantJSON && !json.Valid(b) {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: expected JSON, got %d %q; is --api a hookshift API with the api role?",
			method, path, resp.StatusCode, opsOneLine(string(b), 60))
	}
	return b, resp.StatusCode, nil
}

func opsDecodeError(status int, b []byte) *opsAPIError {
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
		code := eb.Error.Code
		if code == "" {
			code = "http " + strconv.Itoa(status)
		}
		return &opsAPIError{Status: status, Code: code, Message: eb.Error.Message}
	}
	msg := opsOneLine(string(b), 300)
	if msg == "" || strings.HasPrefix(msg, "<") {
		msg = http.StatusText(status)
	}
	return &opsAPIError{Status: status, Code: "http " + strconv.Itoa(status), Message: msg}
}

// fail prints an error as `hookshift: <message> (<code>)`; exit 1.
func opsFail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "hookshift:", err)
	return 1
}

// opsAuthFailure reports an error every further request would repeat.
func opsAuthFailure(err error) bool {
	var ae *opsAPIError
	return errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden)
}

// opsWriteJSON prints a JSON body with a final newline.
func opsWriteJSON(w io.Writer, b []byte) {
	w.Write(bytes.TrimRight(b, "\n"))
	io.WriteString(w, "\n")
}

func opsTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// opsTime is a local RFC 3339 time to the second; "-" for none.
func opsTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.RFC3339)
}

// opsOneLine folds whitespace (a table cell must not break its row) and cuts to
// max runes.
func opsOneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

func opsDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ---- events ----

func cmdEvents(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, eventsUsage)
		return 2
	}
	switch args[0] {
	case "search", "list":
		return cmdEventsSearch(ctx, args[1:], stdout, stderr)
	case "show", "get":
		return cmdEventsShow(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, eventsUsage)
		return 0
	default:
		return opsUsageError(stderr, eventsUsage, "unknown events command %q", args[0])
	}
}

type opsEventPage struct {
	Data       []json.RawMessage `json:"data"`
	NextCursor string            `json:"next_cursor"`
}

func cmdEventsSearch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("events search", eventsUsage, stderr, &o, false)
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
	pos, code, ok := opsParse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return opsUsageError(stderr, eventsUsage, "events search takes no arguments (got %q)", pos)
	}
	if *limit < 0 || *limit > 500 {
		return opsUsageError(stderr, eventsUsage, "--limit must be from 1 to 500")
	}
	c, code := o.client(stderr, eventsUsage)
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

	var events []json.RawMessage
	next := ""
	seen := map[string]bool{}
	for {
		b, _, err := c.do(ctx, http.MethodGet, "/v1/events", q, nil, true)
		if err != nil {
			return opsFail(stderr, err)
		}
		if !*all && o.jsonOut {
			opsWriteJSON(stdout, b)
			return 0
		}
		var page opsEventPage
		if err := json.Unmarshal(b, &page); err != nil {
			return opsFail(stderr, fmt.Errorf("GET /v1/events: %w", err))
		}
		events = append(events, page.Data...)
		next = page.NextCursor
		if !*all || next == "" {
			break
		}
		if seen[next] { // a server that hands the same cursor back would loop forever
			return opsFail(stderr, fmt.Errorf("GET /v1/events: next_cursor %q repeats; stopping after %d events", next, len(events)))
		}
		seen[next] = true
		q.Set("cursor", next)
	}
	if o.jsonOut { // --all: every page's data in one document
		if events == nil {
			events = []json.RawMessage{}
		}
		b, err := json.Marshal(opsEventPage{Data: events})
		if err != nil {
			return opsFail(stderr, err)
		}
		opsWriteJSON(stdout, b)
		return 0
	}
	tw := opsTable(stdout)
	fmt.Fprintln(tw, "ID\tTYPE\tSOURCE\tRECEIVED")
	for _, raw := range events {
		var ev store.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return opsFail(stderr, fmt.Errorf("GET /v1/events: %w", err))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ev.ID, opsDash(ev.Type), ev.SourceID, opsTime(ev.ReceivedAt))
	}
	tw.Flush()
	if next != "" {
		fmt.Fprintf(stderr, "more: --cursor %s (or --all)\n", next)
	}
	return 0
}

type opsEventDetail struct {
	store.Event
	Deliveries []store.Delivery `json:"deliveries"`
}

func cmdEventsShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("events show", eventsUsage, stderr, &o, false)
	payload := fs.Bool("payload", false, "print the event's payload too")
	pos, code, ok := opsParse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		return opsUsageError(stderr, eventsUsage, "events show takes one EVENT_ID")
	}
	c, code := o.client(stderr, eventsUsage)
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
	fmt.Fprintf(tw, "Event:\t%s\n", ev.ID)
	fmt.Fprintf(tw, "Type:\t%s\n", opsDash(ev.Type))
	fmt.Fprintf(tw, "Source:\t%s\n", ev.SourceID)
	fmt.Fprintf(tw, "Provider ID:\t%s\n", opsDash(ev.ProviderID))
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
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", d.DestinationID, d.Status, d.AttemptCount, opsDash(opsOneLine(d.LastError, 100)))
	}
	tw.Flush()
	for _, d := range ev.Deliveries {
		if len(d.Attempts) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nAttempts to %s:\n", d.DestinationID)
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
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", a.Number, opsTime(a.At), opsDash(a.Outcome), status, opsMS(a.DurationMS), opsDash(msg))
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

// ---- replay ----

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o opsOptions
	fs := opsFlagSet("replay", replayUsage, stderr, &o, false)
	dest := fs.String("destination", "", "only this destination (with --since: the destination to replay)")
	since := fs.String("since", "", "with --destination: replay its events since this time or duration ago")
	fromFile := fs.String("from-file", "", `replay every event id in FILE, one a line ("-": stdin)`)
	conc := fs.Int("concurrency", 4, "with --from-file: requests in flight, 1 to 16")
	progress := fs.Bool("progress", false, "show a progress bar on stderr even when it is not a terminal")
	pos, code, ok := opsParse(fs, args)
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
		return opsUsageError(stderr, replayUsage, "give one of EVENT_ID, --since or --from-file")
	case len(pos) > 1:
		return opsUsageError(stderr, replayUsage, "replay takes one EVENT_ID (for many: --from-file)")
	case *since != "" && *dest == "":
		return opsUsageError(stderr, replayUsage, "--since needs --destination")
	case *conc < 1 || *conc > 16:
		return opsUsageError(stderr, replayUsage, "--concurrency must be from 1 to 16")
	}
	var sinceT time.Time
	if *since != "" {
		t, err := opsParseSince(*since, time.Now())
		if err != nil {
			return opsUsageError(stderr, replayUsage, "%v", err)
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
	c, code := o.client(stderr, replayUsage)
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
		var bar *progressBar
		if *progress || opsIsTerminal(stderr) {
			bar = newProgressBar(stderr, len(ids))
		}
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

// ---- progress ----

// progressBar draws `[#####     ] 50% 500/1000` on one terminal line. A nil
// bar draws nothing, so callers need not check.
type progressBar struct {
	w           io.Writer
	total, done int
	width       int
	drawn       string
}

func newProgressBar(w io.Writer, total int) *progressBar {
	p := &progressBar{w: w, total: total, width: 30}
	p.draw()
	return p
}

// renderProgress is the bar for done of total.
func renderProgress(done, total, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat("#", width) + "] 100% 0/0"
	}
	done = max(0, min(done, total))
	filled := done * width / total
	return fmt.Sprintf("[%s%s] %d%% %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done*100/total, done, total)
}

func (p *progressBar) add(n int) {
	if p == nil {
		return
	}
	p.done += n
	p.draw()
}

func (p *progressBar) draw() {
	s := renderProgress(p.done, p.total, p.width)
	if s != p.drawn {
		fmt.Fprint(p.w, "\r"+s)
		p.drawn = s
	}
}

// clear wipes the bar so that a message can take the line; the next draw
// brings it back.
func (p *progressBar) clear() {
	if p == nil || p.drawn == "" {
		return
	}
	fmt.Fprint(p.w, "\r"+strings.Repeat(" ", len(p.drawn))+"\r")
	p.drawn = ""
}

func (p *progressBar) finish() {
	if p == nil {
		return
	}
	p.draw()
	fmt.Fprintln(p.w)
}

func opsIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// ---- dlq ----

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
