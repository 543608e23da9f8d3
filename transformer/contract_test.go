package transformer

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestResultContract(t *testing.T) {
	e := New(Options{})
	in := simpleInput(`{"type":"payment.succeeded","data":{"amount":1}}`)
	cases := []struct {
		name   string
		code   string
		check  func(t *testing.T, r Result)
		kind   string // want *Error of this kind
		errHas string
	}{
		{name: "unchanged webhook passes through", code: `function handler(w) { return w }`, check: func(t *testing.T, r Result) {
			if r.Cancel || r.Method != "POST" || r.URL != "https://example.com/hook" || string(r.Payload) != `{"type":"payment.succeeded","data":{"amount":1}}` || r.Headers == nil || len(r.Headers) != 0 {
				t.Errorf("%+v", r)
			}
		}},
		{name: "null cancels", code: `function handler(w) { return null }`, check: func(t *testing.T, r Result) {
			if !r.Cancel {
				t.Error("want cancel")
			}
		}},
		{name: "undefined cancels", code: `function handler(w) { }`, check: func(t *testing.T, r Result) {
			if !r.Cancel {
				t.Error("want cancel")
			}
		}},
		{name: "cancel true needs no further validation", code: `function handler(w) { w.cancel = true; w.method = 'DELETE'; w.url = 'nope'; return w }`, check: func(t *testing.T, r Result) {
			if !r.Cancel {
				t.Error("want cancel")
			}
		}},
		{name: "cancel false sends", code: `function handler(w) { w.cancel = false; return w }`, check: func(t *testing.T, r Result) {
			if r.Cancel {
				t.Error("want no cancel")
			}
		}},
		{name: "method is upper-cased", code: `function handler(w) { w.method = 'patch'; return w }`, check: func(t *testing.T, r Result) {
			if r.Method != "PATCH" {
				t.Errorf("method %q", r.Method)
			}
		}},
		{name: "put, url and headers", code: `function handler(w) { w.method = 'PUT'; w.url = 'https://api.example.org/v2/x?y=1'; w.headers = {'X-Id': 'a', Authorization: 'Bearer k'}; return w }`, check: func(t *testing.T, r Result) {
			if r.Method != "PUT" || r.URL != "https://api.example.org/v2/x?y=1" || r.Headers["X-Id"] != "a" || r.Headers["Authorization"] != "Bearer k" {
				t.Errorf("%+v", r)
			}
		}},
		{name: "payload may be any JSON value", code: `function handler(w) { w.payload = [1, 'two', null, true]; return w }`, check: func(t *testing.T, r Result) {
			if string(r.Payload) != `[1,"two",null,true]` {
				t.Errorf("payload %s", r.Payload)
			}
		}},
		{name: "payload string", code: `function handler(w) { w.payload = 'plain'; return w }`, check: func(t *testing.T, r Result) {
			if string(r.Payload) != `"plain"` {
				t.Errorf("payload %s", r.Payload)
			}
		}},
		{name: "a new object is accepted", code: `function handler(w) { return { payload: { ok: true } } }`, check: func(t *testing.T, r Result) {
			if r.Method != "POST" || r.URL != "https://example.com/hook" || string(r.Payload) != `{"ok":true}` {
				t.Errorf("%+v", r)
			}
		}},
		{name: "eventType and env changes are ignored", code: `function handler(w) { w.eventType = 'x'; w.env = {A: 1}; return w }`, check: func(t *testing.T, r Result) {
			if r.Cancel || string(r.Payload) == "" {
				t.Errorf("%+v", r)
			}
		}},
		{name: "arrow handler", code: `const handler = (w) => ({ ...w, payload: { spread: true } })`, check: func(t *testing.T, r Result) {
			if string(r.Payload) != `{"spread":true}` {
				t.Errorf("payload %s", r.Payload)
			}
		}},
		{name: "bad method", code: `function handler(w) { w.method = 'DELETE'; return w }`, kind: KindInvalidResult, errHas: "POST, PUT or PATCH"},
		{name: "GET refused", code: `function handler(w) { w.method = 'get'; return w }`, kind: KindInvalidResult, errHas: `"GET"`},
		{name: "relative url", code: `function handler(w) { w.url = '/relative'; return w }`, kind: KindInvalidResult, errHas: "absolute http"},
		{name: "ftp url", code: `function handler(w) { w.url = 'ftp://example.com/x'; return w }`, kind: KindInvalidResult, errHas: "absolute http"},
		{name: "url not a string", code: `function handler(w) { w.url = 42; return w }`, kind: KindInvalidResult, errHas: "url must be a string"},
		{name: "non-string header", code: `function handler(w) { w.headers = {'X-Count': 3}; return w }`, kind: KindInvalidResult, errHas: `header "X-Count" must be a string`},
		{name: "header injection", code: `function handler(w) { w.headers = {'X-A': 'a\r\nX-B: b'}; return w }`, kind: KindInvalidResult, errHas: "line break"},
		{name: "bad header name", code: `function handler(w) { w.headers = {'Bad Name': 'a'}; return w }`, kind: KindInvalidResult, errHas: "not a valid HTTP header name"},
		{name: "headers array", code: `function handler(w) { w.headers = ['a']; return w }`, kind: KindInvalidResult, errHas: "headers must be an object"},
		{name: "number returned", code: `function handler(w) { return 42 }`, kind: KindInvalidResult, errHas: "got number"},
		{name: "array returned", code: `function handler(w) { return [w] }`, kind: KindInvalidResult, errHas: "got an array"},
		{name: "cancel not boolean", code: `function handler(w) { w.cancel = 'yes'; return w }`, kind: KindInvalidResult, errHas: "cancel must be a boolean"},
		{name: "payload undefined", code: `function handler(w) { delete w.payload; return w }`, kind: KindInvalidResult, errHas: "payload must be a JSON value"},
		{name: "payload cyclic", code: `function handler(w) { const o = {}; o.o = o; w.payload = o; return w }`, kind: KindInvalidResult, errHas: "cannot be encoded as JSON"},
		{name: "payload bigint", code: `function handler(w) { w.payload = {n: 10n}; return w }`, kind: KindSyntax, errHas: "BigInt is not supported"},
		{name: "async handler", code: `async function handler(w) { return w }`, kind: KindInvalidResult, errHas: "async handlers are not supported"},
		{name: "no handler", code: `function notHandler(w) { return w }`, kind: KindRuntime, errHas: "does not define function handler"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := run(t, e, tc.code, in)
			if tc.kind != "" {
				se := scriptError(t, err, tc.kind)
				if !strings.Contains(se.Message, tc.errHas) {
					t.Errorf("message %q does not contain %q", se.Message, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, res)
		})
	}
}

func TestWebhookInput(t *testing.T) {
	e := New(Options{})
	in := eventInput(t, "payment.succeeded.usd.json")
	code := `function handler(w) {
  'use strict';
  let envWrite;
  try { w.env.DATAFAST_API_KEY = 'stolen'; envWrite = 'allowed'; } catch (e) { envWrite = e.name; }
  w.payload = { method: w.method, url: w.url, eventType: w.eventType, type: w.payload.type,
    env: w.env, envFrozen: Object.isFrozen(w.env), envWrite, headers: typeof w.headers };
  return w;
}`
	res := mustRun(t, e, code, in)
	want := `{"method":"POST","url":"https://datafa.st/api/v1/payments","eventType":"payment.succeeded","type":"payment.succeeded","env":{"DATAFAST_API_KEY":"df_test_key","SLACK_WEBHOOK_URL":"https://hooks.slack.com/services/T000/B000/XXXX"},"envFrozen":true,"envWrite":"TypeError","headers":"undefined"}`
	if string(res.Payload) != want {
		t.Errorf("got  %s\nwant %s", res.Payload, want)
	}
}

// Numbers and key order survive exactly as JSON.parse + JSON.stringify leave
// them: a big integer is rounded as in any JS engine, never worse.
func TestPayloadFidelity(t *testing.T) {
	e := New(Options{})
	in := simpleInput(`{"z":1,"a":{"y":2,"b":3},"big":12345678901234567890,"safe":9007199254740991,"f":1.10,"e":1e21,"neg":-0.5,"s":"é\u2028😀","n":null}`)
	res := mustRun(t, e, `function handler(w) { return w }`, in)
	want := `{"z":1,"a":{"y":2,"b":3},"big":12345678901234567000,"safe":9007199254740991,"f":1.1,"e":1e+21,"neg":-0.5,"s":"é` + "\u2028" + `😀","n":null}`
	if string(res.Payload) != want {
		t.Errorf("got  %s\nwant %s", res.Payload, want)
	}
}

func TestInvalidPayloadIsNotAScriptFault(t *testing.T) {
	e := New(Options{})
	_, err := run(t, e, `function handler(w) { return w }`, simpleInput(`{"broken":`))
	if !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("want ErrInvalidInput, got %v", err)
	}
	var se *Error
	if errors.As(err, &se) {
		t.Fatalf("want a non-script error, got %v", se)
	}
	// The runtime is still good for the next event.
	mustRun(t, e, `function handler(w) { return w }`, simpleInput(`{}`))
}

