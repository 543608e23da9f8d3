package transformer

import (
	"encoding/json"
	"testing"
)

// Go functions given to scripts print like built-ins, by their script
// name, never by their Go symbol, however a script stringifies them.
func TestGoFunctionsPrintAsNative(t *testing.T) {
	e := New(Options{Helpers: map[string]any{
		"toMajorUnits":     func(amount int64, code string) float64 { return float64(amount) / 100 },
		"currencyExponent": func(code string) int { return 2 },
	}})
	res := mustRun(t, e, `function handler(w) {
  const out = {};
  for (const [name, f] of [['toMajorUnits', toMajorUnits], ['currencyExponent', currencyExponent], ['log', console.log], ['error', console.error]]) {
    out[name] = [String(f), f + '', f.toString(), Function.prototype.toString.call(f), `+"`${f}`"+`, f.name];
  }
  w.payload = out;
  return w;
}`, simpleInput(`{}`))
	var got map[string][]string
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("payload %s", res.Payload)
	}
	for name, forms := range got {
		want := "function " + name + "() { [native code] }"
		for i, s := range forms[:5] {
			if s != want {
				t.Errorf("%s, form %d: %q, want %q", name, i, s, want)
			}
		}
		if forms[5] != name {
			t.Errorf("%s.name is %q", name, forms[5])
		}
	}
}
