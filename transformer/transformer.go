// Package transformer runs a merchant's JavaScript transform on one webhook
// event and returns the HTTP request the script asks for.
//
// The script contract follows the Svix-style scripts Dodo merchants already
// have: the script defines function handler(webhook) and returns the webhook,
// possibly changed, or null to cancel. Input and Result below are the whole
// contract, and contract_test.go pins it.
//
// Scripts are compiled once per version into an LRU of goja programs, and run
// in pooled runtimes kept per (tenant, script version). Each runtime's
// built-ins are frozen when it is created, and every run gets a fresh global
// object and re-runs the script body, so a run never sees state left by an
// earlier run and a tenant never shares a runtime with another. A script
// whose top level only defines what no run can change (reuse.go: the
// DataFast and Slack templates) has it run once per runtime instead. The
// event reaches the script lazily: each JSON object is built member by
// member as the script reads it, from an index made in the one pass that
// checks the payload (lazy.go); the output payload is encoded in Go,
// straight to bytes (output.go).
//
// Limits, and what enforces each:
//   - wall time: a timer per runtime that calls Interrupt, always stopped; regexp2's
//     match timeout for backtracking regexes, which Interrupt cannot reach;
//   - call depth: goja's SetMaxCallStackSize;
//   - memory: size caps on the built-ins that can build a huge value in one
//     native call (see preludeJS), binary buffers removed, and a watchdog
//     that interrupts a run once the process heap has grown past
//     MaxHeapGrowth since it started, charged to the run that allocated
//     (see Run);
//   - BigInt: refused (literals at compile time, the BigInt function at run
//     time), because its arithmetic runs in single native calls that no
//     limit can stop (see bigint.go);
//   - CPU and memory across runs: at most Concurrency delivery runs and
//     PreviewConcurrency preview runs at once, and at most MaxTenantRuns of
//     one tenant in each pool;
//   - source, input, output and console output: size caps.
package transformer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
	"golang.org/x/sync/semaphore"
)

// Error kinds, the values of Error.Kind.
const (
	KindSyntax        = "syntax"         // the script does not compile, or defines no handler
	KindRuntime       = "runtime"        // the script threw
	KindTimeout       = "timeout"        // the run exceeded Options.Timeout
	KindInvalidResult = "invalid_result" // the handler returned something that is not a valid request
	KindLimit         = "limit"          // a size, stack or memory limit was hit
)

// Default limits, used where an Options field is zero.
const (
	DefaultTimeout        = time.Second
	DefaultMaxSourceLen   = 51200
	DefaultMaxInputBytes  = 256 << 10
	DefaultMaxOutputBytes = 256 << 10
	DefaultMaxLogBytes    = 8 << 10
	DefaultMaxCallStack   = 1024
	DefaultCacheSize      = 1024
	DefaultMaxHeapGrowth  = 128 << 20
	DefaultMaxStringLen   = 4 << 20
	DefaultMaxArrayLen    = 1 << 20
)