func TestConsoleCapture(t *testing.T) {
	e := New(Options{})
	res := mustRun(t, e, `function handler(w) {
  console.log('plain', 1, true, null, undefined, {a: [1, 2]});
  console.info('info');
  console.warn('warn');
  console.error(new TypeError('bad'));
  console.debug('dbg');
  return w;
}`, simpleInput(`{}`))
	want := []string{`plain 1 true null undefined {"a":[1,2]}`, "[info] info", "[warn] warn", "[error] TypeError: bad", "[debug] dbg"}
	if strings.Join(res.Logs, "\n") != strings.Join(want, "\n") {
		t.Errorf("Logs = %q", res.Logs)
	}
}

func TestConsoleCap(t *testing.T) {
	e := New(Options{MaxLogBytes: 100})
	res := mustRun(t, e, `function handler(w) { for (let i = 0; i < 1000; i++) console.log('line ' + i + ' ' + 'é'.repeat(5)); return w }`, simpleInput(`{}`))
	if res.Logs[len(res.Logs)-1] != truncatedNote {
		t.Fatalf("last log %q, want truncation note", res.Logs[len(res.Logs)-1])
	}
	total := 0
	for _, l := range res.Logs[:len(res.Logs)-1] {
		total += len(l)
		if !strings.HasPrefix(l, "line ") {
			t.Errorf("bad line %q", l)
		}
	}
	if total > 100 {
		t.Errorf("captured %d bytes, cap 100", total)
	}
}

