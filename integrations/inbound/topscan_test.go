package inbound

import (
	"bytes"
	"encoding/json"
	"testing"
)

// refTopLevelStrings is what topLevelStrings did before its one-pass
// scanner: json.Unmarshal into a map, then each wanted field as a string.
func refTopLevelStrings(body []byte, names ...string) (map[string]string, bool) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil, false
	}
	out := map[string]string{}
	for _, n := range names {
		var s string
		if raw, ok := fields[n]; ok && json.Unmarshal(raw, &s) == nil {
			out[n] = s
		}
	}
	return out, true
}

// FuzzTopLevelStrings: the one-pass scanner accepts exactly the bodies
// json.Unmarshal accepted (within the depth CheckDepth allows) and reads the
// same values.
func FuzzTopLevelStrings(f *testing.F) {
	for _, s := range []string{
		`{"type":"payment.succeeded","data":{"a":[1,2.5e-3,-0,true,false,null,"x\"y"]}}`,
		`{"type":1,"type":"b"}`, `{"type":"a","type":[1]}`, `{"typ\u0065":"esc\n\u00e9"}`,
		` {"id":"x"} `, `{"id":"x"}x`, `{"id":01}`, `{"id":1.}`, `{"id":"\x"}`, `{"id":"a` + "\x01" + `"}`,
		`{"id":"` + "\xff\xfe" + `"}`, `[1]`, `"s"`, `{}`, `{"a":}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`,
		`{"a":-}`, `{"a":1e}`, `{"a":1e+}`, `{"a":tru}`, `{"a":nul}`, `{"type":"\ud800"}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if CheckDepth(body, DefaultMaxDepth) != nil {
			return
		}
		want, ok := refTopLevelStrings(body, "type", "id", "status")
		got, err := topLevelStrings(body, "type", "id", "status")
		if ok != (err == nil) {
			t.Fatalf("%q: scanner err %v, json.Unmarshal ok %v", body, err, ok)
		}
		for _, n := range []string{"type", "id", "status"} {
			if got[n] != want[n] {
				t.Fatalf("%q: %s = %q, json.Unmarshal read %q", body, n, got[n], want[n])
			}
		}
	})
}
