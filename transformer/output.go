package transformer

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// payloadEncoder writes the script's output payload as JSON, straight from
// goja values into a byte buffer that the runtime keeps between runs. It
// gives the bytes JSON.stringify(payload) would give (same key order, same
// numbers, same escapes, toJSON and boxed primitives honoured, the same
// TypeErrors), without a replacer call per value, a JS string of the result,
// and its conversion back to Go.
//
// The prelude calls it, inside the run's guarded call, as the last step of
// run(): a getter or toJSON it triggers runs as script code, under the run's
// interrupt, and what they throw is thrown to the prelude. Its own loops
// are bounded as JSON.stringify's guard bounds them: arrays longer than
// MaxArrayLen are refused before they are walked, the output stops at
// MaxStringLen bytes, and nesting at maxOutputDepth.
//
// One difference, made an error rather than a silent change: goja hands
// property names to Go as UTF-8, so a name holding a lone surrogate cannot
// be read back; such an object is refused with a TypeError instead of
// losing the member.
type payloadEncoder struct {
	vm    *goja.Runtime
	buf   []byte
	stack []*goja.Object
	// deep holds the objects on the stack below its first shallowStack, so
	// that the circular-structure check stays O(1) however deep the payload
	// nests (a scan of 4,096 levels per object took seconds).
	deep map[*goja.Object]struct{}
	// stopped is the run's stop flag (jsRuntime.stopped): goja's interrupt
	// cannot reach this Go code, so it looks every stopCheckEvery objects.
	stopped    *atomic.Bool
	visited    int
	maxStr     int
	maxArr     int64
	rangeError goja.Value    // the RangeError constructor, for the size caps
	isArray    goja.Callable // Array.isArray, for proxies
}

// maxOutputDepth bounds the nesting of an output payload, so that the
// encoder's recursion stays small.
const maxOutputDepth = 4096

// shallowStack is how many levels of the stack the circular-structure check
// scans; the objects below them are in a set (payloadEncoder.deep).
const shallowStack = 16

// stopCheckEvery is how many objects the encoder (and the stringify guard)
// writes between two looks at the run's stop flag.
const stopCheckEvery = 256

// errRunStopped is thrown in a run's Go code once its time is up or it was
// cancelled; Run reports the run as the timeout or cancellation it is.
var errRunStopped = errors.New("the run was stopped (time limit or cancellation)")

var (
	bigIntType = reflect.TypeOf((*big.Int)(nil))
	stringType = reflect.TypeOf("")
)

func newPayloadEncoder(vm *goja.Runtime, maxStr, maxArr int, stopped *atomic.Bool) *payloadEncoder {
	isArray, _ := goja.AssertFunction(vm.Get("Array").ToObject(vm).Get("isArray"))
	return &payloadEncoder{vm: vm, maxStr: maxStr, maxArr: int64(maxArr), rangeError: vm.Get("RangeError"), isArray: isArray,
		stopped: stopped, deep: map[*goja.Object]struct{}{}}
}

// encode is the prelude's encodePayload(value): it fills buf and returns
// true, or returns false when value encodes to nothing (undefined, a
// function, a symbol), as JSON.stringify returns undefined.
func (e *payloadEncoder) encode(call goja.FunctionCall) goja.Value {
	e.buf, e.stack, e.visited = e.buf[:0], e.stack[:0], 0
	clear(e.deep)
	return e.vm.ToValue(e.value(call.Argument(0), "", nil))
}

// bytes returns the last encoded payload; valid until the next encode or
// trim.
func (e *payloadEncoder) bytes() []byte { return e.buf }

// maxKeptOutput bounds the buffer a runtime keeps between runs, so that one
// huge payload does not stay in memory in every idle runtime.
const maxKeptOutput = 64 << 10

// trim drops what the last encode left: the buffer if it grew past
// maxKeptOutput, and the objects it visited.
func (e *payloadEncoder) trim() {
	if cap(e.buf) > maxKeptOutput {
		e.buf = nil
	}
	clear(e.stack[:cap(e.stack)])
	e.stack = e.stack[:0]
	clear(e.deep)
}

