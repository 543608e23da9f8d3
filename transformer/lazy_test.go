package transformer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// probe does to an object what scripts do (read, enumerate, spread,
// stringify, write, delete), at every level, and records what it saw.
const probe = `function handler(w) {
  const probe = (o, depth) => {
    const out = [];
    out.push(JSON.stringify(o), Object.keys(o).join('|'), typeof o, Object.prototype.toString.call(o));
    const seen = []; for (const k in o) seen.push(k); out.push(seen.join('|'));
    out.push(JSON.stringify({ ...o }), JSON.stringify(Object.entries(o)), Object.getOwnPropertyNames(o).length);
    for (const k of Object.keys(o)) {
      const v = o[k];
      out.push(k, v === o[k], o.hasOwnProperty(k), k in o, JSON.stringify(Object.getOwnPropertyDescriptor(o, k)));
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 4) out.push(probe(v, depth + 1));
      if (Array.isArray(v)) {
        out.push('array', v.length);
        for (const x of v) if (x !== null && typeof x === 'object' && !Array.isArray(x)) out.push(probe(x, depth + 1));
      }
    }
    out.push(o.missing, 'missing' in o, o.toString === Object.prototype.toString, o.constructor === Object);
    o.added = 1; o['7'] = 'seven'; o.added = 2; o.undef = undefined;
    const first = Object.keys(o)[0];
    delete o[first]; delete o.nothing;
    out.push(JSON.stringify(o), Object.keys(o).join('|'), first in o, o.undef, 'undef' in o);
    return out;
  };
  w.payload = [probe(w.payload, 0), probe(JSON.parse(w.env.RAW), 0)];
  return w;
}`

// The lazy payload behaves as the object JSON.parse builds, on every
// sample event and on the JSON that differs from the common case.
func TestLazyPayloadMatchesJSONParse(t *testing.T) {
	e := New(Options{Timeout: 30 * time.Second}) // correctness, not speed: a loaded CI machine must not time it out
	payloads := map[string]string{
		"index keys":      `{"b":1,"2":2,"1":3,"a":4,"01":5,"4294967295":6,"4294967294":7}`,
		"duplicate keys":  `{"a":1,"b":2,"a":{"c":3}}`,
		"proto key":       `{"__proto__":{"x":1},"y":2}`,
		"escapes":         `{"k\u00e9y":"v\n\"\u00e9\ud83d\ude00","":"empty","a\\b":null}`,
		"nested arrays":   `{"a":[{"b":[{"c":1}]},[1,[2,{"d":true}]],[],{}],"e":{}}`,
		"numbers":         `{"i":9007199254740993,"f":1.5e300,"n":-0,"z":0,"e":1E2,"neg":-12.5}`,
		"empty":           `{}`,
		"many keys":       manyKeys(40),
		"lone surrogate":  `{"s":"\ud800"}`, // not lazy: JSON.parse's path
		"deep":            strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 300),
		"whitespace":      " \n{ \"a\" : [ 1 , { \"b\" : 2 } ] } \t",
		"keys like index": `{"-1":1,"1.5":2,"10":3,"9":4}`,
	}
	files, err := filepath.Glob(filepath.Join("..", "testdata", "dodo", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("sample events: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		payloads[filepath.Base(f)] = string(b)
	}
	for name, raw := range payloads {
		t.Run(name, func(t *testing.T) {
			in := simpleInput(raw)
			in.Env = map[string]string{"RAW": raw}
			res := mustRun(t, e, probe, in)
			var got [2]json.RawMessage
			if err := json.Unmarshal(res.Payload, &got); err != nil {
				t.Fatal(err)
			}
			if string(got[0]) != string(got[1]) {
				t.Errorf("the payload and JSON.parse differ:\n payload    %s\n JSON.parse %s", got[0], got[1])
			}
		})
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + `":{"n":` + string(rune('0'+i%10)) + `}`)
	}
	b.WriteString(`,"ka":"dup"}`)
	return b.String()
}

// A script cannot freeze a lazy object (goja's DynamicObject), and says so
// with a TypeError, as with any object that refuses to be frozen.
func TestLazyPayloadFreeze(t *testing.T) {
	e := New(Options{Timeout: 30 * time.Second}) // correctness, not speed: a loaded CI machine must not time it out
	_, err := run(t, e, `function handler(w) { Object.freeze(w.payload); return w }`, simpleInput(`{"a":1}`))
	se := scriptError(t, err, KindRuntime)
	if !strings.Contains(se.Message, "TypeError") {
		t.Errorf("got %v", se)
	}
}

// Finding the members of a big object is linear: ten thousand index keys,
// in descending order, cost one sort, not ten thousand insertions.
func TestLazyPayloadManyIndexKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := 9999; i >= 0; i-- {
		if i < 9999 {
			b.WriteString(",")
		}
		b.WriteString(`"` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
	}
	b.WriteString(`,"x":1}`)
	e := New(Options{Timeout: 30 * time.Second}) // correctness, not speed: a loaded CI machine must not time it out
	res := mustRun(t, e, `function handler(w) {
  const k = Object.keys(w.payload);
  w.payload = [k.length, k[0], k[1], k[9999], k[10000], w.payload['5000']];
  return w;
}`, simpleInput(b.String()))
	if string(res.Payload) != `[10001,"0","1","9999","x",5000]` {
		t.Errorf("got %s", res.Payload)
	}
}
