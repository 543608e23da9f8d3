package inbound

import (
	"strings"
	"testing"
)

func TestPHPJSONWithout(t *testing.T) {
	cases := []struct {
		name, in, want, sign string
		wantErr              string
	}{
		{name: "order kept, whitespace dropped", in: "{ \"b\" : 1 ,\n \"a\" : [ true , false , null ] }", want: `{"b":1,"a":[true,false,null]}`},
		{name: "slashes escaped", in: `{"url":"https://example.com/a/b"}`, want: `{"url":"https:\/\/example.com\/a\/b"}`},
		{name: "already escaped slash", in: `{"url":"a\/b"}`, want: `{"url":"a\/b"}`},
		{name: "unicode left as is", in: `{"s":"Café – 東京 🚀"}`, want: `{"s":"Café – 東京 🚀"}`},
		{name: "escaped unicode written raw", in: `{"s":"Caf\u00e9 \ud83d\ude80"}`, want: `{"s":"Café 🚀"}`},
		{name: "quotes and backslashes", in: `{"s":"a\"b\\c"}`, want: `{"s":"a\"b\\c"}`},
		{name: "control characters", in: `{"s":"\b\f\n\r\t\u0001\u001F\u007f"}`, want: "{\"s\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"}"},
		{name: "line terminators escaped", in: "{\"s\":\"a\u2028b\u2029c\"}", want: `{"s":"a\u2028b\u2029c"}`},
		{name: "numbers keep their text", in: `{"a":15.00,"b":-0,"c":1e3,"d":12345678901234567890}`, want: `{"a":15.00,"b":-0,"c":1e3,"d":12345678901234567890}`},
		{name: "empty object is a PHP empty array", in: `{"a":{},"b":[]}`, want: `{"a":[],"b":[]}`},
		{name: "sign removed wherever it is", in: `{"a":"1","sign":"abc","b":"2"}`, want: `{"a":"1","b":"2"}`, sign: "abc"},
		{name: "nested sign kept", in: `{"a":{"sign":"x"},"sign":"abc"}`, want: `{"a":{"sign":"x"}}`, sign: "abc"},
		{name: "only sign", in: `{"sign":"abc"}`, want: `[]`, sign: "abc"},
		{name: "escaped key", in: `{"a\/b":"c"}`, want: `{"a\/b":"c"}`},
		{name: "repeated key", in: `{"a":1,"a":2}`, wantErr: "repeats"},
		{name: "repeated nested key", in: `{"x":{"a":1,"a":2}}`, wantErr: "repeats"},
		{name: "sign not a string", in: `{"sign":1}`, wantErr: "string"},
		{name: "array", in: `[1]`, wantErr: "object"},
		{name: "not JSON", in: `sign=abc`, wantErr: "JSON"},
		{name: "truncated", in: `{"a":`, wantErr: "JSON"},
		{name: "trailing data", in: `{"a":1}{"b":2}`, wantErr: "after"},
		{name: "invalid UTF-8", in: "{\"a\":\"\xff\"}", wantErr: "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, sign, found, err := phpJSONWithout([]byte(tc.in), "sign", 0)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Fatalf("got  %s\nwant %s", out, tc.want)
			}
			if sign != tc.sign || found != (tc.sign != "") {
				t.Fatalf("sign = %q (found %v), want %q", sign, found, tc.sign)
			}
		})
	}
}
