package transformer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dop251/goja"
)

// decodeJSON must give exactly what JSON.parse gives, or send the input to
// JSON.parse.
func TestDecodeJSONMatchesJSONParse(t *testing.T) {
	vm := goja.New()
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	// describe renders a value with the details stringify hides.
	describeV, err := vm.RunString(`(function d(v) {
  if (Object.is(v, -0)) return '-0';
  if (Array.isArray(v)) return '[' + v.map(d).join(',') + ']';
  if (v !== null && typeof v === 'object') return '{' + Object.getOwnPropertyNames(v).map((k) => JSON.stringify(k) + ':' + d(v[k])).join(',') + '}|' + (Object.getPrototypeOf(v) === Object.prototype);
  return typeof v + ':' + JSON.stringify(v);
})`)
	if err != nil {
		t.Fatal(err)
	}
	describe, _ := goja.AssertFunction(describeV)
	inputs := []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `-0.0`, `1.5e3`, `1E-7`, `12345678901234567890`, `-9223372036854775808`,
		`9223372036854775807`, `9223372036854775808`, `0.1`, `123.456e-2`,
		`"plain"`, `"esc \" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"`, `"é😀"`, `"\u2028"`,
		` { "a" : [ 1 , 2 , { "b" : null } ] , "a" : "dup" } `, `{"__proto__":{"x":1},"constructor":1,"toString":"s","hasOwnProperty":2}`,
		`[[[[[]]]]]`, `{"z":1,"y":2,"10":3,"2":4}`,
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "dodo", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		want, err := parse(goja.Undefined(), vm.ToValue(in))
		if err != nil {
			t.Fatalf("JSON.parse(%s): %v", in, err)
		}
		got, err := decodeJSON(vm, []byte(in))
		if err != nil {
			t.Errorf("decodeJSON(%.60s): %v", in, err)
			continue
		}
		dw, _ := describe(goja.Undefined(), want)
		dg, _ := describe(goja.Undefined(), got)
		sw, _ := stringify(goja.Undefined(), want)
		sg, _ := stringify(goja.Undefined(), got)
		if dw.String() != dg.String() || sw.String() != sg.String() {
			t.Errorf("input %.80s\n got %s\nwant %s", in, dg, dw)
		}
	}

	for _, bad := range []string{``, ` `, `{`, `[1,]`, `{"a":1,}`, `01`, `+1`, `.5`, `1.`, `1e`, `tru`, `nul`, `"a`, "\"a\tb\"", `"\x"`,
		`"\u12"`, `{"a" 1}`, `{a:1}`, `[1 2]`, `1 2`, "\"\xff\"", `"\uD800"`, `"\uDC00\uD800"`, `NaN`, `'a'`, `1e999`} {
		if _, err := decodeJSON(vm, []byte(bad)); err == nil {
			t.Errorf("decodeJSON(%q) accepted invalid or non-Go-representable input", bad)
		}
	}
}

// Lone surrogates are valid JSON that only JSON.parse can represent; Run
// falls back to it.
func TestRunFallsBackToJSONParse(t *testing.T) {
	e := New(Options{})
	res := mustRun(t, e, `function handler(w) { w.payload = w.payload.s.length; return w }`, simpleInput(`{"s":"\uD800x"}`))
	if string(res.Payload) != "2" {
		t.Errorf("payload %s", res.Payload)
	}
}
