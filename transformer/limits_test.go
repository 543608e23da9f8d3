package transformer

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const identity = `function handler(w) { return w }`

// stillWorks asserts the engine runs an ordinary script after a hostile one.
func stillWorks(t *testing.T, e *Engine) {
	t.Helper()
	res := mustRun(t, e, identity, simpleInput(`{"ok":true}`))
	if string(res.Payload) != `{"ok":true}` {
		t.Fatalf("payload %s", res.Payload)
	}
}

func TestTimeout(t *testing.T) {
	e := New(Options{Timeout: 100 * time.Millisecond})
	s := Script{TenantID: "t", Code: "function handler(w) {\n  console.log('looping');\n  let i = 0; for (;;) { i++; }\n}"}
	_, err := e.Run(context.Background(), s, simpleInput(`{}`))
	se := scriptError(t, err, KindTimeout)
	if se.Line != 3 || len(se.Logs) != 1 || se.Logs[0] != "looping" {
		t.Errorf("%+v", se)
	}
	if n, _ := e.pool.idle(s.key()); n != 0 {
		t.Errorf("an interrupted runtime went back to the pool")
	}
	stillWorks(t, e)
}

func TestCatastrophicBacktracking(t *testing.T) {
	e := New(Options{Timeout: 200 * time.Millisecond})
	// goja runs this one on Go's RE2 engine: linear time, no catastrophe.
	res := mustRun(t, e, `function handler(w) { w.payload = /(a+)+$/.test('a'.repeat(40) + 'b'); return w }`, simpleInput(`{}`))
	if string(res.Payload) != "false" {
		t.Errorf("payload %s", res.Payload)
	}
	// Lookahead and backreferences need the backtracking regexp2 engine,
	// which the Interrupt cannot reach; its match timeout ends the run.
	for _, re := range []string{`/^(?=(a+)+$)/`, `/(a+)+\1$/`} {
		_, err := run(t, e, `function handler(w) { w.payload = `+re+`.test('a'.repeat(40) + 'b'); return w }`, simpleInput(`{}`))
		scriptError(t, err, KindTimeout)
	}
	stillWorks(t, e)
}

func TestStackOverflow(t *testing.T) {
	e := New(Options{MaxCallStack: 256})
	_, err := run(t, e, `function depth(n) { return depth(n + 1) + 1 }
function handler(w) { w.payload = depth(0); return w }`, simpleInput(`{}`))
	se := scriptError(t, err, KindLimit)
	if !strings.Contains(se.Message, "call stack") || se.Line != 1 {
		t.Errorf("%+v", se)
	}
	stillWorks(t, e)
}

// Memory bombs end as a limit (or, at worst, a timeout) and the process
// carries on. Each is something the Interrupt alone cannot stop: a single
// native call building a huge value, or a loop growing memory faster than
// the wall-time limit would notice.
func TestMemoryBombs(t *testing.T) {
	e := New(Options{Timeout: 3 * time.Second, MaxHeapGrowth: 64 << 20})
	bombs := map[string]string{
		"repeat":          `'x'.repeat(2 ** 28).length`,
		"padStart":        `''.padStart(2 ** 30, 'ab').length`,
		"doubling":        `(() => { let s = 'xy'; for (;;) s += s; })()`,
		"growing array":   `(() => { const a = []; for (;;) a.push('x'.repeat(1024) + a.length); })()`,
		"join":            `new Array(2 ** 13).fill('x'.repeat(1024)).join('')`, // 8 Mi chars, twice the cap
		"sparse indexOf":  `(() => { const a = []; a.length = 2 ** 32 - 1; return a.indexOf(1); })()`,
		"sparse spread":   `(() => { const a = []; a[2 ** 32 - 2] = 1; return [...a].length; })()`,
		"sparse JSON":     `(() => { const a = []; a.length = 2 ** 32 - 1; return JSON.stringify({ a }); })()`,
		"sparse apply":    `(() => { const a = []; a.length = 2 ** 32 - 1; return Math.max.apply(null, a); })()`,
		"array-like":      `Array.prototype.includes.call({ length: 2 ** 53 - 1 }, 1)`,
		"replace pattern": `'x'.repeat(2 ** 20).replace(/x/g, '$&'.repeat(1000)).length`,
		"typed array":     `new Uint8Array(2 ** 31).length`,
		"stringify fanout": `(() => { const big = 'x'.repeat(2 ** 20); const o = {};
			for (let i = 0; i < 10000; i++) o['k' + i] = big; return JSON.stringify(o).length; })()`,
	}
	for name, expr := range bombs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := run(t, e, `function handler(w) { w.payload = `+expr+`; return w }`, simpleInput(`{}`))
			var se *Error
			if !errors.As(err, &se) || (se.Kind != KindLimit && se.Kind != KindTimeout && se.Kind != KindRuntime) {
				t.Fatalf("want a script fault, got %v", err)
			}
			// The watchdog samples the heap; under -race a growing loop may
			// reach the wall-time limit first.
			watchdogCase := name == "doubling" || name == "growing array"
			if name != "typed array" && se.Kind != KindLimit && !(watchdogCase && se.Kind == KindTimeout) {
				t.Errorf("want a limit, got %v", se)
			}
			stillWorks(t, e)
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			t.Logf("%v after %v; heap in use %d MiB", se, time.Since(start).Round(time.Millisecond), ms.HeapInuse>>20)
			if ms.HeapInuse > 512<<20 {
				t.Errorf("heap in use %d MiB after the bomb", ms.HeapInuse>>20)
			}
		})
	}
}