func (e *payloadEncoder) tooLong(what string) {
	o, err := e.vm.New(e.rangeError, e.vm.ToValue(what+" "+sizeLimitMarker))
	if err != nil {
		panic(err)
	}
	panic(o)
}

// value writes v, the value of property key (index for array elements) of
// its holder, following SerializeJSONProperty. keyVal is the key as a JS
// value if the caller has one. It reports whether anything was written.
func (e *payloadEncoder) value(v goja.Value, key string, keyVal goja.Value) bool {
	if o, ok := v.(*goja.Object); ok {
		if f, ok := goja.AssertFunction(o.Get("toJSON")); ok {
			if keyVal == nil {
				keyVal = e.vm.ToValue(key)
			}
			r, err := f(o, keyVal)
			if err != nil {
				panic(err) // rethrown to the script as it was thrown
			}
			v = r
		}
	}
	if o, ok := v.(*goja.Object); ok && o.ExportType() != proxyType {
		switch o.ClassName() {
		case "Object": // a boxed Symbol or BigInt has this class
			switch o.ExportType() {
			case stringType:
				return false
			case bigIntType:
				panic(e.vm.NewTypeError("Do not know how to serialize a BigInt"))
			}
		case "Number":
			v = o.ToNumber()
		case "String":
			v = o.ToString()
		case "Boolean":
			b, _ := o.Export().(bool)
			v = e.vm.ToValue(b)
		}
	}
	switch x := v.(type) {
	case nil:
		return false
	case goja.String:
		e.quote(x)
	case *goja.Symbol:
		return false
	case *goja.Object:
		return e.object(x)
	default:
		switch {
		case goja.IsUndefined(v):
			return false
		case goja.IsNull(v):
			e.buf = append(e.buf, "null"...)
		default:
			t := v.ExportType()
			switch {
			case t == nil:
				return false
			case t == bigIntType:
				panic(e.vm.NewTypeError("Do not know how to serialize a BigInt"))
			case t.Kind() == reflect.Bool:
				e.buf = strconv.AppendBool(e.buf, v.ToBoolean())
			case t.Kind() == reflect.Int64:
				e.buf = append(e.buf, v.String()...)
			case t.Kind() == reflect.Float64:
				if f := v.ToFloat(); math.IsNaN(f) || math.IsInf(f, 0) {
					e.buf = append(e.buf, "null"...)
				} else {
					e.buf = append(e.buf, v.String()...)
				}
			default:
				return false
			}
		}
	}
	if len(e.buf) > e.maxStr {
		e.tooLong("JSON.stringify result")
	}
	return true
}

var proxyType = reflect.TypeOf(goja.Proxy{})

// isProxiedArray is Array.isArray for a proxy, which looks through to the
// proxy's target.
func (e *payloadEncoder) isProxiedArray(o *goja.Object) bool {
	r, err := e.isArray(goja.Undefined(), o)
	if err != nil {
		panic(err) // a revoked proxy: TypeError, as JSON.stringify throws
	}
	return r.ToBoolean()
}

// object writes an array or a plain object; a function writes nothing.
func (e *payloadEncoder) object(o *goja.Object) bool {
	class := o.ClassName()
	if class == "RawJSON" {
		e.buf = append(e.buf, o.Get("rawJSON").String()...)
		return true
	}
	if e.visited++; e.visited%stopCheckEvery == 0 && e.stopped != nil && e.stopped.Load() {
		panic(e.vm.NewGoError(errRunStopped))
	}
	for _, s := range e.stack[:min(len(e.stack), shallowStack)] {
		if s == o {
			panic(e.vm.NewTypeError("Converting circular structure to JSON"))
		}
	}
	if _, ok := e.deep[o]; ok {
		panic(e.vm.NewTypeError("Converting circular structure to JSON"))
	}
	if _, ok := goja.AssertFunction(o); ok {
		return false
	}
	if len(e.stack) >= maxOutputDepth {
		e.tooLong("JSON.stringify nesting depth")
	}
	if len(e.stack) >= shallowStack {
		e.deep[o] = struct{}{}
	}
	e.stack = append(e.stack, o)
	if class == "Array" || o.ExportType() == proxyType && e.isProxiedArray(o) {
		e.array(o)
	} else {
		e.members(o)
	}
	e.stack = e.stack[:len(e.stack)-1]
	if len(e.stack) >= shallowStack {
		delete(e.deep, o)
	}
	return true
}

