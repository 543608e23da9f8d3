package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/rs/zerolog"

	"github.com/hookshift/hookshift/integrations/inbound"
)

// The merchant console, driven in a real headless Chromium against a real
// `hookshift serve` (in process, the same serve() the binary runs) on a
// private redis-server. One browser serves the whole story, step by step.

const consoleRoot = "root-token-console-browser"

// chromiumPath finds Debian's chromium. Without it the test skips, except in
// CI (CI set), where a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required for the console browser tests in CI (apt-get install chromium)")
	}
	t.Skip("chromium not installed (apt-get install chromium); skipping the console browser tests")
	return ""
}

// serveInProcess runs serve() on a free port and stops it at cleanup.
func serveInProcess(t *testing.T, redisURL string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg, _, err := parseServeFlags([]string{"--addr", addr, "--redis-url", redisURL, "--admin-token", consoleRoot,
		"--secret-key", "console-browser-test-secret-key", "--egress-allow", "127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &lockedBuffer{}
	go func() { done <- serve(ctx, cfg, zerolog.New(logs), io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("hookshift did not become ready: %s", logs)
	return ""
}

// callAPI calls the admin API with a bearer token and decodes the answer.
func callAPI(t *testing.T, method, u, token string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, u, resp.StatusCode, out)
	}
	return out
}

// sink is the DataFast stand-in: it takes payments with the right API key
// and refuses others the way DataFast does.
type sink struct {
	key    string
	mu     sync.Mutex
	bodies []string
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"status":"error","error":{"code":"invalid_api_key","message":"API key is not valid"}}`)
		return
	}
	s.bodies = append(s.bodies, string(b))
	_, _ = io.WriteString(w, `{"status":"success"}`)
}

// unnamedControls is a script listing the page's controls that have no
// accessible name (label, aria-label, text or title).
const unnamedControls = `(() => {
	const bad = [];
	for (const el of document.querySelectorAll("button, a[href], input:not([type=hidden]), select, textarea, [contenteditable=true]")) {
		const own = (el.getAttribute("aria-label") || el.getAttribute("title") || "").trim();
		const labels = el.labels ? [...el.labels].map((l) => l.textContent).join("").trim() : "";
		const text = el.tagName === "BUTTON" || el.tagName === "A" ? el.textContent.trim() : "";
		if (!own && !labels && !text) bad.push(el.outerHTML.slice(0, 100));
	}
	return bad.join("\n");
})()`

// checkNames fails the test for each control of the page without an accessible name.
func (b *browser) checkNames(page string) {
	b.t.Helper()
	if bad := b.eval(unnamedControls); bad != "" {
		b.t.Errorf("controls without an accessible name on %s:\n%s", page, bad)
	}
}

// browser is one headless Chromium tab with watchers for what the page must
// never do: reach another origin, or log an error.
type browser struct {
	t        *testing.T
	ctx      context.Context
	base     string
	shots    string // directory for screenshots, or ""
	mu       sync.Mutex
	foreign  []string // requests to another origin
	problems []string // console errors, uncaught exceptions, CSP reports
	sent     []string // "METHOD URL" of every request the page made
	done     []string // URLs of the requests answered, in order
	bytes    map[network.RequestID]string
	encoded  map[string]float64 // encoded (on the wire) bytes per URL
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := chromiumPath(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base, shots: os.Getenv("HOOKSHIFT_CONSOLE_SCREENSHOTS"),
		bytes: map[network.RequestID]string{}, encoded: map[string]float64{}}
	if err := chromedp.Do(ctx); err != nil { // starts the browser; no timeout on this first call
		t.Fatalf("start chromium: %v", err)
	}
	origin, _ := url.Parse(base)
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if u, err := url.Parse(e.Request.URL); err == nil && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "ws" || u.Scheme == "wss") && u.Host != origin.Host {
				b.foreign = append(b.foreign, e.Request.URL)
			}
			b.bytes[e.RequestID] = e.Request.URL
			b.sent = append(b.sent, e.Request.Method+" "+e.Request.URL)
		case *network.EventLoadingFinished:
			if u, ok := b.bytes[e.RequestID]; ok {
				b.encoded[u] += e.EncodedDataLength
				b.done = append(b.done, u)
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				msg := string(e.Type)
				for _, a := range e.Args {
					msg += " " + string(a.Value) + a.Description
				}
				b.problems = append(b.problems, "console: "+msg)
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+exceptionText(e.ExceptionDetails))
		case *cdplog.EventEntryAdded:
			// A 401 or 422 that the page expects and shows (not signed in, a
			// script error) is logged by Chromium with source "network"; it is
			// an API answer, not a page error. Anything else (a CSP violation,
			// a script error) counts.
			if e.Entry.Level == cdplog.EntryLevelError && e.Entry.Source != cdplog.EntrySourceNetwork {
				b.problems = append(b.problems, "log: "+string(e.Entry.Source)+": "+e.Entry.Text)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return b
}

// do runs actions with a bound, failing the test with the page's text.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\npage at %s:\n%s", what, err, b.location(), b.pageText())
	}
}

// until waits for a JavaScript condition to be true.
func (b *browser) until(what, js string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+js+")", chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		b.t.Fatalf("waiting until %s: %v\npage at %s:\n%s", what, err, b.location(), b.pageText())
	}
}

// untilMaybe waits a little for a condition that only matters for a picture.
func (b *browser) untilMaybe(js string) {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	_, _ = chromedp.Run(ctx, chromedp.Poll[bool]("!!("+js+")", chromedp.WithPollingInterval(100*time.Millisecond)))
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Location())
	return s
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// click presses the button or link whose accessible text is name.
func (b *browser) click(name string) {
	b.t.Helper()
	sel := fmt.Sprintf(`//*[(self::button or self::a) and (normalize-space()=%q or @aria-label=%q)]`, name, name)
	b.do("click "+name, chromedp.Click(chromedp.Search(sel)))
}

// fillLabelled types into the input that the label names.
func (b *browser) fillLabelled(label, value string) {
	b.t.Helper()
	sel := fmt.Sprintf(`//label[normalize-space()=%q]/following-sibling::*[self::input or self::textarea][1]`, label)
	b.do("fill "+label, chromedp.Focus(chromedp.Search(sel)), chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.Backspace), chromedp.KeyEvent(value))
}

