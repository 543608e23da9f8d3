package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// phpJSONWithout re-encodes a JSON object the way PHP's
//
//	json_encode(json_decode($body, true), JSON_UNESCAPED_UNICODE)
//
// does, leaving out the top-level member named omit and returning its string
// value. Cryptomus signs that re-encoding, not the bytes it sends, so the
// verifier must rebuild it exactly:
//
//   - Key order is kept as received; whitespace is dropped.
//   - "/" is escaped as "\/" (PHP's default; no JSON_UNESCAPED_SLASHES).
//   - Non-ASCII text is written as UTF-8, not \uXXXX: Cryptomus' PHP code and
//     the verification snippet of its documentation pass JSON_UNESCAPED_UNICODE.
//     U+2028 and U+2029 are still escaped, as PHP ≥ 7.1 does without
//     JSON_UNESCAPED_LINE_TERMINATORS. Other control characters become
//     \b \f \n \r \t or \u00xx (lower-case hex), as in PHP.
//   - An empty object becomes "[]": json_decode(..., true) turns {} into an
//     empty PHP array, which json_encode writes as a list.
//
// Known differences from PHP, which Cryptomus' own bodies (strings for every
// amount, no numeric keys) do not hit: numbers keep their literal text where
// PHP would reformat floats and overflowing integers, and an object whose
// keys are "0".."n-1" stays an object where PHP would write a list.
//
// The body's nesting is bounded by maxDepth (0: DefaultMaxDepth) before
// anything is decoded: the encoder recurses once per level, and this runs
// before the signature is checked. For the same reason its work is three
// linear passes (depth, json.Valid, the rewrite) with a number of allocations
// that does not grow with the number of members (~20 ms for the worst 1 MiB).
//
// The input must be valid UTF-8 and may not repeat a key: PHP would keep the
// last value at the first position, and other parsers differ, so a repeated
// key would let the signed text and the fields we read disagree.
func phpJSONWithout(body []byte, omit string, maxDepth int) (out []byte, omitted string, found bool, err error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if err := CheckDepth(body, maxDepth); err != nil {
		return nil, "", false, err
	}
	if !utf8.Valid(body) {
		return nil, "", false, errors.New("body is not valid UTF-8")
	}
	if !json.Valid(body) {
		return nil, "", false, notJSON(body)
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return nil, "", false, errors.New("body must be a JSON object")
	}
	e := phpEncoder{in: body, maxDepth: maxDepth}
	e.out.Grow(len(body))
	if _, err := e.object(i, omit, &omitted, &found); err != nil {
		return nil, "", false, err
	}
	return e.out.Bytes(), omitted, found, nil
}

// notJSON says why body is not one JSON value; only called on the error path.
func notJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("body is not JSON: %v", err)
	}
	return errors.New("unexpected data after the JSON object")
}

