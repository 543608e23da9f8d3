package transformer

import (
	"context"
	"testing"
)

// pollute reports what it sees of earlier runs, then tries every way it can
// to leave state behind for the next run.
const pollute = `
var topLevelVar = (typeof topLevelVar === 'undefined') ? 'fresh' : 'stale';
let counter = 0;
function handler(w) {
  counter++;
  const seen = {
    map: [1, 2].map((x) => x * 2).join(','),
    json: JSON.stringify({ a: 1 }),
    globalX: typeof globalThis.x,
    sloppy: typeof sloppyGlobal,
    protoProp: ({}).polluted === undefined ? 'clean' : 'polluted',
    arrayProp: [].extra === undefined ? 'clean' : 'polluted',
    callee: typeof arguments.callee.stash,
    counter,
    topLevelVar,
    mathMax: Math.max(1, 2),
    dateNow: typeof Date.now(),
    consoleLog: typeof console.log,
  };
  const attempt = (f) => { try { f(); } catch (e) {} };
  attempt(() => { Array.prototype.map = function () { return ['hacked']; }; });
  attempt(() => { Object.prototype.polluted = true; });
  attempt(() => { Object.defineProperty(Array.prototype, 'extra', { value: 1 }); });
  attempt(() => { JSON.stringify = () => '"hacked"'; });
  attempt(() => { Math.max = () => -1; });
  attempt(() => { Date.now = 'x'; });
  attempt(() => { console.log = () => {}; });
  attempt(() => { arguments.callee.stash = 1; });
  attempt(() => { Object.setPrototypeOf(Object.prototype, { evil: 1 }); });
  globalThis.x = 1;
  sloppyGlobal = 2;
  w.payload = seen;
  return w;
}`

const cleanView = `{"map":"2,4","json":"{\"a\":1}","globalX":"undefined","sloppy":"undefined","protoProp":"clean","arrayProp":"clean","callee":"undefined","counter":1,"topLevelVar":"fresh","mathMax":2,"dateNow":"number","consoleLog":"function"}`

