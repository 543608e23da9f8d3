package transformer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
)

// jsRuntime is one goja runtime prepared for one script version. It is used
// by one run at a time and pooled between runs.
type jsRuntime struct {
	vm       *goja.Runtime
	global   *goja.Object  // the frozen global object; each run's global inherits from it
	parse    goja.Callable // JSON.parse
	run      goja.Callable // prelude's run(...)
	describe goja.Callable // prelude's describe(e)
	wrapper  goja.Value    // the script body as a function returning handler
	console  *console
	payload  payloadDecoder  // decodes each run's payload, reusing its buffers
	output   *payloadEncoder // encodes each run's output payload, reusing its buffer
	freeze   goja.Callable   // Object.freeze

	// stopped is set with every interrupt of a run (its time is up, its
	// context is cancelled) and cleared when the next starts: the Go code a
	// run calls into, which goja's interrupt cannot reach (the output
	// encoder, the stringify guard), looks at it.
	stopped atomic.Bool

	// env is the frozen webhook.env object of the last run, built from
	// envOf. A frozen object with a frozen prototype carries nothing from
	// one run to the next, so runs with the same variables share it.
	env   *goja.Object
	envOf map[string]string

	urlOK string // the last URL checkURL accepted

	// strs keeps the JS strings of the last run's method, URL and event
	// type (str): strings are immutable, and most runs repeat them.
	strs [3]struct {
		s string
		v goja.Value
	}

	timer *time.Timer // interrupts the run in progress at Options.Timeout

	// request is what the prelude's run() reports of the request the
	// handler asked for (report.request and report.header).
	request struct {
		method, url goja.Value // undefined when the script left them
		hasHeaders  bool
		headers     []string // name, value, name, value, ...
	}

	memoryKilled bool // the heap watchdog interrupted the last run
}

var preludeProgram = sync.OnceValue(func() *goja.Program {
	return goja.MustCompile("prelude.js", preludeJS, true)
})

// sizeLimitMarker ends the message of the RangeError the prelude's size caps
// throw; Run reports such a throw as a "limit" fault.
const sizeLimitMarker = "exceeds the transform size limit"

// interruptReason is the value a run is interrupted with.
type interruptReason int

const (
	interruptTimeout interruptReason = iota + 1
	interruptCancel
	interruptMemory
)

// constHandler makes the wrapper of a reusable script: a function that
// returns the handler made once.
var constHandler = sync.OnceValue(func() *goja.Program {
	return goja.MustCompile("handler.js", "(function (h) { return function () { return h; }; })", true)
})