// Options configure an Engine; zero values mean the documented defaults.
type Options struct {
	Timeout        time.Duration  // wall time per run, default 1s, enforced with goja Interrupt; timer always stopped
	MaxSourceLen   int            // default 51200 characters
	MaxInputBytes  int            // payload JSON size cap, default 256 KiB
	MaxOutputBytes int            // marshalled output payload cap, default 256 KiB
	MaxLogBytes    int            // captured console output cap, default 8 KiB (truncate, note truncation)
	MaxCallStack   int            // goja SetMaxCallStackSize, default 1024
	CacheSize      int            // compiled-program LRU entries, default 1024
	Concurrency    int            // max simultaneous delivery runs (bounded worker slots), default runtime.GOMAXPROCS(0)
	Helpers        map[string]any // extra read-only globals given to every script (e.g. a Go func currencyExponent(code string) int); may be nil

	// MaxIdleRuntimes bounds the pooled idle runtimes across all script
	// versions; the least recently used are dropped first. A hardened runtime
	// holds about 0.75 MiB and costs about 10 ms to build. Default
	// max(64, 4×Concurrency).
	MaxIdleRuntimes int
	// MaxHeapGrowth interrupts a run, as a "limit" fault, once the process's
	// live heap has grown by more than this many bytes since the run started.
	// Default 128 MiB; negative disables the watchdog.
	MaxHeapGrowth int64
	// MaxStringLen caps the result of String.prototype.repeat, padStart,
	// padEnd, replace, Array.prototype.join and JSON.stringify, in UTF-16 code
	// units. Default 4 Mi.
	MaxStringLen int
	// MaxArrayLen caps the length of an array (or array-like) that a native
	// built-in walks, copies or spreads in one call. Default 1 Mi.
	MaxArrayLen int
	// PreviewConcurrency is the number of run slots for previews (runs whose
	// context is marked with AsPreview), a pool apart from the Concurrency
	// slots of deliveries. Default max(2, Concurrency/2).
	PreviewConcurrency int
	// MaxTenantRuns caps one tenant's simultaneous runs in each pool, so
	// that one tenant's slow scripts slow only that tenant. Default: half of
	// the pool, at least one.
	MaxTenantRuns int
}