func TestSizeLimits(t *testing.T) {
	e := New(Options{MaxInputBytes: 1024, MaxOutputBytes: 1024, MaxSourceLen: 100})
	_, err := run(t, e, identity, simpleInput(`{"pad":"`+strings.Repeat("x", 1100)+`"}`))
	scriptError(t, err, KindLimit)
	_, err = run(t, e, `function handler(w) { w.payload = 'x'.repeat(2000); return w }`, simpleInput(`{}`))
	scriptError(t, err, KindLimit)
	_, err = run(t, e, identity+strings.Repeat(";", 100), simpleInput(`{}`))
	scriptError(t, err, KindLimit)
	stillWorks(t, e)
}

// A hostile script holding a slot does not stop other deliveries while a
// slot is free, and Run waits for a slot only as long as ctx allows.
func TestHostileScriptDoesNotBlockOthers(t *testing.T) {
	e := New(Options{Concurrency: 2, Timeout: 2 * time.Second})
	hostile := Script{TenantID: "evil", Code: `function handler(w) { for (;;) {} }`}
	var wg sync.WaitGroup
	var hostileErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, hostileErr = e.Run(context.Background(), hostile, simpleInput(`{}`))
	}()
	waitFor(t, func() bool { n, _ := e.deliveries.inUse("evil"); return n == 1 })

	for range 20 {
		res := mustRun(t, e, dataFastTemplate, eventInput(t, "payment.succeeded.usd.json"))
		if res.Cancel || len(res.Payload) == 0 {
			t.Fatalf("%+v", res)
		}
	}
	if n, _ := e.deliveries.inUse("evil"); n != 1 {
		t.Fatal("the hostile run should still be running")
	}
	wg.Wait()
	scriptError(t, hostileErr, KindTimeout)
}