func (e *payloadEncoder) array(o *goja.Object) {
	n := toLength(o.Get("length"))
	if n > e.maxArr {
		e.tooLong("JSON.stringify array length")
	}
	e.buf = append(e.buf, '[')
	for i := int64(0); i < n; i++ {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		k := strconv.FormatInt(i, 10)
		if !e.value(o.Get(k), k, nil) {
			e.buf = append(e.buf, "null"...)
		}
	}
	e.buf = append(e.buf, ']')
}

func (e *payloadEncoder) members(o *goja.Object) {
	e.buf = append(e.buf, '{')
	empty := true
	for _, k := range o.Keys() {
		mark := len(e.buf)
		if !empty {
			e.buf = append(e.buf, ',')
		}
		e.quoteGo(k)
		e.buf = append(e.buf, ':')
		v := o.Get(k)
		if v == nil && strings.ContainsRune(k, utf8.RuneError) {
			panic(e.vm.NewTypeError("payload has a property name that is not valid UTF-16"))
		}
		if e.value(v, k, nil) {
			empty = false
		} else {
			e.buf = e.buf[:mark]
		}
	}
	e.buf = append(e.buf, '}')
}

// toLength is ES ToLength of an array's length.
func toLength(v goja.Value) int64 {
	if v == nil {
		return 0
	}
	f := v.ToFloat()
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	return int64(min(math.Trunc(f), 1<<53-1))
}

// quote writes s as a JSON string the way JSON.stringify does: lone
// surrogates escaped, everything else from U+0020 up as it is.
func (e *payloadEncoder) quote(s goja.String) {
	g := s.String()
	if !strings.ContainsRune(g, utf8.RuneError) {
		e.quoteGo(g)
		return
	}
	// The Go string may hide lone surrogates as U+FFFD: walk the UTF-16.
	e.buf = append(e.buf, '"')
	n := s.Length()
	for i := 0; i < n; i++ {
		c := rune(s.CharAt(i))
		if utf16.IsSurrogate(c) {
			if c < 0xdc00 && i+1 < n {
				if c2 := rune(s.CharAt(i + 1)); c2 >= 0xdc00 && c2 <= 0xdfff {
					e.buf = utf8.AppendRune(e.buf, utf16.DecodeRune(c, c2))
					i++
					continue
				}
			}
			e.buf = append(e.buf, '\\', 'u', hexDigits[c>>12], hexDigits[(c>>8)&0xf], hexDigits[(c>>4)&0xf], hexDigits[c&0xf])
			continue
		}
		e.appendRune(c)
	}
	e.buf = append(e.buf, '"')
}

const hexDigits = "0123456789abcdef"

// quoteGo writes a valid UTF-8 string as a JSON string.
func (e *payloadEncoder) quoteGo(s string) {
	e.buf = append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			e.buf = append(e.buf, s[start:i]...)
			e.appendRune(rune(c))
			start = i + 1
		}
	}
	e.buf = append(e.buf, s[start:]...)
	e.buf = append(e.buf, '"')
}

func (e *payloadEncoder) appendRune(c rune) {
	switch c {
	case '"', '\\':
		e.buf = append(e.buf, '\\', byte(c))
	case '\b':
		e.buf = append(e.buf, '\\', 'b')
	case '\t':
		e.buf = append(e.buf, '\\', 't')
	case '\n':
		e.buf = append(e.buf, '\\', 'n')
	case '\f':
		e.buf = append(e.buf, '\\', 'f')
	case '\r':
		e.buf = append(e.buf, '\\', 'r')
	default:
		if c < 0x20 {
			e.buf = append(e.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		} else {
			e.buf = utf8.AppendRune(e.buf, c)
		}
	}
}