// phpEncoder rewrites JSON that json.Valid accepted, byte by byte: one pass,
// no token values, no allocation per member beyond the key set of objects
// with more than a few keys. This runs before the signature is checked, so
// its cost per byte is what an unauthenticated caller can spend.
type phpEncoder struct {
	in       []byte
	out      bytes.Buffer
	scratch  []byte // a string's decoded text, when it has escapes
	keys     []byte // decoded escaped keys, appended and never overwritten (at most the body's size)
	depth    int    // levels open
	maxDepth int    // a second guard behind CheckDepth: recursion stops here
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func (e *phpEncoder) enter() error {
	if e.depth++; e.depth > e.maxDepth {
		return &DepthError{Max: e.maxDepth}
	}
	return nil
}

// smallKeys is how many keys an object checks for repeats by linear search
// before it builds a map.
const smallKeys = 8

// object encodes the object whose '{' is at i and returns the index after its
// '}'. omit (only non-empty at top level) names a member to leave out and
// report; it must be a string.
func (e *phpEncoder) object(i int, omit string, omitted *string, found *bool) (int, error) {
	if err := e.enter(); err != nil {
		return 0, err
	}
	defer func() { e.depth-- }()
	start := e.out.Len()
	e.out.WriteByte('{')
	var few [smallKeys][]byte
	var many map[string]bool
	keys, n := 0, 0
	i = skipSpace(e.in, i+1)
	for e.in[i] != '}' {
		if e.in[i] == ',' {
			i = skipSpace(e.in, i+1)
		}
		key, next, escaped := e.str(i)
		// Repeated keys are refused: PHP keeps the last value at the first
		// position, and other parsers differ.
		repeated := false
		if many != nil {
			repeated = many[string(key)]
		} else {
			for _, k := range few[:keys] {
				repeated = repeated || bytes.Equal(k, key)
			}
		}
		if repeated {
			return 0, fmt.Errorf("body repeats the key %q in one object", key)
		}
		if keys < smallKeys {
			if few[keys] = key; escaped { // key is e.scratch, reused: keep a copy
				start := len(e.keys)
				e.keys = append(e.keys, key...)
				few[keys] = e.keys[start:len(e.keys):len(e.keys)]
			}
		} else {
			if many == nil {
				many = make(map[string]bool, 2*smallKeys)
				for _, k := range few {
					many[string(k)] = true
				}
			}
			many[string(key)] = true
		}
		keys++
		i = skipSpace(e.in, next)
		i = skipSpace(e.in, i+1) // the ':'
		if omit != "" && string(key) == omit {
			if e.in[i] != '"' {
				return 0, fmt.Errorf("%q must be a string", omit)
			}
			val, next, _ := e.str(i)
			*omitted, *found = string(val), true
			i = skipSpace(e.in, next)
			continue
		}
		if n > 0 {
			e.out.WriteByte(',')
		}
		n++
		phpString(&e.out, key)
		e.out.WriteByte(':')
		var err error
		if i, err = e.value(i); err != nil {
			return 0, err
		}
		i = skipSpace(e.in, i)
	}
	if n == 0 {
		e.out.Truncate(start)
		e.out.WriteString("[]")
	} else {
		e.out.WriteByte('}')
	}
	return i + 1, nil
}

// value encodes the value at i and returns the index after it.
func (e *phpEncoder) value(i int) (int, error) {
	switch c := e.in[i]; {
	case c == '{':
		return e.object(i, "", nil, nil)
	case c == '[':
		if err := e.enter(); err != nil {
			return 0, err
		}
		defer func() { e.depth-- }()
		e.out.WriteByte('[')
		i = skipSpace(e.in, i+1)
		for n := 0; e.in[i] != ']'; n++ {
			if e.in[i] == ',' {
				i = skipSpace(e.in, i+1)
			}
			if n > 0 {
				e.out.WriteByte(',')
			}
			var err error
			if i, err = e.value(i); err != nil {
				return 0, err
			}
			i = skipSpace(e.in, i)
		}
		e.out.WriteByte(']')
		return i + 1, nil
	case c == '"':
		s, next, _ := e.str(i)
		phpString(&e.out, s)
		return next, nil
	default: // a number, true, false or null: its literal text, as json.Number kept it
		j := i
		for j < len(e.in) && !strings.ContainsRune(",]} \t\r\n", rune(e.in[j])) {
			j++
		}
		e.out.Write(e.in[i:j])
		return j, nil
	}
}

// str decodes the (valid) JSON string at i and returns its text and the index
// after the closing quote. Without escapes the text is a slice of the input;
// with them (escaped true) it is decoded as encoding/json does (a lone UTF-16
// surrogate becomes U+FFFD) into e.scratch, valid until the next call.
func (e *phpEncoder) str(i int) (text []byte, next int, escaped bool) {
	j := i + 1
	for e.in[j] != '"' && e.in[j] != '\\' {
		j++
	}
	if e.in[j] == '"' {
		return e.in[i+1 : j], j + 1, false
	}
	b := append(e.scratch[:0], e.in[i+1:j]...)
	for e.in[j] != '"' {
		if e.in[j] != '\\' {
			b = append(b, e.in[j])
			j++
			continue
		}
		switch c := e.in[j+1]; c {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(e.in[j+2 : j+6])
			if utf16.IsSurrogate(r) && j+12 <= len(e.in) && e.in[j+6] == '\\' && e.in[j+7] == 'u' {
				if d := utf16.DecodeRune(r, hex4(e.in[j+8:j+12])); d != utf8.RuneError {
					b = utf8.AppendRune(b, d)
					j += 12
					continue
				}
			}
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			j += 6
			continue
		default: // '"', '\\' and '/' stand for themselves
			b = append(b, c)
		}
		j += 2
	}
	e.scratch = b
	return b, j + 1, true
}

// hex4 reads four hex digits that json.Valid has checked.
func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

const lowerHex = "0123456789abcdef"

// phpString writes s as PHP's json_encode(..., JSON_UNESCAPED_UNICODE) does.
func phpString(b *bytes.Buffer, s []byte) {
	b.WriteByte('"')
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		s = s[size:]
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\u2028':
			b.WriteString(`\u2028`)
		case '\u2029':
			b.WriteString(`\u2029`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(lowerHex[r>>4])
				b.WriteByte(lowerHex[r&0xf])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
