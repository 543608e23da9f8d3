package transformer

import (
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dop251/goja"
)

// The output payload is encoded in Go (output.go); it must be byte for byte
// what JSON.stringify gives, and fail where JSON.stringify throws, with the
// same error.
func TestPayloadEncoderMatchesJSONStringify(t *testing.T) {
	e := New(Options{})
	exprs := []string{
		`null`, `true`, `false`, `0`, `-0`, `1.5`, `-12.25`, `1e21`, `1e-7`, `123456789012345680000`, `2**53 + 2`,
		`NaN`, `Infinity`, `-Infinity`, `0.1 + 0.2`, `5e-324`, `Number.MAX_VALUE`,
		`'plain'`, `''`, `'quote " backslash \\ slash /'`, `'\b\f\n\r\t\u0000\u001f\u007f'`, `'é😀 María López'`,
		`'\u2028\u2029'`, `'\ud800'`, `'a\udc00b'`, `'\ud83d\ude00\ud83d'`, `'\ufffd real replacement'`,
		`[]`, `{}`, `[1, 'a', null, true, [2, [3]]]`, `[undefined, function () {}, Symbol('s')]`,
		`{ a: undefined, b: function () {}, c: Symbol('s'), d: 1 }`, `[, 1, , 2]`, `new Array(3)`,
		`{ z: 1, y: 2, 10: 'ten', 2: 'two', '01': 'zero-one', [Symbol('k')]: 3 }`,
		`{ 'k\u00e9y': 1, 'a"b': 2, 'c\\nd': 3, '\u0001': 4, '': 5 }`,
		`{ toJSON() { return { replaced: true }; } }`, `{ toJSON(k) { return 'key:' + k; } }`,
		`{ nested: { toJSON(k) { return 'key:' + k; } } }`, `[{ toJSON(k) { return 'index:' + k; } }]`,
		`{ toJSON: 'not a function', v: 1 }`, `{ toJSON() { return undefined; } }`, `{ a: { toJSON() { return undefined; } } }`,
		`new Date(0)`, `{ at: new Date(Date.UTC(2025, 2, 14, 9, 26, 41, 887)) }`, `new Date(NaN)`,
		`new Number(3)`, `new String('boxed')`, `new Boolean(false)`, `[new Number(-0), new String('\ud800'), Object(Symbol('x'))]`,
		`(() => { const n = new Number(1); n.valueOf = () => 42; return n; })()`,
		`(() => { const s = new String('a'); s.toString = () => 'over'; return s; })()`,
		`{ get g() { return 'got'; }, plain: 1 }`, `Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false })`,
		`Object.assign(Object.create({ inherited: 1 }), { own: 2 })`, `Object.assign(Object.create(null), { nul: 1 })`,
		`new (class P { constructor() { this.x = 1; } get y() { return 2; } })()`,
		`new Map([[1, 2]])`, `new Set([1])`, `/re/g`, `new Error('e')`, `Math`, `JSON`,
		`Object.assign([1, 2], { extra: 3 })`, `new Proxy({ a: 1, b: [1] }, {})`, `new Proxy([1, 2], {})`,
		`new Proxy({}, { ownKeys: () => ['x', 'y'], getOwnPropertyDescriptor: (t, k) => ({ value: k, enumerable: k === 'x', configurable: true }), get: (t, k) => 'v' + String(k) })`,
		`{ big: 'x'.repeat(1000), arr: Array.from({ length: 50 }, (_, i) => i * 1.1) }`,
		`w.payload`, `w.payload.data`, `(() => { const p = w.payload; p.added = 1; delete p.type; return p; })()`,
		`{ ...w.payload.data, extra: [w.payload.data.customer] }`, `w.env`, `({ ...w })`, `new Proxy(new Proxy([1, { a: 2 }], {}), {})`,
		`(() => { const a = [1]; a.length = 3; return a; })()`, `{ n: -0, i: 9007199254740993 }`,
	}
	// Deeper than the scanned part of the stack (shallowStack): shared
	// objects that are no cycle, and cycles back to the top and to the middle.
	exprs = append(exprs,
		`(() => { const leaf = { v: 1 }; let o = [leaf, leaf]; for (let i = 0; i < 40; i++) o = [o, leaf, { o: leaf }]; return o; })()`,
		`(() => { const leaf = [1]; let o = { d: 0 }; for (let i = 1; i < 60; i++) o = { d: i, o, p: [leaf] }; return o; })()`)
	errExprs := []string{
		`(() => { const root = {}; let o = root; for (let i = 0; i < 40; i++) { o.c = {}; o = o.c; } o.c = root; return root; })()`,
		`(() => { const root = {}; let o = root, mid; for (let i = 0; i < 40; i++) { o.c = [{}]; o = o.c[0]; if (i === 25) mid = o; } o.back = mid; return root; })()`,
		`(() => { const o = {}; o.self = o; return o; })()`,
		`(() => { const a = []; a.push({ a }); return a; })()`,
		`{ toJSON() { throw new RangeError('nope'); } }`,
		`{ get bad() { throw new TypeError('getter'); } }`,
		`function () {}`, `undefined`, `Symbol('top')`,
		`{ toJSON() { return function () {}; } }`,
	}
	in := eventInput(t, "payment.succeeded.usd.json")
	for _, x := range append(exprs, errExprs...) {
		js := mustRun(t, e, `function handler(w) {
  let s;
  try { s = JSON.stringify(`+x+`); } catch (e) { s = 'throws ' + e.name + ': ' + e.message; }
  w.payload = { s: s === undefined ? 'undefined' : s };
  return w;
}`, in)
		var want struct{ S string }
		if err := json.Unmarshal(js.Payload, &want); err != nil {
			t.Fatalf("%s: %v", x, err)
		}
		res, err := run(t, e, `function handler(w) { w.payload = `+x+`; return w; }`, in)
		switch {
		case strings.HasPrefix(want.S, "throws "):
			se := scriptError(t, err, KindInvalidResult)
			if wantMsg := "payload cannot be encoded as JSON: " + strings.TrimPrefix(want.S, "throws "); se.Message != wantMsg {
				t.Errorf("%s: error %q, want %q", x, se.Message, wantMsg)
			}
		case want.S == "undefined":
			if se := scriptError(t, err, KindInvalidResult); se.Message != "payload cannot be encoded as JSON" && !strings.HasPrefix(se.Message, "payload must be a JSON value") {
				t.Errorf("%s: error %q", x, se.Message)
			}
		case err != nil:
			t.Errorf("%s: %v (JSON.stringify gives %s)", x, err, want.S)
		case string(res.Payload) != want.S:
			t.Errorf("%s:\n encoder        %s\n JSON.stringify %s", x, res.Payload, want.S)
		}
	}
}