func TestRunWaitsForASlot(t *testing.T) {
	e := New(Options{Concurrency: 1, Timeout: 2 * time.Second})
	done := make(chan error, 1)
	go func() {
		_, err := e.Run(context.Background(), Script{TenantID: "evil", Code: `function handler(w) { for (;;) {} }`}, simpleInput(`{}`))
		done <- err
	}()
	waitFor(t, func() bool { n, _ := e.deliveries.inUse("evil"); return n == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.Run(ctx, Script{TenantID: "t", Code: identity}, simpleInput(`{}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
	scriptError(t, <-done, KindTimeout)
	stillWorks(t, e)
}

func TestContextCancelInterruptsRun(t *testing.T) {
	e := New(Options{Timeout: 3 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := e.Run(ctx, Script{TenantID: "t", Code: `function handler(w) { for (;;) {} }`}, simpleInput(`{}`))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	var se *Error
	if errors.As(err, &se) {
		t.Fatalf("cancellation is not a script fault: %v", se)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("cancellation did not interrupt the run")
	}
	stillWorks(t, e)
}

// A Go helper that panics costs one run, not the process.
func TestPanickingHelper(t *testing.T) {
	e := New(Options{Helpers: map[string]any{"boom": func() { panic("helper bug") }}})
	_, err := run(t, e, `function handler(w) { boom(); return w }`, simpleInput(`{}`))
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("want *Error, got %v", err)
	}
	stillWorks(t, e)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// Timers are stopped and the heap watchdog goes idle: many runs leave no
// goroutines behind.
func TestNoGoroutineLeak(t *testing.T) {
	e := New(Options{})
	in := eventInput(t, "payment.succeeded.usd.json")
	mustRun(t, e, dataFastTemplate, in)
	waitFor(t, func() bool {
		e.watch.mu.Lock()
		defer e.watch.mu.Unlock()
		return !e.watch.running
	})
	before := runtime.NumGoroutine()
	for range 200 {
		mustRun(t, e, dataFastTemplate, in)
	}
	waitFor(t, func() bool {
		e.watch.mu.Lock()
		defer e.watch.mu.Unlock()
		return !e.watch.running
	})
	// The watchdog marks itself idle just before its goroutine returns, and
	// the runtime's finalizer goroutine counts while it runs: the count is
	// given time to settle, and a leaked goroutine stays and fails the test.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines %d -> %d after 5s:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// No built-in builds a string past MaxStringLen in one native call: not
// concat or String.raw, not a replacement pattern that copies the whole
// string per match ($`, $', a capture inside a lookahead), not
// RegExp.prototype[Symbol.replace] called directly, and not JSON.stringify
// with indentation, whose output grows with the square of the nesting.
func TestStringBuiltinsCannotBypassTheCap(t *testing.T) {
	e := New(Options{MaxStringLen: 1 << 16})
	bombs := map[string]string{
		"concat":             `''.concat(...new Array(100).fill('x'.repeat(1 << 12))).length`,
		"String.raw":         `String.raw({ raw: new Array(100).fill('x'.repeat(1 << 12)) }).length`,
		"prefix per match":   "'a'.repeat(2000).replace(/(?:)/g, '$`').length",
		"suffix per match":   "'a'.repeat(2000).replaceAll('', \"$'\").length",
		"lookahead capture":  `'a'.repeat(2000).replace(/(?=(a*))/g, '$1').length`,
		"one prefix, many":   "('a'.repeat(1000) + 'b').replace('b', '$`'.repeat(100)).length",
		"Symbol.replace":     `/(?:)/g[Symbol.replace]('a'.repeat(4000), 'abcdefgh'.repeat(100)).length`,
		"indented stringify": `(() => { let o = 1; for (let i = 0; i < 300; i++) o = [o]; return JSON.stringify(o, null, 10).length })()`,
		"indented, replacer": `(() => { let o = 1; for (let i = 0; i < 300; i++) o = { a: o }; return JSON.stringify(o, (k, v) => v, '\t\t\t\t\t\t\t\t\t\t').length })()`,
	}
	for name, expr := range bombs {
		t.Run(name, func(t *testing.T) {
			_, err := run(t, e, `function handler(w) { w.payload = `+expr+`; return w }`, simpleInput(`{}`))
			se := scriptError(t, err, KindLimit)
			if !strings.Contains(se.Message, sizeLimitMarker) {
				t.Errorf("%+v", se)
			}
		})
	}
	stillWorks(t, e)
}

// The capped built-ins give what the uncapped ones give below the cap.
func TestCappedStringBuiltinsKeepTheirMeaning(t *testing.T) {
	e := New(Options{})
	res := mustRun(t, e, "function handler(w) { w.payload = ["+
		"'John Smith'.replace(/(\\w+)\\s(\\w+)/, '$2, $1'),"+
		"'abc'.replace('b', \"[$`|$&|$']\"),"+
		"'aaa'.replace(/a/g, '$$'),"+
		"'2024-01-02'.replace(/(?<y>\\d+)-(?<m>\\d+)-(?<d>\\d+)/, '$<d>/$<m>/$<y>'),"+
		"'abc'.replace(/b/, '$<x>'),"+
		"'abc'.replace(/(b)/, '$01$2$0$'),"+
		"'abc'.replace(/(?<n>b)/, '$<n>$<z>$<n'),"+
		"'x'.replaceAll('', '-'),"+
		"'ab'.replaceAll('', '$`'),"+
		"'a-b-c'.replaceAll('-', \"$'\"),"+
		"'aXbX'.replace(/x/gi, (m) => m.toLowerCase()),"+
		"'abcabc'.replace(/(a)(b)?(z)?/g, '[$3$2$1$10$11]'),"+
		"''.concat(1, 'a', null),"+
		"String.raw`a${1}b\\n`,"+
		"String.raw({ raw: ['x', 'y', 'z'] }, 1),"+
		"JSON.stringify({ a: [1, { b: 2 }], c: 'd' }, null, 2),"+
		"JSON.stringify([{ a: 1 }], ['a'], '--'),"+
		"]; return w }", simpleInput(`{}`))
	want := `["Smith, John","a[a|b|c]c","$$$","02/01/2024","a$<x>c","ab$2$0$c","ab$<nc","-x-","aabab","ab-cbcc","axbx","[baa0a1]c[baa0a1]c","1anull","a1b\\n","x1yz","{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ],\n  \"c\": \"d\"\n}","[\n--{\n----\"a\": 1\n--}\n]"]`
	if string(res.Payload) != want {
		t.Errorf("got\n %s\nwant\n %s", res.Payload, want)
	}
}
