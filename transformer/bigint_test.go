package transformer

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// peakRSS is the process's peak resident set so far, in bytes (0 if the
// platform does not say).
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10 // KiB on Linux
}

// Every BigInt literal is refused when the script is saved, wherever it
// sits, before goja's compiler can fold a constant expression such as
// 7n ** 30000000n outside every run limit.
func TestBigIntLiteralsRefusedAtSave(t *testing.T) {
	e := New(Options{})
	cases := []struct {
		name, code string
		line, col  int
	}{
		{"small literal", "function handler(w) { w.payload = 1n; return w }", 1, 35},
		{"folded constant", "const x = 7n ** 30000000n;\nfunction handler(w) { return w }", 1, 11},
		{"folded shift", "function handler(w) {\n  w.payload = String(1n << 8000000000n);\n  return w\n}", 2, 22},
		{"nested fold", "function handler(w) { const f = () => [((2n * 3n) ** (10n ** 7n))]; return w }", 1, 42},
		{"hex", "const x = 0xffn;\nfunction handler(w) { return w }", 1, 11},
		{"octal", "const x = 0o7n;\nfunction handler(w) { return w }", 1, 11},
		{"binary", "const x = 0b1n;\nfunction handler(w) { return w }", 1, 11},
		{"template", "function handler(w) { w.payload = `${2n ** 64n}`; return w }", 1, 38},
		{"default parameter", "function handler(w, n = 5n) { return w }", 1, 25},
		{"destructuring default", "function handler(w) { const { a = 1n } = {}; return w }", 1, 35},
		{"computed key", "function handler(w) { w.payload = { [1n]: 1 }; return w }", 1, 38},
		{"class field", "class A { static x = 1n ** 99999999n }\nfunction handler(w) { return w }", 1, 22},
		{"switch case", "function handler(w) { switch (w) { case 3n: break } return w }", 1, 41},
		{"object key", "function handler(w) { w.payload = ({ 1n: 1 }); return w }", 1, 38},
		{"method name", "class A { 1n() {} }\nfunction handler(w) { return w }", 1, 11},
		{"separators", "function handler(w) { w.payload = 1_000n; return w }", 1, 35},
		{"unary", "function handler(w) { w.payload = -(~9n); return w }", 1, 38},
	}
	// The parser reads a literal's digits before the refusal: the longest
	// one the source cap allows costs little.
	huge := "const x = " + strings.Repeat("9", DefaultMaxSourceLen-64) + "n;\nfunction handler(w) { return w }"
	cases = append(cases, struct {
		name, code string
		line, col  int
	}{"longest literal", huge, 1, 11})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start, rss := time.Now(), peakRSS()
			err := e.Check(c.code)
			se := scriptError(t, err, KindSyntax)
			if !strings.HasPrefix(se.Message, bigIntRefusal+": line ") || se.Line != c.line || se.Column != c.col {
				t.Errorf("got %q at %d:%d, want the BigInt refusal at %d:%d", se.Message, se.Line, se.Column, c.line, c.col)
			}
			// A script saved before the refusal existed is refused again
			// when a delivery compiles it.
			_, err = run(t, e, c.code, simpleInput(`{}`))
			scriptError(t, err, KindSyntax)
			t.Logf("refused in %v; peak RSS %d MiB (was %d MiB)", time.Since(start).Round(time.Microsecond), peakRSS()>>20, rss>>20)
			if grown := peakRSS() - rss; grown > DefaultMaxHeapGrowth {
				t.Errorf("peak RSS grew by %d MiB", grown>>20)
			}
		})
	}
}

// No run-time path makes a first BigInt: the BigInt function throws, the
// 64-bit typed arrays and DataView are gone, code generation is disabled and
// JSON makes numbers. Without a first BigInt no operator can grow one.
func TestNoRuntimeSourceOfBigInt(t *testing.T) {
	e := New(Options{Timeout: 2 * time.Second})
	cases := map[string]struct{ expr, want string }{
		"BigInt()":            {`BigInt(w.payload.x) << (BigInt(w.payload.x) * 8000000000)`, bigIntRefusal},
		"BigInt(string)":      {`BigInt('7') ** BigInt('30000000')`, bigIntRefusal},
		"new BigInt":          {`new BigInt(1)`, bigIntRefusal},
		"Object(BigInt())":    {`Object(BigInt(1))`, bigIntRefusal},
		"Reflect.apply":       {`Reflect.apply(BigInt, null, [1])`, bigIntRefusal},
		"computed name":       {`globalThis['Big' + 'Int'](1)`, bigIntRefusal},
		"asIntN":              {`BigInt.asIntN(64, 1)`, "no member 'asIntN'"},
		"BigInt64Array":       {`new BigInt64Array(1)[0]`, "BigInt64Array is not defined"},
		"BigUint64Array":      {`new BigUint64Array(1)[0]`, "BigUint64Array is not defined"},
		"DataView":            {`new DataView(new ArrayBuffer(8)).getBigInt64(0)`, "DataView is not defined"},
		"eval":                {`eval('7n ** 30000000n')`, "eval is not defined"},
		"Function":            {`Function('return 7n ** 30000000n')()`, "code generation from strings is disabled"},
		"constructor chain":   {`(() => {}).constructor('return 1n')()`, "code generation from strings is disabled"},
		"generator ctor":      {`Object.getPrototypeOf(function* () {}).constructor('yield 1n')`, "code generation from strings is disabled"},
		"async function ctor": {`Object.getPrototypeOf(async function () {}).constructor('return 1n')`, "code generation from strings is disabled"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			start, rss := time.Now(), peakRSS()
			_, err := run(t, e, `function handler(w) { w.payload = `+c.expr+`; return w }`, simpleInput(`{"x":1}`))
			se := scriptError(t, err, KindRuntime)
			if !strings.Contains(se.Message, c.want) {
				t.Errorf("got %q, want it to say %q", se.Message, c.want)
			}
			t.Logf("%s after %v; peak RSS %d MiB (was %d MiB)", se.Message, time.Since(start).Round(time.Microsecond), peakRSS()>>20, rss>>20)
			if grown := peakRSS() - rss; grown > DefaultMaxHeapGrowth {
				t.Errorf("peak RSS grew by %d MiB", grown>>20)
			}
		})
	}
	// JSON makes numbers, never BigInts, however large the integer.
	res := mustRun(t, e, `function handler(w) {
  w.payload = [typeof JSON.parse('123456789012345678901234567890'), typeof w.payload.big];
  return w;
}`, simpleInput(`{"big":123456789012345678901234567890}`))
	if string(res.Payload) != `["number","number"]` {
		t.Errorf("payload %s", res.Payload)
	}
	stillWorks(t, e)
}