// The encoder keeps JSON.stringify's bounds: a huge sparse array is refused
// before it is walked, and the output stops at MaxStringLen.
func TestPayloadEncoderLimits(t *testing.T) {
	e := New(Options{MaxStringLen: 1000, MaxArrayLen: 100})
	for _, tc := range []struct{ expr, want string }{
		{`(() => { const a = []; a.length = 2 ** 32 - 1; return a; })()`, "JSON.stringify array length " + sizeLimitMarker},
		{`{ s: 'x'.repeat(999) }`, "JSON.stringify result " + sizeLimitMarker},
		{`Array.from({ length: 100 }, () => 'yyyyyyyyyy')`, "JSON.stringify result " + sizeLimitMarker},
		{`(() => { let o = 1; for (let i = 0; i < 5000; i++) o = [o]; return o; })()`, "JSON.stringify nesting depth " + sizeLimitMarker},
	} {
		_, err := run(t, e, `function handler(w) { w.payload = `+tc.expr+`; return w; }`, simpleInput(`{}`))
		se := scriptError(t, err, KindInvalidResult)
		if !strings.Contains(se.Message, tc.want) {
			t.Errorf("%s: %q, want it to contain %q", tc.expr, se.Message, tc.want)
		}
	}
}

// goja's interrupt cannot reach the encoder's Go code: once the run's stop
// flag is set (its time is up, or it was cancelled), the encoder gives up
// within stopCheckEvery objects instead of walking the rest; and an encode
// cut short leaves nothing that makes the next one see a false cycle.
func TestPayloadEncoderStopsWithTheRun(t *testing.T) {
	vm := goja.New()
	var stopped atomic.Bool
	enc := newPayloadEncoder(vm, 1<<24, 1<<20, &stopped)
	if err := vm.Set("encode", enc.encode); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.RunString(`var deep = (() => { const leaf = {}; let o = [leaf]; for (let i = 0; i < 200; i++) o = [o, leaf, leaf, leaf]; return o; })();`); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.RunString(`encode(deep)`); err != nil {
		t.Fatalf("encode before the stop: %v", err)
	}
	full := len(enc.bytes())
	stopped.Store(true)
	_, err := vm.RunString(`encode(deep)`)
	if err == nil || !strings.Contains(err.Error(), errRunStopped.Error()) {
		t.Fatalf("encode after the stop: %v, want %q", err, errRunStopped)
	}
	if n := len(enc.bytes()); n >= full {
		t.Fatalf("the stopped encode wrote %d of %d bytes: it did not stop", n, full)
	}
	stopped.Store(false)
	if _, err := vm.RunString(`encode(deep)`); err != nil || len(enc.bytes()) != full {
		t.Fatalf("encode after a stopped one: %v (%d bytes, want %d)", err, len(enc.bytes()), full)
	}
	var ex *goja.Exception
	if _, err := vm.RunString(`const c = {}; let o = c; for (let i = 0; i < 30; i++) { o.n = {}; o = o.n; } o.n = c; encode(c)`); !errors.As(err, &ex) || !strings.Contains(err.Error(), "circular") {
		t.Fatalf("a deep cycle: %v", err)
	}
	if _, err := vm.RunString(`encode(c.n)`); err == nil {
		t.Fatal("the same cycle seen from inside encoded")
	}
	if _, err := vm.RunString(`o.n = null; encode(c)`); err != nil {
		t.Fatalf("the structure once its cycle is cut: %v", err)
	}
}

// goja's own JSON.stringify is native too: the guard it calls for every value
// gives up once the run's stop flag is set.
func TestStringifyGuardStopsWithTheRun(t *testing.T) {
	vm := goja.New()
	var stopped atomic.Bool
	if err := vm.Set("newGuard", New(Options{}).newStringifyGuard(vm, &stopped)); err != nil {
		t.Fatal(err)
	}
	const js = `JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ i })), newGuard()).length`
	v, err := vm.RunString(js)
	if err != nil || v.ToInteger() < 5000 {
		t.Fatalf("stringify before the stop: %v %v", v, err)
	}
	stopped.Store(true)
	if _, err := vm.RunString(js); err == nil || !strings.Contains(err.Error(), errRunStopped.Error()) {
		t.Fatalf("stringify after the stop: %v, want %q", err, errRunStopped)
	}
}