func TestRunNeverSeesAnEarlierRun(t *testing.T) {
	e := New(Options{Concurrency: 1})
	s := Script{TenantID: "tenant_a", Code: pollute}
	for i := range 3 {
		res, err := e.Run(context.Background(), s, simpleInput(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Payload) != cleanView {
			t.Fatalf("run %d saw\n %s\nwant\n %s", i, res.Payload, cleanView)
		}
	}
	// The same runtime served all three runs: isolation comes from the
	// hardening, not from throwing runtimes away.
	if forKey, total := e.pool.idle(s.key()); forKey != 1 || total != 1 {
		t.Fatalf("idle runtimes %d/%d, want 1/1", forKey, total)
	}
}

// Another script of the same tenant, and another tenant, start clean after
// a polluting run.
func TestPollutionDoesNotCrossScriptsOrTenants(t *testing.T) {
	e := New(Options{Concurrency: 1})
	if _, err := e.Run(context.Background(), Script{TenantID: "tenant_a", Code: pollute}, simpleInput(`{}`)); err != nil {
		t.Fatal(err)
	}
	probe := `function handler(w) {
  w.payload = { map: [1, 2].map((x) => x * 2).join(','), x: typeof x, sloppy: typeof sloppyGlobal, proto: ({}).polluted === undefined };
  return w;
}`
	for _, tenant := range []string{"tenant_a", "tenant_b"} {
		res, err := e.Run(context.Background(), Script{TenantID: tenant, Code: probe}, simpleInput(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Payload) != `{"map":"2,4","x":"undefined","sloppy":"undefined","proto":true}` {
			t.Errorf("%s saw %s", tenant, res.Payload)
		}
	}
}

// The same code under two tenants gets two runtimes and two cache entries.
func TestTenantsNeverShareRuntimes(t *testing.T) {
	e := New(Options{Concurrency: 1})
	code := `function handler(w) { return w }`
	a, b := Script{TenantID: "tenant_a", Code: code}, Script{TenantID: "tenant_b", Code: code}
	for _, s := range []Script{a, b, a, b} {
		if _, err := e.Run(context.Background(), s, simpleInput(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	ra, _ := e.pool.idle(a.key())
	rb, total := e.pool.idle(b.key())
	if ra != 1 || rb != 1 || total != 2 {
		t.Fatalf("idle a=%d b=%d total=%d, want 1 1 2", ra, rb, total)
	}
	if e.progs.len() != 2 {
		t.Fatalf("cached programs %d, want 2", e.progs.len())
	}
	rtA := e.pool.get(a.key())
	rtB := e.pool.get(b.key())
	if rtA == nil || rtB == nil || rtA == rtB || rtA.vm == rtB.vm {
		t.Fatal("tenants share a runtime")
	}
}

func TestPoolAndCacheAreBounded(t *testing.T) {
	e := New(Options{Concurrency: 1, CacheSize: 3, MaxIdleRuntimes: 2})
	for i := range 6 {
		code := `function handler(w) { w.payload = ` + string(rune('0'+i)) + `; return w }`
		res := mustRun(t, e, code, simpleInput(`{}`))
		if string(res.Payload) != string(rune('0'+i)) {
			t.Fatalf("script %d returned %s", i, res.Payload)
		}
	}
	if _, total := e.pool.idle(scriptKey{}); total != 2 {
		t.Errorf("idle runtimes %d, want 2", total)
	}
	if n := e.progs.len(); n != 3 {
		t.Errorf("cached programs %d, want 3", n)
	}
}

// Assigning to a name a frozen built-in prototype defines (the "override
// mistake") still works on ordinary objects.
func TestOverrideMistakeEnabled(t *testing.T) {
	e := New(Options{})
	res := mustRun(t, e, `'use strict';
class PaymentError extends Error {
  constructor(msg) { super(msg); this.name = 'PaymentError'; }
}
function handler(w) {
  const o = {};
  o.toString = () => 'custom';
  o.constructor = 'c';
  const err = new PaymentError('declined');
  w.payload = { s: String(o), c: o.constructor, e: String(err), own: Object.keys(o) };
  return w;
}`, simpleInput(`{}`))
	if string(res.Payload) != `{"s":"custom","c":"c","e":"PaymentError: declined","own":["toString","constructor"]}` {
		t.Errorf("got %s", res.Payload)
	}
}

// Runs with the same variables share one frozen env object: nothing a run
// tries on it reaches the next run, and a run with other variables sees its
// own.
func TestEnvObjectCarriesNothingBetweenRuns(t *testing.T) {
	e := New(Options{Concurrency: 1})
	code := `function handler(w) {
  const seen = { keys: Object.keys(w.env).join(','), extra: w.env.EXTRA, proto: Object.getPrototypeOf(w.env) === Object.prototype };
  const attempt = (f) => { try { f(); } catch (e) {} };
  attempt(() => { w.env.EXTRA = 'left'; });
  attempt(() => { w.env.A = 'changed'; });
  attempt(() => { delete w.env.A; });
  attempt(() => { Object.defineProperty(w.env, 'EXTRA', { value: 'left' }); });
  attempt(() => { Object.setPrototypeOf(w.env, { EXTRA: 'left' }); });
  seen.a = w.env.A;
  w.payload = seen;
  return w;
}`
	s := Script{TenantID: "tenant_a", Code: code}
	for i, env := range []map[string]string{{"A": "1", "B": "2"}, {"A": "1", "B": "2"}, {"A": "3"}, {"A": "1", "B": "2"}} {
		in := simpleInput(`{}`)
		in.Env = env
		res, err := e.Run(context.Background(), s, in)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"keys":"A,B","proto":true,"a":"1"}`
		if len(env) == 1 {
			want = `{"keys":"A","proto":true,"a":"3"}`
		}
		if string(res.Payload) != want {
			t.Fatalf("run %d saw %s, want %s", i, res.Payload, want)
		}
	}
}