// newRuntime builds a hardened runtime (see preludeJS) and loads the script
// into it.
func (e *Engine) newRuntime(script *compiled) (*jsRuntime, error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(e.opts.MaxCallStack)
	rt := &jsRuntime{vm: vm, console: &console{max: e.opts.MaxLogBytes}}
	jsonObj := vm.Get("JSON").ToObject(vm)
	rt.parse, _ = goja.AssertFunction(jsonObj.Get("parse"))

	helpers := vm.NewObject()
	for _, h := range e.helpers {
		v, err := h.value(vm, rt.parse)
		if err != nil {
			return nil, fmt.Errorf("transformer: helper %q: %w", h.name, err)
		}
		if err := helpers.Set(h.name, v); err != nil {
			return nil, fmt.Errorf("transformer: helper %q: %w", h.name, err)
		}
	}

	pv, err := vm.RunProgram(preludeProgram())
	if err != nil {
		return nil, fmt.Errorf("transformer: prelude: %w", err)
	}
	pf, _ := goja.AssertFunction(pv)
	rt.output = newPayloadEncoder(vm, e.opts.MaxStringLen, e.opts.MaxArrayLen, &rt.stopped)
	report := vm.NewObject()
	_ = report.Set("request", func(c goja.FunctionCall) goja.Value {
		rt.request.method, rt.request.url, rt.request.hasHeaders = c.Argument(0), c.Argument(1), c.Argument(2).ToBoolean()
		return goja.Undefined()
	})
	_ = report.Set("header", func(c goja.FunctionCall) goja.Value {
		rt.request.headers = append(rt.request.headers, c.Argument(0).String(), c.Argument(1).String())
		return goja.Undefined()
	})
	fns, err := pf(goja.Undefined(), rt.console.object(vm), helpers,
		vm.ToValue(e.opts.MaxStringLen), vm.ToValue(e.opts.MaxArrayLen), vm.ToValue(sizeLimitMarker),
		vm.ToValue(e.newStringifyGuard(vm, &rt.stopped)), vm.ToValue(bigIntRefusal), vm.ToValue(rt.output.encode), report)
	if err != nil {
		return nil, fmt.Errorf("transformer: prelude: %w", err)
	}
	fo := fns.ToObject(vm)
	rt.run, _ = goja.AssertFunction(fo.Get("0"))
	rt.describe, _ = goja.AssertFunction(fo.Get("1"))
	rt.console.stringify, _ = goja.AssertFunction(fo.Get("2"))
	rt.global = vm.GlobalObject()

	// Evaluating the program only creates the wrapper function; its body, the
	// merchant's top level, runs once per Run, unless the script is reusable
	// (see loadReusable). Freeze the wrapper so that arguments.callee cannot
	// carry state from one run to the next.
	w, err := vm.RunProgram(script.prog)
	if err != nil {
		return nil, fmt.Errorf("transformer: loading script: %w", err)
	}
	freeze, _ := goja.AssertFunction(vm.Get("Object").ToObject(vm).Get("freeze"))
	rt.freeze = freeze
	wo := w.ToObject(vm)
	if _, err := freeze(goja.Undefined(), wo.Get("prototype")); err != nil {
		return nil, fmt.Errorf("transformer: loading script: %w", err)
	}
	if _, err := freeze(goja.Undefined(), wo); err != nil {
		return nil, fmt.Errorf("transformer: loading script: %w", err)
	}
	rt.wrapper = w
	if script.reuse {
		if err := rt.loadReusable(freeze); err != nil {
			return nil, err
		}
	}
	return rt, nil
}

// loadReusable runs the top level of a reusable script (reusableBody) once
// and makes rt.wrapper return the handler it defined on every run. The
// handler and its prototype are frozen as well; the check already proved
// that no script code can reach them. A top level that defines no function
// handler keeps the ordinary wrapper, which says so on every run.
func (rt *jsRuntime) loadReusable(freeze goja.Callable) error {
	wrapper, _ := goja.AssertFunction(rt.wrapper)
	h, err := wrapper(goja.Undefined())
	if err != nil {
		return fmt.Errorf("transformer: loading script: %w", err)
	}
	ho, ok := h.(*goja.Object)
	if _, callable := goja.AssertFunction(h); !ok || !callable {
		return nil
	}
	if p, ok := ho.Get("prototype").(*goja.Object); ok {
		if _, err := freeze(goja.Undefined(), p); err != nil {
			return fmt.Errorf("transformer: loading script: %w", err)
		}
	}
	if _, err := freeze(goja.Undefined(), ho); err != nil {
		return fmt.Errorf("transformer: loading script: %w", err)
	}
	mk, err := rt.vm.RunProgram(constHandler())
	if err != nil {
		return fmt.Errorf("transformer: loading script: %w", err)
	}
	mkf, _ := goja.AssertFunction(mk)
	w, err := mkf(goja.Undefined(), ho)
	if err != nil {
		return fmt.Errorf("transformer: loading script: %w", err)
	}
	wo := w.ToObject(rt.vm)
	for _, o := range []goja.Value{wo.Get("prototype"), wo} {
		if _, err := freeze(goja.Undefined(), o); err != nil {
			return fmt.Errorf("transformer: loading script: %w", err)
		}
	}
	rt.wrapper = w
	return nil
}

