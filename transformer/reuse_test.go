package transformer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dop251/goja/parser"
)

func TestReusableBody(t *testing.T) {
	for _, tc := range []struct {
		name, code string
		want       bool
	}{
		{"DataFast template", dataFastTemplate, true},
		{"Slack template", slackTemplate, true},
		{"isolation probe", pollute, false},
		{"directive, handler only", `'use strict'; function handler(w) { return w }`, true},
		{"helpers called", `const f = () => 1; function g(x) { return x + f() } function handler(w) { w.payload = g(1); return w }`, true},
		{"table reads", `const T = [1, 'a', -2, null, true, ` + "`t`" + `]; const O = { a: 1, 'b': 2, 3: 4 };
function handler(w) { w.payload = [T.includes(1), T.indexOf('a'), T[0], T.length, O.a, O['b'], T.join('-'), T.slice(1)]; return w }`, true},
		{"let", `let n = 0; function handler(w) { return w }`, false},
		{"var", `var n = 0; function handler(w) { return w }`, false},
		{"top-level call", `console.log('loaded'); function handler(w) { return w }`, false},
		{"const from a call", `const n = Date.now(); function handler(w) { return w }`, false},
		{"table of tables", `const T = [[1]]; function handler(w) { return w }`, false},
		{"object with a getter", `const O = { get a() { return 1 } }; function handler(w) { return w }`, false},
		{"__proto__ key", `const O = { __proto__: null }; function handler(w) { return w }`, false},
		{"spread", `const O = { ...{ a: 1 } }; function handler(w) { return w }`, false},
		{"table mutated", `const T = [1]; function handler(w) { T.push(2); return w }`, false},
		{"table written", `const O = { a: 1 }; function handler(w) { O.a = 2; return w }`, false},
		{"table element written", `const T = [1]; function handler(w) { T[0]++; return w }`, false},
		{"table element deleted", `const T = [1]; function handler(w) { delete T[0]; return w }`, false},
		{"table as for-of target", `const T = [1]; function handler(w) { for (T[0] of [2]); return w }`, false},
		{"table handed out", `const T = [1]; function handler(w) { w.payload = T; return w }`, false},
		{"table passed", `const T = [1]; function handler(w) { w.payload = [].concat(T); return w }`, false},
		{"table method with a callback", `const T = [1]; function handler(w) { T.forEach((x, i, a) => a.push(x)); return w }`, false},
		{"table computed call", `const T = [1]; function handler(w) { T['push'](2); return w }`, false},
		{"table optional call", `const T = [1]; function handler(w) { T.push?.(2); return w }`, false},
		{"table call through apply", `const T = [1]; function handler(w) { Array.prototype.push.call(T, 2); return w }`, false},
		{"helper optional call", `const f = () => 1; function handler(w) { w.payload = f?.(); return w }`, true},
		{"table spread", `const T = [1]; function handler(w) { w.payload = [...T]; return w }`, false},
		{"function property", `function handler(w) { handler.count = (handler.count || 0) + 1; return w }`, false},
		{"helper property", `function f() {} function handler(w) { f.x = 1; return w }`, false},
		{"function as a value", `function handler(w) { const h = handler; return w }`, false},
		{"function constructed", `function F() {} function handler(w) { new F(); return w }`, false},
		{"arguments", `function handler(w) { return arguments[0] }`, false},
		{"with", `function handler(w) { with (w) {} return w }`, false},
		{"async handler", `async function handler(w) { return w }`, false},
		{"generator", `function* g() {} function handler(w) { return w }`, false},
		{"class", `class C {} function handler(w) { return w }`, false},
		{"shorthand property", `const f = () => 1; function handler(w) { w.payload = { f }; return w }`, false},
		{"tagged template", `const f = () => 1; function handler(w) { f` + "``" + `; return w }`, false},
	} {
		prg, err := parser.ParseFile(nil, scriptName, tc.code, 0, parser.WithDisableSourceMaps)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := reusableBody(prg); got != tc.want {
			t.Errorf("%s: reusable %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A reusable script runs its top level once per runtime, and still never
// sees an earlier run: globals, sloppy assignments and built-ins start clean.
func TestReusedHandlerNeverSeesAnEarlierRun(t *testing.T) {
	const code = `const LIMITS = [1, 2];
const seen = () => ({ x: typeof globalThis.x, sloppy: typeof sloppyGlobal, proto: ({}).polluted === undefined, map: [1, 2].map((v) => v * 2).join(',') });
function handler(w) {
  const s = seen();
  s.limit = LIMITS.includes(2);
  const attempt = (f) => { try { f(); } catch (e) {} };
  attempt(() => { Object.prototype.polluted = true; });
  attempt(() => { Array.prototype.map = () => ['hacked']; });
  globalThis.x = 1;
  sloppyGlobal = 2;
  w.payload = s;
  return w;
}`
	e := New(Options{Concurrency: 1})
	s := Script{TenantID: "tenant_a", Code: code}
	for i := range 3 {
		res, err := e.Run(context.Background(), s, simpleInput(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"x":"undefined","sloppy":"undefined","proto":true,"map":"2,4","limit":true}`; string(res.Payload) != want {
			t.Fatalf("run %d saw %s, want %s", i, res.Payload, want)
		}
	}
	if p := e.progs.get(s.key()); p == nil || !p.reuse {
		t.Fatal("the script was not run as reusable: this test proves nothing")
	}
	if forKey, _ := e.pool.idle(s.key()); forKey != 1 {
		t.Fatalf("idle runtimes %d, want 1: the runs did not share a runtime", forKey)
	}
}

// A script whose top level has effects is not reusable, and its top level
// runs on every run.
func TestTopLevelRunsEveryRunUnlessReusable(t *testing.T) {
	e := New(Options{Concurrency: 1})
	code := `console.log('top level'); function handler(w) { return w }`
	for i := range 2 {
		res := mustRun(t, e, code, simpleInput(`{}`))
		if len(res.Logs) != 1 || res.Logs[0] != "top level" {
			t.Fatalf("run %d logs %q", i, res.Logs)
		}
	}
}

// A runtime keeps its buffers between runs, but not what one huge run grew
// them to, and not the run's payload.
func TestRuntimeBuffersAreBoundedBetweenRuns(t *testing.T) {
	e := New(Options{Concurrency: 1, MaxInputBytes: 1 << 20, MaxOutputBytes: 1 << 20})
	var b strings.Builder
	b.WriteString(`{"big":"` + strings.Repeat(`\u00e9`, 30000) + `"`)
	for i := range 20000 {
		fmt.Fprintf(&b, `,"k%d":{"v":%d}`, i, i)
	}
	b.WriteString(`}`)
	code := `function handler(w) { const o = {}; for (const k of Object.keys(w.payload)) o[k] = w.payload[k]; w.payload = o; return w }`
	s := Script{TenantID: "tenant_a", Code: code}
	res, err := e.Run(context.Background(), s, simpleInput(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Payload) <= maxKeptOutput {
		t.Fatalf("output of %d bytes does not exercise the bound", len(res.Payload))
	}
	rt := e.pool.get(s.key())
	if rt == nil {
		t.Fatal("no idle runtime")
	}
	d := &rt.payload
	for name, c := range map[string]int{"output": cap(rt.output.buf), "members": cap(d.members), "objects": cap(d.objects),
		"tape": cap(d.index.tape), "objStart": cap(d.index.objStart), "string buffer": cap(d.buf)} {
		if c > maxKeptEntries || name == "output" && c > maxKeptOutput {
			t.Errorf("%s keeps a capacity of %d", name, c)
		}
	}
	if d.data != nil {
		t.Error("the runtime still holds the last run's payload")
	}
}
