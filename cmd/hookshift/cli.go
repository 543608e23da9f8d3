package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// The operator and merchant commands: `events`, `replay` and `dlq` talk to a
// running hookshift over its admin API. They print aligned tables for people
// and, with --json, the server's JSON untouched for scripts. This file holds
// what they share: flags, the HTTP client, API errors and table cells.

const opsCommonFlags = `Common flags:
  --api URL     the hookshift API (env HOOKSHIFT_API, default http://localhost:8080)
  --token T     a tenant token (env HOOKSHIFT_TOKEN); dlq needs the root token
                (env HOOKSHIFT_TOKEN, else HOOKSHIFT_ADMIN_TOKEN)
  --json        print the API's JSON as is
`

// opsOptions are the flags every command here shares.
type opsOptions struct {
	api, token string
	jsonOut    bool
}

// opsFlagSet is the flag set of an API command, with --api, --token and
// --json; rootToken commands (dlq) fall back to HOOKSHIFT_ADMIN_TOKEN.
func opsFlagSet(name, usage string, stdout, stderr io.Writer, o *opsOptions, rootToken bool) *cmdFlags {
	fs := newCmdFlags(name, usage, stdout, stderr)
	tok, tokDoc := os.Getenv("HOOKSHIFT_TOKEN"), "a tenant's or the root bearer `TOKEN` (HOOKSHIFT_TOKEN)"
	if rootToken {
		tokDoc = "the root bearer `TOKEN` (env HOOKSHIFT_TOKEN, else HOOKSHIFT_ADMIN_TOKEN)"
		if tok == "" {
			tok = os.Getenv("HOOKSHIFT_ADMIN_TOKEN")
		}
	}
	fs.StringVar(&o.api, "api", env("HOOKSHIFT_API", "http://localhost:8080"), "the hookshift API base `URL` (HOOKSHIFT_API)")
	fs.StringVar(&o.token, "token", tok, tokDoc)
	fs.BoolVar(&o.jsonOut, "json", false, "print the API's JSON as is")
	return fs
}

// client checks the shared options and returns a client, or a usage error.
func (o *opsOptions) client(fs *cmdFlags) (*opsClient, int) {
	u, err := url.Parse(o.api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fs.usageError("--api %q: want an http:// or https:// URL", o.api)
	}
	if o.token == "" {
		return nil, fs.usageError("--token is required: pass --token or set HOOKSHIFT_TOKEN")
	}
	return &opsClient{base: strings.TrimRight(o.api, "/"), token: o.token, http: &http.Client{Timeout: 30 * time.Second}}, 0
}

// opsClient calls the admin API with a bearer token.
type opsClient struct {
	base, token string
	http        *http.Client
}

// opsAPIError is an answer outside 2xx: the API's {"error": {"code", "message"}}
// or, for anything else (a proxy's plain text), the status and text.
type opsAPIError struct {
	Status        int
	Code, Message string
}

func (e *opsAPIError) Error() string { return e.Message + " (" + e.Code + ")" }

// do sends one request and returns the body of a 2xx answer. wantJSON makes a
// 2xx answer that is not JSON an error (an HTML page from a proxy or a UI is
// not an answer of the API).
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
	// The body, not Content-Type, decides.
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

// opsCell is a table cell of API data: one line (tabs and newlines would
// break the table), at most 100 runes, "-" for none. Control characters are
// escaped by the termSafe writer under every command's output.
func opsCell(s string) string { return opsDash(opsOneLine(s, 100)) }

func opsDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// opsPage is one page of a list the API pages with a cursor.
type opsPage struct {
	Data       []json.RawMessage `json:"data"`
	NextCursor string            `json:"next_cursor"`
}

// list fetches a list the API pages as {"data", "next_cursor"}: the page q
// asks for or, with all, every page from there to the end. raw is that one
// page's JSON as the server sent it; nil with all.
func (c *opsClient) list(ctx context.Context, path string, q url.Values, all bool) (page opsPage, raw []byte, err error) {
	q = maps.Clone(q)
	if q == nil {
		q = url.Values{}
	}
	seen := map[string]bool{}
	for {
		b, _, err := c.do(ctx, http.MethodGet, path, q, nil, true)
		if err != nil {
			return page, nil, err
		}
		var p opsPage
		if err := json.Unmarshal(b, &p); err != nil {
			return page, nil, fmt.Errorf("GET %s: %w", path, err)
		}
		page.Data = append(page.Data, p.Data...)
		page.NextCursor = p.NextCursor
		if !all {
			return page, b, nil
		}
		if p.NextCursor == "" {
			return page, nil, nil
		}
		if seen[p.NextCursor] { // a server that hands the same cursor back would loop forever
			return page, nil, fmt.Errorf("GET %s: next_cursor %q repeats; stopping after %d items", path, p.NextCursor, len(page.Data))
		}
		seen[p.NextCursor] = true
		q.Set("cursor", p.NextCursor)
	}
}

// opsWriteList prints a list for --json: one page as the server sent it, or
// every page's data in one document.
func opsWriteList(w io.Writer, page opsPage, raw []byte) {
	if raw != nil {
		opsWriteJSON(w, raw)
		return
	}
	if page.Data == nil {
		page.Data = []json.RawMessage{}
	}
	b, _ := json.Marshal(page)
	opsWriteJSON(w, b)
}