// str returns s as a JS string, reusing the last one made in slot i.
func (rt *jsRuntime) str(i int, s string) goja.Value {
	c := &rt.strs[i]
	if c.v == nil || c.s != s {
		c.s, c.v = s, rt.vm.ToValue(s)
	}
	return c.v
}

// noCancel stands for context.AfterFunc's stop when there is nothing to
// stop.
func noCancel() bool { return true }

// runOn runs one event through rt. reusable is false when rt must not go back
// to the pool: it was interrupted, hit a limit, or a Go panic went through it.
// alone says no other run can be in flight (Run holds the engine alone), so
// a memory interrupt is this run's fault even if the watchdog saw others.
func (e *Engine) runOn(ctx context.Context, rt *jsRuntime, in Input, alone bool) (res Result, reusable bool, err error) {
	start := time.Now()
	vm := rt.vm
	rt.console.reset()
	rt.request.headers = rt.request.headers[:0]

	// A fresh global object per run, inheriting the frozen built-ins: globals
	// a run creates (globalThis.x = 1, or x = 1 in sloppy mode) die with it.
	global := vm.NewObject()
	_ = global.SetPrototype(rt.global)
	_ = global.DefineDataProperty("globalThis", global, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	vm.SetGlobalObject(global)

	// The timer is the runtime's own, reset per run: a runtime whose timer
	// fired is never reused (reusable below).
	rt.stopped.Store(false)
	if rt.timer == nil {
		rt.timer = time.AfterFunc(e.opts.Timeout, func() { rt.stopped.Store(true); vm.Interrupt(interruptTimeout) })
	} else {
		rt.timer.Reset(e.opts.Timeout)
	}
	timer := rt.timer
	stopCtx := noCancel
	if ctx.Done() != nil { // a context that can never be cancelled needs no watcher
		stopCtx = context.AfterFunc(ctx, func() { rt.stopped.Store(true); vm.Interrupt(interruptCancel) })
	}
	watched := e.watch.enter(vm)

	var (
		status  *goja.Object
		jsErr   error
		message string
		inputOK = true
	)
	panicked := catchPanic(func() {
		raw := in.Payload
		if len(raw) == 0 {
			raw = json.RawMessage("null")
		}
		parsed, perr := decodePayload(vm, &rt.payload, raw)
		if perr != nil {
			parsed, perr = rt.parse(goja.Undefined(), vm.ToValue(string(raw)))
		}
		if perr != nil {
			var ex *goja.Exception
			if errors.As(perr, &ex) && !isUncatchable(perr) {
				inputOK = false
			}
			jsErr = perr
			return
		}
		method := in.Method
		if method == "" {
			method = "POST"
		}
		out, cerr := rt.run(goja.Undefined(), rt.wrapper, rt.str(0, method), rt.str(1, in.URL),
			rt.str(2, in.EventType), parsed, rt.envObject(in.Env))
		if cerr != nil {
			jsErr = cerr
			if !isUncatchable(cerr) {
				var ex *goja.Exception
				if errors.As(cerr, &ex) {
					if d, derr := rt.describe(goja.Undefined(), ex.Value()); derr == nil {
						message = d.String()
					}
				}
			}
			return
		}
		status = out.ToObject(vm)
	})

	timerFired := !timer.Stop()
	ctxFired := !stopCtx()
	memoryKilled, shared := e.watch.leave(watched)
	rt.memoryKilled = memoryKilled
	vm.SetGlobalObject(rt.global) // let this run's objects be collected while rt idles
	defer rt.output.trim()
	defer rt.payload.release()
	elapsed := time.Since(start)
	logs := rt.console.take()
	res.Logs, res.DurationMS = logs, float64(elapsed)/float64(time.Millisecond)
	reusable = !timerFired && !ctxFired && !memoryKilled && panicked == nil

	fault := func(kind, msg string, frames []goja.StackFrame) (Result, bool, error) {
		line, col := scriptPosition(frames)
		return Result{}, false, &Error{Kind: kind, Message: msg, Line: line, Column: col, Logs: logs}
	}
	var frames []goja.StackFrame
	var st interface{ Stack() []goja.StackFrame } // *Exception, *InterruptedError, *StackOverflowError
	if errors.As(jsErr, &st) {
		frames = st.Stack()
	}

	var reason interruptReason
	var ie *goja.InterruptedError
	if errors.As(jsErr, &ie) {
		reason, _ = ie.Value().(interruptReason)
	}
	switch {
	case panicked != nil:
		return fault(KindRuntime, fmt.Sprintf("internal error while running the script: %v", panicked), nil)
	case reason == interruptMemory && shared && !alone:
		return Result{}, false, errMemoryPressure
	case reason == interruptMemory:
		return fault(KindLimit, fmt.Sprintf("the run used more than %d MiB of memory", e.opts.MaxHeapGrowth>>20), frames)
	case reason == interruptCancel:
		return Result{}, false, fmt.Errorf("transformer: run cancelled: %w", ctx.Err())
	case reason == interruptTimeout || elapsed >= e.opts.Timeout:
		// A regexp2 match that hit its own timeout answers "no match", so a
		// run past its deadline is a timeout even if it returned normally.
		return fault(KindTimeout, fmt.Sprintf("the script ran longer than %s", e.opts.Timeout), frames)
	}

	if jsErr != nil {
		var so *goja.StackOverflowError
		switch {
		case !inputOK:
			return Result{}, reusable, fmt.Errorf("%w: payload is not valid JSON: %v", ErrInvalidInput, jsErr)
		case errors.As(jsErr, &so):
			return fault(KindLimit, fmt.Sprintf("maximum call stack size (%d) exceeded", e.opts.MaxCallStack), frames)
		case isUncatchable(jsErr):
			return fault(KindRuntime, jsErr.Error(), frames)
		}
		if message == "" {
			message = "uncaught exception"
		}
		if strings.Contains(message, sizeLimitMarker) {
			res, _, err := fault(KindLimit, message, frames)
			return res, reusable, err
		}
		res, _, err := fault(KindRuntime, message, frames)
		return res, reusable, err
	}

	res, err = e.result(rt, status, in, logs)
	if err != nil {
		return Result{}, reusable, err
	}
	res.Logs, res.DurationMS = logs, float64(elapsed)/float64(time.Millisecond)
	return res, reusable, nil
}

// result turns the prelude's status array and the encoded payload into a
// Result, validating what only Go can check (method set, URL syntax, header
// syntax, output size).
func (e *Engine) result(rt *jsRuntime, status *goja.Object, in Input, logs []string) (Result, error) {
	invalid := func(format string, args ...any) (Result, error) {
		return Result{}, &Error{Kind: KindInvalidResult, Message: fmt.Sprintf(format, args...), Logs: logs}
	}
	switch status.Get("0").String() {
	case "cancel":
		return Result{Cancel: true}, nil
	case "nohandler":
		return Result{}, &Error{Kind: KindRuntime, Message: "the script does not define function handler(webhook)", Logs: logs}
	case "invalid":
		return invalid("%s", status.Get("1").String())
	}
	var res Result
	res.Method = in.Method
	req := &rt.request
	if !goja.IsUndefined(req.method) {
		res.Method = req.method.String()
	}
	res.Method = strings.ToUpper(res.Method)
	if res.Method == "" {
		res.Method = "POST"
	}
	switch res.Method {
	case "POST", "PUT", "PATCH":
	default:
		return invalid("method must be POST, PUT or PATCH, got %q", res.Method)
	}
	res.URL = in.URL
	if !goja.IsUndefined(req.url) {
		res.URL = req.url.String()
	}
	if res.URL != rt.urlOK {
		if err := checkURL(res.URL); err != nil {
			return invalid("url %q: %v", res.URL, err)
		}
		rt.urlOK = res.URL
	}
	if req.hasHeaders {
		res.Headers = make(map[string]string, len(req.headers)/2)
		for i := 0; i+1 < len(req.headers); i += 2 {
			k, v := req.headers[i], req.headers[i+1]
			if err := CheckHeader(k, v); err != nil {
				return invalid("%v", err)
			}
			res.Headers[k] = v
		}
	}
	body := rt.output.bytes()
	if len(body) > e.opts.MaxOutputBytes {
		return Result{}, &Error{Kind: KindLimit, Message: fmt.Sprintf("payload is %d bytes once encoded, over the %d-byte output limit", len(body), e.opts.MaxOutputBytes), Logs: logs}
	}
	res.Payload = slices.Clone(body) // body is the runtime's buffer
	return res, nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("does not parse")
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return errors.New("must be an absolute http or https URL")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}

// envObject returns webhook.env for env: a frozen plain object, keys sorted
// so the script sees a stable key order. It is built again only when env
// differs from the last run's. It runs inside the run's guarded call, so a
// panic from goja is caught there.
func (rt *jsRuntime) envObject(env map[string]string) *goja.Object {
	if rt.env != nil && maps.Equal(env, rt.envOf) {
		return rt.env
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	o := rt.vm.NewObject()
	for _, k := range keys {
		if err := o.Set(k, env[k]); err != nil {
			panic(rt.vm.NewGoError(err))
		}
	}
	if _, err := rt.freeze(goja.Undefined(), o); err != nil {
		panic(err)
	}
	rt.env, rt.envOf = o, maps.Clone(env)
	return o
}

// scriptPosition finds the innermost frame in the merchant's code.
func scriptPosition(frames []goja.StackFrame) (line, col int) {
	for i := range frames {
		if frames[i].SrcName() != scriptName {
			continue
		}
		p := frames[i].Position()
		line, col = p.Line, p.Column
		if line == 1 && col > len(wrapPrefix) {
			col -= len(wrapPrefix)
		}
		return line, col
	}
	return 0, 0
}

func isUncatchable(err error) bool {
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	return errors.As(err, &ie) || errors.As(err, &so)
}

// catchPanic runs f and returns what it panicked with, if anything. goja
// turns JS exceptions into errors, but a Go helper that panics, or a goja
// bug, must cost one delivery, not the process.
func catchPanic(f func()) (p any) {
	defer func() { p = recover() }()
	f()
	return nil
}

// newStringifyGuard returns the prelude's newGuard: each call makes a
// JSON.stringify replacer that refuses arrays longer than MaxArrayLen before
// stringify walks them, and stops once the output passes MaxStringLen.
func (e *Engine) newStringifyGuard(vm *goja.Runtime, stopped *atomic.Bool) func(goja.FunctionCall) goja.Value {
	maxArr, maxStr := int64(e.opts.MaxArrayLen), e.opts.MaxStringLen
	rangeError := vm.Get("RangeError")
	rangeErr := func(what string) {
		o, err := vm.New(rangeError, vm.ToValue(what+" "+sizeLimitMarker))
		if err != nil {
			panic(vm.NewGoError(err))
		}
		panic(o)
	}
	return func(goja.FunctionCall) goja.Value {
		total, calls := 0, 0
		return vm.ToValue(func(c goja.FunctionCall) goja.Value {
			// goja's stringify runs natively, out of the interrupt's reach;
			// the guard it calls for every value looks at the stop flag.
			if calls++; calls%stopCheckEvery == 0 && stopped.Load() {
				panic(vm.NewGoError(errRunStopped))
			}
			k, v := c.Argument(0), c.Argument(1)
			if ks, ok := k.(goja.String); ok {
				total += ks.Length() + 8
			}
			switch x := v.(type) {
			case goja.String:
				total += x.Length()
			case *goja.Object:
				if x.ClassName() == "Array" && x.Get("length").ToInteger() > maxArr {
					rangeErr("JSON.stringify array length")
				}
			}
			if total > maxStr {
				rangeErr("JSON.stringify result")
			}
			return v
		})
	}
}