// screenshot saves the viewport, or the element sel, as a PNG when
// HOOKSHIFT_CONSOLE_SCREENSHOTS names a directory (docs/console.md uses them).
func (b *browser) screenshot(name, sel string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	shot := chromedp.CaptureScreenshot()
	if sel != "" {
		shot = chromedp.Screenshot(chromedp.CSS(sel))
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// count returns how many requests the page has made with this method and URL.
func (b *browser) count(method, u string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.sent {
		if r == method+" "+u {
			n++
		}
	}
	return n
}

// answered returns how many answered requests had a URL starting with prefix.
func (b *browser) answered(prefix string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, u := range b.done {
		if strings.HasPrefix(u, prefix) {
			n++
		}
	}
	return n
}

// checkClean fails the test if the page reached another origin or logged an error.
func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.foreign) > 0 {
		b.t.Errorf("the console made requests to another origin: %v", b.foreign)
	}
	if len(b.problems) > 0 {
		b.t.Errorf("the console logged errors:\n%s", strings.Join(b.problems, "\n"))
	}
}

func jsString(s string) string { q, _ := json.Marshal(s); return string(q) }

func signedWebhook(t *testing.T, base, sourceID, secret, msgID string, payload map[string]any) {
	t.Helper()
	body, _ := json.Marshal(payload)
	kind, _ := inbound.Lookup("standard-webhooks")
	h, body, err := kind.Sign(nil, secret, msgID, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/webhooks/"+sourceID, bytes.NewReader(body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("webhook answered %d: %s", resp.StatusCode, b)
	}
}

func dodoPayment(t *testing.T, paymentID string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/dodo/payment.succeeded.usd.json")
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	p["data"].(map[string]any)["payment_id"] = paymentID
	return p
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return ""
	}
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Text + " " + d.Exception.Description
	}
	return d.Text
}
