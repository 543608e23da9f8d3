package main

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hookshift/hookshift/internal/redistest"
)

// TestConsoleInBrowser is the merchant's story in the console, one step after
// another in one browser: sign in, connect, script, test, save, watch, fix,
// replay; and another tenant sees none of it.
func TestConsoleInBrowser(t *testing.T) {
	chromiumPath(t)
	rs := redistest.Start(t)
	base := serveInProcess(t, "redis://"+rs.Addr)
	dataFast := &sink{key: "df_test_key_123"}
	sinkSrv := httptest.NewServer(dataFast)
	t.Cleanup(sinkSrv.Close)

	tenantA := callAPI(t, "POST", base+"/v1/tenants", consoleRoot, map[string]any{"name": "Acme Shop"})
	tenantB := callAPI(t, "POST", base+"/v1/tenants", consoleRoot, map[string]any{"name": "Other Shop"})
	tokenA, tokenB := tenantA["token"].(string), tenantB["token"].(string)

	b := newBrowser(t, base)

	// 1. A portal link signs in once; the second time it fails.
	link := callAPI(t, "POST", base+"/v1/portal-links", tokenA, map[string]any{})["path"].(string)
	b.open(link)
	b.until("signed in by the portal link", `[...document.querySelectorAll("nav a")].some(a => a.textContent === "Sources")`)
	if loc := b.location(); strings.Contains(loc, "link=") {
		t.Errorf("the portal link stayed in the URL: %s", loc)
	}
	b.mu.Lock()
	var firstLoad float64
	for u, n := range b.encoded {
		if strings.HasPrefix(u, base+"/console/") && !strings.Contains(u, "/console/api/") {
			firstLoad += n
		}
	}
	b.mu.Unlock()
	t.Logf("first load of the console (index.html, app.js, app.css, as transferred): %.1f KB", firstLoad/1024)
	b.do("sign out by dropping cookies", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	b.open(link)
	b.until("the used link is refused", `document.body.innerText.includes("already been used or has expired")`)
	b.until("the sign-in page shows", `!!document.querySelector("#token")`)
	b.checkNames("the sign-in page")

	// Sign in again with the tenant token, pasted by hand.
	b.do("paste token", chromedp.SendKeys(chromedp.CSS("#token"), tokenA))
	b.click("Sign in")
	b.until("signed in by token", `location.pathname === "/console/events" && document.body.innerText.includes("No events yet")`)

	// 2. A source and a DataFast destination, through the forms only.
	b.click("Sources")
	b.until("sources page", `document.body.innerText.includes("No sources yet")`)
	b.fillLabelled("Name", "Dodo live")
	b.click("Create source")
	b.until("the secret is shown once", `document.querySelector('section[aria-label="Source created"] code.secret')`)
	b.screenshot("console-source-created.png", "")
	secret := b.eval(`document.querySelector('section[aria-label="Source created"] code.secret').textContent`)
	ingest := b.eval(`document.querySelector('section[aria-label="Source created"] dd code').textContent`)
	sourceID := ingest[strings.LastIndex(ingest, "/")+1:]
	if !strings.HasPrefix(secret, "whsec_") || !strings.HasPrefix(ingest, base+"/v1/webhooks/src") {
		t.Fatalf("source created with secret %q and ingest URL %q", secret, ingest)
	}
	b.click("add a destination")
	b.do("pick DataFast", chromedp.Click(chromedp.CSS(`label[for="int-datafast"]`)))
	b.until("the DataFast form", `document.querySelector('form[aria-label="Configure DataFast"]')`)
	b.checkNames("the new destination page")
	b.screenshot("console-new-destination.png", "")
	b.fillLabelled("Name", "DataFast prod")
	b.fillLabelled("API key", "df_test_key_123")
	// A refused save shows the API's own message, and the form stays filled.
	b.fillLabelled("URL", "http://169.254.169.254/latest")
	b.click("Create destination")
	b.until("the API's message", `document.querySelector('form[aria-label="Configure DataFast"] [role=alert]') && document.querySelector('form[aria-label="Configure DataFast"] [role=alert]').textContent.startsWith("url: ")`)
	b.fillLabelled("URL", sinkSrv.URL+"/api/v1/payments")
	b.click("Create destination")
	b.until("the destination page with its editor", `location.pathname.startsWith("/console/destinations/dst") && document.querySelector(".cm-editor .cm-content") && document.querySelector("#test-input option")`)
	destPath := b.eval(`location.pathname`)
	destID := strings.TrimPrefix(destPath, "/console/destinations/")

	// Time to an interactive editor on a fresh load of the deep link.
	b.do("no cache", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
	start := time.Now()
	b.open(destPath)
	b.until("editor ready", `document.querySelector(".cm-editor .cm-content[contenteditable=true]") && document.querySelector("#test-input option") && document.querySelector('[aria-label="Versions"]')`)
	t.Logf("time to an interactive editor (fresh load of %s, cache disabled): %v", destPath, time.Since(start).Round(time.Millisecond))

	// 3. A syntax error typed on line 3 is marked on line 3, then fixed.
	b.do("type a syntax error on line 3", chromedp.Focus(chromedp.CSS(".cm-content")),
		chromedp.KeyEvent(kb.Home, chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Home),
		chromedp.KeyEvent("let x = ;"))
	b.until("the lint marker", `document.querySelector(".cm-lintRange-error") && document.querySelector(".cm-lint-marker-error")`)
	line := b.eval(`(() => {
		const r = document.querySelector(".cm-lintRange-error").getBoundingClientRect();
		const g = [...document.querySelectorAll(".cm-lineNumbers .cm-gutterElement")].find(e => { const b = e.getBoundingClientRect(); return b.height > 0 && r.top >= b.top - 1 && r.top < b.bottom; });
		return g ? g.textContent : "none";
	})()`)
	if line != "3" {
		t.Errorf("the syntax error is marked on line %s, want 3", line)
	}
	b.until("the diagnostic names line 3", `document.querySelector("#lint-status") && document.querySelector("#lint-status").textContent.includes("Line 3")`)
	b.do("hover the error", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector(".cm-lintRange-error").getBoundingClientRect(); return [r.left + 4, r.top + r.height / 2]; })()`))
		if err != nil {
			return err
		}
		_, err = chromedp.Run(ctx, chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1]))
		return err
	}))
	b.untilMaybe(`document.querySelector(".cm-tooltip-lint")`) // the hover tooltip, for the picture only
	b.screenshot("console-editor-error.png", "")
	b.do("fix it", chromedp.Focus(chromedp.CSS(".cm-content")), chromedp.KeyEvent(strings.Repeat(kb.Backspace, len("let x = ;"))))
	b.until("the marker is gone", `!document.querySelector(".cm-lintRange-error") && !document.querySelector("#lint-status").textContent.includes("Line")`)
	result := `document.querySelector('[aria-label="Test result"]')`

	// A script that throws is marked at the line that threw, with its message.
	b.do("type a throw on line 3", chromedp.KeyEvent(`throw new Error("boom");`))
	b.click("Run test")
	b.until("the runtime error in the result", result+`.innerText.includes("Line 3") && `+result+`.innerText.includes("boom")`)
	b.until("the runtime error in the editor", `document.querySelector("#lint-status").textContent.includes("Line 3") && document.querySelector(".cm-lintRange-error")`)
	b.do("remove the throw", chromedp.Focus(chromedp.CSS(".cm-content")), chromedp.KeyEvent(strings.Repeat(kb.Backspace, len(`throw new Error("boom");`))))
	b.until("no marker", `!document.querySelector(".cm-lintRange-error")`)

	// A real change, then a test on the USD sample: DataFast gets 29.99.
	b.do("add a comment", chromedp.KeyEvent("// checked in the console"))
	// Leaving with unsaved changes asks; Cancel stays.
	b.click("Events")
	b.until("the unsaved-changes question", `document.querySelector("dialog[open]") && document.querySelector("dialog[open]").innerText.includes("unsaved changes")`)
	b.do("stay", chromedp.Click(chromedp.Search(`//dialog[@open]//button[normalize-space()="Cancel"]`)))
	b.until("still in the editor", `location.pathname === `+jsString(destPath)+` && document.querySelector(".cm-content").innerText.includes("checked in the console")`)
	b.checkNames("the destination page")
	b.do("pick the USD sample", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
			const s = document.querySelector("#test-input");
			s.value = [...s.options].find(o => o.textContent.startsWith("payment.succeeded.usd")).value;
			s.dispatchEvent(new Event("change"));
		})()`))
		return err
	}))
	b.click("Run test")
	b.until("the DataFast body", result+`.innerText.includes('"amount": 29.99')`)
	if txt := b.eval(result + `.innerText`); !strings.Contains(txt, "POST "+sinkSrv.URL) || !strings.Contains(txt, `"currency": "USD"`) ||
		!strings.Contains(txt, "not saved yet") || !strings.Contains(txt, "Authorization") || !strings.Contains(txt, "****") || strings.Contains(txt, "df_test_key_123") {
		t.Errorf("the test result of the unsaved script lacks the request, the currency or DataFast's credentials masked:\n%s", txt)
	}
	b.until("a diff of input and output", result+`.querySelector("pre.diff ins") && `+result+`.querySelector("pre.diff del")`)
	b.screenshot("console-test-result.png", `[aria-label="Test result"]`)

	// Ctrl+S saves, which makes version 2; Ctrl+Enter runs the saved script.
	patches := b.count("PATCH", base+"/v1/destinations/"+destID)
	b.do("Ctrl+S", chromedp.Focus(chromedp.CSS(".cm-content")), chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	b.until("version 2 listed", `document.querySelector('[aria-label="Versions"]') && document.querySelector('[aria-label="Versions"]').innerText.includes("Version 2")`)
	if n := b.count("PATCH", base+"/v1/destinations/"+destID) - patches; n != 1 {
		t.Errorf("Ctrl+S saved %d times, want once", n)
	}
	b.eval(`(document.querySelector('[aria-label="Test result"]').textContent = "", "")`)
	runs := b.count("POST", base+"/v1/destinations/"+destID+"/test")
	b.do("Ctrl+Enter", chromedp.Focus(chromedp.CSS(".cm-content")), chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	b.until("the saved script's test", result+`.innerText.includes('"amount": 29.99') && `+result+`.innerText.includes("The saved script")`)
	if n := b.count("POST", base+"/v1/destinations/"+destID+"/test") - runs; n != 1 {
		t.Errorf("Ctrl+Enter ran the test %d times, want once", n)
	}
	if strings.Contains(b.eval(result+`.innerText`), "df_test_key_123") {
		t.Error("the test result shows DataFast's API key")
	}
	if txt := b.eval(result + `.innerText`); !strings.Contains(txt, "Authorization") || !strings.Contains(txt, "****") || strings.Contains(txt, "df_test_key_123") {
		t.Errorf("the saved script's test does not show DataFast's credentials masked:\n%s", txt)
	}
	b.click("Diff version 1 against the editor")
	b.until("the diff of version 1 against the editor", `[...document.querySelectorAll("pre.diff ins")].some(e => e.textContent.includes("checked in the console"))`)
	b.click("Roll back to version 1")
	b.until("version 3 with version 1's code", `document.querySelector('[aria-label="Versions"]').innerText.includes("Version 3") && !document.querySelector(".cm-content").innerText.includes("checked in the console")`)
	vs := callAPI(t, "GET", base+"/v1/destinations/"+destID+"/transform/versions", tokenA, nil)["data"].([]any)
	if len(vs) != 3 || strings.Contains(vs[0].(map[string]any)["code"].(string), "checked in the console") {
		t.Errorf("after the rollback the versions are %d, newest has the comment: %v", len(vs), len(vs) > 0 && strings.Contains(vs[0].(map[string]any)["code"].(string), "checked in the console"))
	}

	// 4. A signed event arrives live, and is delivered.
	b.click("Events")
	b.until("events page, empty", `document.body.innerText.includes("No events yet")`)
	b.eval(`(window.__sameDocument = "yes")`)
	signedWebhook(t, base, sourceID, secret, "msg_live_1", dodoPayment(t, "pay_live_1"))
	b.until("the event appears without a reload", `document.querySelector("table.events a")`)
	if b.eval(`String(window.__sameDocument)`) != "yes" {
		t.Fatal("the events page reloaded")
	}
	b.do("open the event", chromedp.Click(chromedp.CSS("table.events a")))
	firstEventID := strings.TrimPrefix(b.eval(`location.pathname`), "/console/events/")
	b.until("delivered", `document.querySelector('section.delivery[data-status="delivered"]')`)
	dataFast.mu.Lock()
	got := strings.Join(dataFast.bodies, "\n")
	dataFast.mu.Unlock()
	if !strings.Contains(got, `"amount":29.99`) {
		t.Errorf("DataFast got %s, want amount 29.99", got)
	}

	// 5. A wrong API key saved in Settings: DataFast refuses the next payment,
	// and the failed attempt shows why. The right key back in Settings, then
	// Replay delivers it, all without a reload of the event page.
	setKey := func(key string) {
		b.open(destPath)
		b.do("open settings", chromedp.Click(chromedp.CSS("details > summary")))
		b.fillLabelled("API key", key)
		b.click("Save settings")
		b.until("settings saved", `document.body.innerText.includes("Settings saved.")`)
	}
	setKey("df_wrong_key")
	b.click("Events")
	b.until("the first event listed", `document.querySelectorAll("table.events tbody tr").length === 1`)
	signedWebhook(t, base, sourceID, secret, "msg_live_2", dodoPayment(t, "pay_live_2"))
	b.until("the second event appears", `document.querySelectorAll("table.events tbody tr").length === 2`)
	b.do("open the newest event", chromedp.Click(chromedp.CSS("table.events tbody tr:first-child a")))
	b.until("failed with the reason", `document.querySelector('section.delivery[data-status="failed"]') && document.querySelector("table.attempts").innerText.includes("invalid_api_key") && document.querySelector("table.attempts").innerText.includes("401")`)
	eventPath := b.eval(`location.pathname`)
	eventID := strings.TrimPrefix(eventPath, "/console/events/")
	b.checkNames("the event page")
	b.screenshot("console-event.png", "")
	setKey("df_test_key_123")
	b.open(eventPath)
	b.until("still failed", `document.querySelector('section.delivery[data-status="failed"]')`)
	b.eval(`(window.__sameDocument = "yes")`)
	b.click("Replay")
	b.until("delivered after the replay", `document.querySelector('section.delivery[data-status="delivered"]') && document.querySelectorAll("table.attempts tbody tr").length === 2`)
	if b.eval(`String(window.__sameDocument)`) != "yes" {
		t.Fatal("the event page reloaded")
	}

	// Search: the filters go into the URL; a miss says what to do.
	b.click("Events")
	b.fillLabelled("Customer email", "maria.lopez@example.com")
	b.click("Search")
	b.until("both payments found by email", `location.search.includes("email=maria.lopez%40example.com") && document.querySelectorAll("table.events tbody tr").length === 2`)
	b.open("/console/events?payment_id=pay_nothing")
	b.until("a miss", `document.body.innerText.includes("No events match these filters")`)
	b.checkNames("the events page")
	b.open("/console/events")
	b.until("the event list", `document.querySelectorAll("table.events tbody tr").length === 2`)
	b.screenshot("console-events.png", "")

	// "Replay every failure since": a payment that failed under a wrong key is
	// replayed from the destination page, with a live progress count.
	setKey("df_wrong_key")
	signedWebhook(t, base, sourceID, secret, "msg_live_3", dodoPayment(t, "pay_live_3"))
	b.open("/console/events?payment_id=pay_live_3")
	b.until("the third payment listed", `document.querySelectorAll("table.events tbody tr").length === 1`)
	b.do("open the third payment", chromedp.Click(chromedp.CSS("table.events tbody tr:first-child a")))
	b.until("it failed", `document.querySelector('section.delivery[data-status="failed"]')`)
	setKey("df_test_key_123")
	b.click("Replay failures")
	b.until("the progress count reaches all delivered", `document.body.innerText.includes("Replayed 1 of 1 failed deliveries: all delivered.")`)

	// Nothing failed is left: "replay every failure since" finds none.
	b.open(destPath)
	b.until("recent events offered as test input", `document.querySelector('#test-input optgroup[label="Recent events of this source"] option')`)
	b.do("pick a stored event", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
			const s = document.querySelector("#test-input");
			s.value = document.querySelector('#test-input optgroup[label="Recent events of this source"] option').value;
			s.dispatchEvent(new Event("change"));
		})()`))
		return err
	}))
	b.until("its payload shown", `document.querySelector("#test-payload").value.includes("pay_live_")`)
	b.click("Run test")
	b.until("the stored event's DataFast body", result+`.innerText.includes('"transaction_id": "pay_live_')`)
	b.click("Replay failures")
	b.until("nothing to replay", `document.body.innerText.includes("No failed deliveries since then")`)

	// Paged, newest first: 26 events are 25 on the first page and 1 older.
	for i := 4; i <= 26; i++ { // with pay_live_1 to 3: 26 events
		signedWebhook(t, base, sourceID, secret, fmt.Sprintf("msg_page_%d", i), dodoPayment(t, fmt.Sprintf("pay_page_%d", i)))
	}
	b.open("/console/events")
	b.until("a full first page", `document.querySelectorAll("table.events tbody tr").length === 25`)
	b.click("Older events")
	b.until("the oldest event alone on the second page", `location.search.includes("cursor=") && document.querySelectorAll("table.events tbody tr").length === 1 && document.querySelector("table.events a").textContent === `+jsString(firstEventID))
	b.click("Newest")

	// Moving on before a page has loaded: the late page must not draw over
	// the new one. Both clicks happen in one tick; the events page's list
	// arrives after the sources page has started.
	lists := b.answered(base + "/v1/events?")
	b.eval(`(document.querySelector('nav a[href="/console/events"]').click(), document.querySelector('nav a[href="/console/sources"]').click(), "")`)
	b.until("the sources page", `document.querySelector('[aria-label="Delete source Dodo live"]')`)
	for deadline := time.Now().Add(10 * time.Second); b.answered(base+"/v1/events?") == lists && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	b.until("the events list has been answered and drawn nowhere", `location.pathname === "/console/sources"`)
	if b.eval(`String(!!document.querySelector("table.events") || !document.querySelector('[aria-label="Delete source Dodo live"]'))`) != "false" {
		t.Errorf("the events page, loaded late, drew over the sources page:\n%s", b.pageText())
	}

	// Rotate a source's secret (the old one's expiry shown); delete another
	// after confirming; disable and enable the destination.
	b.click("Sources")
	b.click("Rotate secret of Dodo live")
	b.until("the old secret's expiry", `document.body.innerText.includes("The old one keeps working until")`)
	b.fillLabelled("Name", "Spare")
	b.click("Create source")
	b.until("the spare source", `document.querySelector('[aria-label="Delete source Spare"]')`)
	b.checkNames("the sources page")
	b.click("Delete source Spare")
	b.do("confirm", chromedp.Click(chromedp.CSS("dialog[open] button.danger")))
	b.until("the spare source is gone", `!document.querySelector('[aria-label="Delete source Spare"]') && document.querySelector('[aria-label="Delete source Dodo live"]')`)
	b.open(destPath)
	b.click("Disable")
	b.until("disabled", `document.querySelector('[aria-label="Health"]').innerText.includes("disabled")`)
	b.click("Enable")
	b.until("enabled", `document.querySelector('[aria-label="Health"]').innerText.includes("healthy")`)

	// 360 px wide: nothing wider than the screen.
	b.do("phone width", chromedp.EmulateViewport(360, 740))
	b.open(destPath)
	b.until("editor at 360 px", `document.querySelector(".cm-editor")`)
	if b.eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`) != "false" {
		t.Errorf("at 360 px the destination page scrolls sideways: %s", b.eval(`document.documentElement.scrollWidth + " > " + document.documentElement.clientWidth`))
	}
	b.screenshot("console-phone-editor.png", "")
	b.open(eventPath)
	b.until("event page at 360 px", `document.querySelector("section.delivery")`)
	if b.eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`) != "false" {
		t.Errorf("at 360 px the event page scrolls sideways")
	}
	b.screenshot("console-phone.png", "")
	b.do("desktop width", chromedp.EmulateViewport(1280, 1000))

	// 6. Sign out; a second tenant sees none of the first tenant's objects.
	b.click("Sign out")
	b.until("signed out", `!!document.querySelector("#token")`)
	b.open(destPath)
	b.until("a deep link asks to sign in", `!!document.querySelector("#token")`)
	b.do("paste the other token", chromedp.SendKeys(chromedp.CSS("#token"), tokenB))
	b.click("Sign in")
	b.until("signed in as the other tenant", `document.body.innerText.includes("Other Shop")`)
	for _, p := range []string{destPath, eventPath, "/console/sources", "/console/events", "/console/destinations", "/console/events?source_id=" + sourceID} {
		b.open(p)
		b.until("page "+p+" settled", `!document.body.innerText.includes("Loading…")`)
		txt := b.pageText()
		for _, leak := range []string{"Dodo live", "DataFast prod", eventID, "pay_live", "invalid_api_key"} {
			if strings.Contains(txt, leak) {
				t.Errorf("tenant B sees %q at %s:\n%s", leak, p, txt)
			}
		}
		if b.eval(`String(!!document.querySelector(".cm-editor, section.delivery"))`) != "false" {
			t.Errorf("tenant B sees an editor or a delivery at %s", p)
		}
	}

	b.checkClean()
	if errors.Is(b.ctx.Err(), context.Canceled) {
		t.Fatal("browser context ended early")
	}
}