func (o *Options) setDefaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxSourceLen <= 0 {
		o.MaxSourceLen = DefaultMaxSourceLen
	}
	if o.MaxInputBytes <= 0 {
		o.MaxInputBytes = DefaultMaxInputBytes
	}
	if o.MaxOutputBytes <= 0 {
		o.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if o.MaxLogBytes <= 0 {
		o.MaxLogBytes = DefaultMaxLogBytes
	}
	if o.MaxCallStack <= 0 {
		o.MaxCallStack = DefaultMaxCallStack
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	if o.MaxIdleRuntimes <= 0 {
		o.MaxIdleRuntimes = max(64, 4*o.Concurrency)
	}
	if o.MaxHeapGrowth == 0 {
		o.MaxHeapGrowth = DefaultMaxHeapGrowth
	}
	if o.MaxStringLen <= 0 {
		o.MaxStringLen = DefaultMaxStringLen
	}
	if o.MaxArrayLen <= 0 {
		o.MaxArrayLen = DefaultMaxArrayLen
	}
	if o.PreviewConcurrency <= 0 {
		o.PreviewConcurrency = max(2, o.Concurrency/2)
	}
}

// tenantCap is the per-tenant cap in a pool of size slots.
func (o *Options) tenantCap(size int) int {
	if o.MaxTenantRuns > 0 {
		return o.MaxTenantRuns
	}
	return max(1, size/2)
}

// Engine compiles and runs transform scripts. It is safe for concurrent use;
// create one per process and share it.
type Engine struct {
	opts       Options
	helpers    []helper
	deliveries *slotPool
	previews   *slotPool
	progs      *programCache
	pool       *runtimePool
	watch      *heapWatchdog
	// alone is taken with weight 1 by every run, and with soloWeight by a
	// run that must be measured alone (see Run).
	alone *semaphore.Weighted
}

// soloWeight is the weight of a run that has the engine to itself: more
// than all slots of both pools together.
const soloWeight = 1 << 30

// New returns an Engine with opts, defaults filled in. It panics if a helper
// is neither a function nor JSON-encodable, which is a programming error.
//
// New raises regexp2's process-wide match timeout to at least opts.Timeout
// (see boundRegexp); create engines before running scripts.
func New(opts Options) *Engine {
	opts.setDefaults()
	e := &Engine{
		opts:       opts,
		deliveries: newSlotPool(opts.Concurrency, opts.tenantCap(opts.Concurrency)),
		previews:   newSlotPool(opts.PreviewConcurrency, opts.tenantCap(opts.PreviewConcurrency)),
		progs:      newProgramCache(opts.CacheSize),
		pool:       newRuntimePool(opts.MaxIdleRuntimes),
		watch:      newHeapWatchdog(opts.MaxHeapGrowth),
		alone:      semaphore.NewWeighted(soloWeight),
	}
	hs, err := prepareHelpers(opts.Helpers)
	if err != nil {
		panic("transformer.New: " + err.Error())
	}
	e.helpers = hs
	boundRegexp(opts.Timeout)
	return e
}

var regexpTimeoutMu sync.Mutex

// boundRegexp bounds backtracking regexes. goja runs the patterns RE2 cannot
// (lookaround, backreferences) on dlclark/regexp2, in native code the
// Interrupt cannot reach, and it offers no per-runtime match timeout; the only
// knob is regexp2.DefaultMatchTimeout, read when a pattern is compiled. A
// match that times out is reported to the script as "no match", so the
// timeout must never be shorter than the run's own: then a timed-out match
// means the run is past its deadline, and Run reports the run as a timeout
// rather than returning what the script made of the false "no match".
func boundRegexp(d time.Duration) {
	regexpTimeoutMu.Lock()
	defer regexpTimeoutMu.Unlock()
	cur := regexp2.DefaultMatchTimeout
	if cur <= 0 || cur == time.Duration(1<<63-1) || cur < d {
		regexp2.DefaultMatchTimeout = d
	}
}

// Script identifies one version of a merchant's code. Runtimes and cached
// programs are keyed by (TenantID, Code) and never shared across tenants.
type Script struct {
	TenantID string
	Code     string
}

// key is s itself: the code is the version. Map lookups hash and compare it
// (a few hundred nanoseconds at the 51,200-character cap); a digest per run
// cost more than that, and the pooled runtime keeps the code alive anyway.
func (s Script) key() scriptKey {
	return scriptKey{tenant: s.TenantID, code: s.Code}
}

type scriptKey struct {
	tenant string
	code   string
}

// Input is what handler(webhook) receives.
type Input struct {
	Method    string            // usually "POST"
	URL       string            // destination URL
	EventType string            // the envelope's type, e.g. "payment.succeeded"
	Payload   json.RawMessage   // the whole event envelope, raw JSON bytes
	Env       map[string]string // destination variables, read-only for the script
}

// Result is the request the script produced (JSON names are an external API
// contract). When Cancel is true only Logs and DurationMS are set.
type Result struct {
	Cancel     bool              `json:"cancel"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Payload    json.RawMessage   `json:"payload"`
	Logs       []string          `json:"logs"`
	DurationMS float64           `json:"duration_ms"`
}

// Error is a script fault the merchant can act on: a delivery that ends in
// one is a permanent failure until the script is fixed.
type Error struct {
	Kind    string   // "syntax", "runtime", "timeout", "invalid_result", "limit"
	Message string   // what went wrong, e.g. "TypeError: Cannot read property 'x' of undefined"
	Line    int      // 1-based, 0 if unknown
	Column  int      // 1-based, 0 if unknown
	Logs    []string // console output captured before the fault
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("transform ")
	b.WriteString(e.Kind)
	b.WriteString(" error")
	if e.Line > 0 {
		fmt.Fprintf(&b, " at line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// TransientError is a run that could not finish for a reason outside the
// script, so retrying later may well succeed: it is never a script fault. A
// delivery that gets one retries; a preview answers "try again".
type TransientError struct {
	Reason string // what happened, for logs and the attempt record
	Err    error  // the cause, if any (e.g. the context's error)
}

func (e *TransientError) Error() string {
	if e.Err != nil {
		return "transformer: " + e.Reason + ": " + e.Err.Error()
	}
	return "transformer: " + e.Reason
}

func (e *TransientError) Unwrap() error { return e.Err }

// IsTransient reports whether err is (or wraps) a *TransientError.
func IsTransient(err error) bool {
	var te *TransientError
	return errors.As(err, &te)
}

// errMemoryPressure is what runOn returns for a run the heap watchdog
// interrupted while other runs were in flight: the growth it measured may
// not be this run's.
var errMemoryPressure = errors.New("transformer: interrupted by process memory pressure")

// ErrInvalidInput is wrapped by the errors Run returns for an Input the
// caller got wrong (not a script fault): a payload that is not JSON.
var ErrInvalidInput = errors.New("transformer: invalid input")

// Check compiles code without running it: size cap and syntax errors (*Error
// with Line/Column), and that a function `handler` is defined at top level
// (clear *Error otherwise). It is what the admin API calls when a script is
// saved.
func (e *Engine) Check(code string) error {
	_, err := e.compile(code, true)
	return err
}

// Run executes handler(webhook). Script faults return *Error; ctx
// cancellation returns ctx.Err() (wrapped); a run that could not finish for
// a reason outside the script returns *TransientError. Run waits, honouring
// ctx, for one of the tenant's slots (Options.MaxTenantRuns) and then one of
// the pool's: Options.Concurrency for deliveries, PreviewConcurrency for a
// ctx marked with AsPreview.
//
// Memory is charged to the run that allocates it. goja cannot account memory
// per runtime, so the heap watchdog measures the process; a run it
// interrupts while other runs were in flight is a suspect, not a culprit.
// Run runs a suspect again alone, with no other run in the engine, where
// the process's growth is its own: over the cap there, it is a "limit"
// fault; otherwise its result stands. A suspect that cannot get the engine to
// itself before ctx ends gets a *TransientError, never a script fault.
func (e *Engine) Run(ctx context.Context, s Script, in Input) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("transformer: run not started: %w", err)
	}
	if len(in.Payload) > e.opts.MaxInputBytes {
		return Result{}, &Error{Kind: KindLimit, Message: fmt.Sprintf("event payload is %d bytes, over the %d-byte input limit", len(in.Payload), e.opts.MaxInputBytes)}
	}
	slots := e.deliveries
	if isPreview(ctx) {
		slots = e.previews
	}
	held, err := slots.acquire(ctx, s.TenantID)
	if err != nil {
		return Result{}, fmt.Errorf("transformer: waiting for a run slot: %w", err)
	}
	defer slots.release(held)

	res, err := e.runScript(ctx, s, in, 1)
	if errors.Is(err, errMemoryPressure) {
		res, err = e.runScript(ctx, s, in, soloWeight)
	}
	if err == nil { // every caller shows {} and [], never null
		if res.Headers == nil {
			res.Headers = map[string]string{}
		}
		if res.Logs == nil {
			res.Logs = []string{}
		}
	}
	return res, err
}

// runScript runs s once, holding weight of e.alone: 1 to run beside others,
// soloWeight to run alone.
func (e *Engine) runScript(ctx context.Context, s Script, in Input, weight int64) (Result, error) {
	key := s.key()
	rt := e.pool.get(key)
	if rt == nil {
		prog, err := e.program(key, s.Code)
		if err != nil {
			return Result{}, err
		}
		rt, err = e.newRuntime(prog)
		if err != nil {
			return Result{}, err
		}
	}
	if err := e.alone.Acquire(ctx, weight); err != nil {
		e.pool.put(key, rt)
		if weight == soloWeight {
			return Result{}, &TransientError{Reason: "run interrupted by other runs' memory use, and not re-run alone in time", Err: err}
		}
		return Result{}, fmt.Errorf("transformer: waiting for a run slot: %w", err)
	}
	res, reusable, err := e.runOn(ctx, rt, in, weight == soloWeight)
	e.alone.Release(weight)
	if reusable {
		e.pool.put(key, rt)
	} else if rt.memoryKilled {
		collectAfterKill() // rt is dead from here on
	}
	return res, err
}

// program returns the compiled program for key, compiling and caching it on
// a miss. Two concurrent misses compile twice; the cache keeps one.
func (e *Engine) program(key scriptKey, code string) (*compiled, error) {
	if p := e.progs.get(key); p != nil {
		return p, nil
	}
	p, err := e.compile(code, false)
	if err != nil {
		return nil, err
	}
	e.progs.add(key, p)
	return p, nil
}