func TestNoTimersRequireOrCodegen(t *testing.T) {
	e := New(Options{})
	res := mustRun(t, e, `function handler(w) {
  let fn;
  try { fn = Function('return 1')(); } catch (e) { fn = e.name; }
  let ctor;
  try { ctor = (() => {}).constructor('return 1')(); } catch (e) { ctor = e.name; }
  w.payload = [typeof setTimeout, typeof setInterval, typeof setImmediate, typeof queueMicrotask, typeof require,
    typeof process, typeof fetch, typeof eval, typeof ArrayBuffer, fn, ctor, (function () {}) instanceof Function];
  return w;
}`, simpleInput(`{}`))
	want := `["undefined","undefined","undefined","undefined","undefined","undefined","undefined","undefined","undefined","EvalError","EvalError",true]`
	if string(res.Payload) != want {
		t.Errorf("got  %s\nwant %s", res.Payload, want)
	}
}

func TestRuntimeError(t *testing.T) {
	e := New(Options{})
	_, err := run(t, e, `function handler(w) {
  console.log('before');
  const id = w.payload.data.missing.id;
  return w;
}`, simpleInput(`{"data":{}}`))
	se := scriptError(t, err, KindRuntime)
	if se.Line != 3 || se.Column == 0 || !strings.HasPrefix(se.Message, "TypeError: ") || len(se.Logs) != 1 || se.Logs[0] != "before" {
		t.Errorf("%+v", se)
	}

	_, err = run(t, e, `function handler(w) { throw new Error('no amount for ' + w.eventType) }`, simpleInput(`{}`))
	se = scriptError(t, err, KindRuntime)
	if se.Message != "Error: no amount for payment.succeeded" || se.Line != 1 || se.Column != 29 {
		t.Errorf("%+v", se)
	}

	_, err = run(t, e, `function handler(w) { throw {toString() { while (true) {} }} }`, simpleInput(`{}`))
	scriptError(t, err, KindRuntime) // a hostile thrown value cannot hang the error report
	_, err = run(t, e, `function handler(w) { throw 'just a string' }`, simpleInput(`{}`))
	if se := scriptError(t, err, KindRuntime); se.Message != "just a string" {
		t.Errorf("%+v", se)
	}
}

func TestCheck(t *testing.T) {
	e := New(Options{MaxSourceLen: 200})
	cases := []struct {
		name, code, kind string
		line, col        int
	}{
		{name: "ok", code: `function handler(w) { return w }`},
		{name: "arrow", code: `const handler = (w) => w;`},
		{name: "var", code: `var handler = function (w) { return w };`},
		{name: "syntax error line 3", code: "function handler(w) {\n  const a = 1;\n  const b = ;\n}", kind: KindSyntax, line: 3, col: 13},
		{name: "syntax error line 1", code: "function handler(w) { return w +* 1 }", kind: KindSyntax, line: 1, col: 33},
		{name: "duplicate let", code: "let a = 1;\nlet a = 2;\nfunction handler(w) { return w }", kind: KindSyntax, line: 2},
		{name: "no handler", code: `function transform(w) { return w }`, kind: KindSyntax},
		{name: "handler only nested", code: `function outer() { function handler(w) { return w } }`, kind: KindSyntax},
		{name: "escape the wrapper", code: `return 1 }); (function(){ function handler(w) { return w }`, kind: KindSyntax},
		{name: "too long", code: `function handler(w) { return w }` + strings.Repeat(" ", 200), kind: KindLimit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.Check(tc.code)
			if tc.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			se := scriptError(t, err, tc.kind)
			if tc.line != 0 && se.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", se.Line, tc.line, se)
			}
			if tc.col != 0 && se.Column != tc.col {
				t.Errorf("column %d, want %d (%v)", se.Column, tc.col, se)
			}
		})
	}
}

func TestRunRefusesSyntaxErrors(t *testing.T) {
	e := New(Options{})
	_, err := run(t, e, "function handler(w) {\n  return w +* 1\n}", simpleInput(`{}`))
	if se := scriptError(t, err, KindSyntax); se.Line != 2 {
		t.Errorf("%+v", se)
	}
}

func TestCancelledContext(t *testing.T) {
	e := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Run(ctx, Script{TenantID: "t", Code: `function handler(w) { return w }`}, simpleInput(`{}`))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}
