package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTermSafeEscapesControls(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text, ünïcode ✓\n", "plain text, ünïcode ✓\n"},
		{"a\tb\r\n", "a b \n"},
		{"\x1b[2J\x1b]0;pwned\x07", `\u001b[2J\u001b]0;pwned\u0007`},
		{"nul\x00 del\x7f", `nul\u0000 del\u007f`},
		{"csi\u009b31m osc\u009d", `csi\u009b31m osc\u009d`},
		{"bidi \u202eevil\u2066", `bidi \u202eevil\u2066`},
		{"bad \xff\xc2 utf8", `bad \ufffd\ufffd utf8`},
	} {
		var buf bytes.Buffer
		n, err := newTermSafe(&buf).Write([]byte(c.in))
		if err != nil || n != len(c.in) || buf.String() != c.want {
			t.Errorf("%q: wrote %d %v, got %q, want %q", c.in, n, err, buf.String(), c.want)
		}
	}
}

// terminalClean fails the test if out holds anything a terminal would act on.
func terminalClean(t *testing.T, name, out string) {
	t.Helper()
	for i, r := range out {
		if r == utf8.RuneError || (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) {
			t.Errorf("%s: control %U at byte %d reaches the terminal: %q", name, r, i, out)
			return
		}
	}
}

// A hostile destination response, script error or id cannot drive the
// operator's terminal from any command's output, the table or the error
// line; --json stays valid JSON with the same values.
func TestOpsOutputEscapesTerminalControls(t *testing.T) {
	const evil = `\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\r\tHTTP 400 \u009b31m\u202eevil\u007f`
	dead := `{"data":[{"id":"dlq_1\u001b[8m","event_id":"evt_1","destination_id":"dst_1","tenant_id":"ten_1",` +
		`"integration":"http","reason":"` + evil + `","failed_at":"2025-03-01T10:00:00Z"}],"next_cursor":""}`
	event := `{"id":"evt_1","source_id":"src_1","type":"pay\u001b[31m","received_at":"2025-03-01T10:00:00Z",
"payload":{"note":"\u009b2J\u001b"},
"deliveries":[{"destination_id":"dst_1","status":"failed","attempt_count":1,"last_error":"` + evil + `",
"attempts":[{"number":1,"at":"2025-03-01T10:00:01Z","outcome":"failed","error":"` + evil + `","line":3}]}]}`
	f := newOpsFake(t, map[string]http.HandlerFunc{
		"GET /v1/dlq": func(w http.ResponseWriter, r *http.Request) { opsJSON(w, 200, dead) },
		"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
			opsJSON(w, 200, `{"data":[{"id":"evt_1\u001b[5m","source_id":"src_1","type":"pay\u009b31m","received_at":"2025-03-01T10:00:00Z"}]}`)
		},
		"GET /v1/events/evt_1": func(w http.ResponseWriter, r *http.Request) { opsJSON(w, 200, event) },
		"GET /v1/events/evt_2": func(w http.ResponseWriter, r *http.Request) {
			opsJSON(w, 404, `{"error":{"code":"not_found","message":"`+evil+`"}}`)
		},
		"POST /v1/events/evt_1/replay": func(w http.ResponseWriter, r *http.Request) {
			opsJSON(w, 202, `{"event_id":"evt_1\u001b[1A","destination_ids":["dst_1\u0007"]}`)
		},
	})
	for _, args := range [][]string{
		{"dlq", "list"}, {"events", "search"}, {"events", "show", "evt_1", "--payload"}, {"events", "show", "evt_2"},
		{"replay", "evt_1"}, {"dlq", "list", "--json"}, {"events", "show", "evt_1", "--json"},
	} {
		code, out, errOut := runOps(t, f, args...)
		name := strings.Join(args, " ")
		terminalClean(t, name+" (stdout)", out)
		terminalClean(t, name+" (stderr)", errOut)
		if !strings.Contains(out+errOut, `\u001b`) && !strings.Contains(out+errOut, `\u009b`) {
			t.Errorf("%s: exit %d, the escape is not shown escaped:\n%s%s", name, code, out, errOut)
		}
	}
	// --json: same document, escapes and all.
	_, out, _ := runOps(t, f, "dlq", "list", "--json")
	var got, want any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json is no longer JSON: %v\n%s", err, out)
	}
	_ = json.Unmarshal([]byte(dead), &want)
	if g, w := mustJSON(got), mustJSON(want); g != w {
		t.Fatalf("--json changed the data:\n got %s\nwant %s", g, w)
	}
	// The table is still one row per dead letter.
	_, out, _ = runOps(t, f, "dlq", "list")
	if lines := strings.Count(out, "\n"); lines != 2 {
		t.Fatalf("want a header and one row, got %d lines:\n%s", lines, out)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// send prints the receiver's answer, and sink what it receives: both pass
// through the same filter.
func TestSendAndTransformOutputEscaped(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"transform", "test", "--code", writeTemp(t, "t.js",
		"function handler(w) { console.log('\\x1b[2Jlog'); throw new Error('bad \\x1b]0;x\\x07'); }"),
		"--event", "../../testdata/dodo/payment.succeeded.usd.json"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	terminalClean(t, "transform test", stdout.String()+stderr.String())
	if !strings.Contains(stderr.String(), `\u001b[2Jlog`) {
		t.Fatalf("stderr: %q", stderr.String())
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
