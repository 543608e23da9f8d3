package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
// before the signature is checked.
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
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, "", false, fmt.Errorf("body is not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, "", false, errors.New("body must be a JSON object")
	}
	e := phpEncoder{dec: dec, maxDepth: maxDepth, depth: 1}
	if err := e.object(omit, &omitted, &found); err != nil {
		return nil, "", false, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, "", false, errors.New("unexpected data after the JSON object")
	}
	return e.buf.Bytes(), omitted, found, nil
}

type phpEncoder struct {
	dec      *json.Decoder
	buf      bytes.Buffer
	depth    int // levels open, the top-level object included
	maxDepth int // a second guard behind CheckDepth: recursion stops here
}

// object encodes the members of an object whose '{' has been read. omit (only
// non-empty at top level) names a member to leave out and report.
func (e *phpEncoder) object(omit string, omitted *string, found *bool) error {
	start := e.buf.Len()
	e.buf.WriteByte('{')
	seen := map[string]bool{}
	n := 0
	for e.dec.More() {
		tok, err := e.dec.Token()
		if err != nil {
			return fmt.Errorf("body is not JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("body is not JSON: object key is not a string")
		}
		if seen[key] {
			return fmt.Errorf("body repeats the key %q in one object", key)
		}
		seen[key] = true
		if omit != "" && key == omit {
			tok, err := e.dec.Token()
			if err != nil {
				return fmt.Errorf("body is not JSON: %v", err)
			}
			s, ok := tok.(string)
			if !ok {
				return fmt.Errorf("%q must be a string", omit)
			}
			*omitted, *found = s, true
			continue
		}
		if n > 0 {
			e.buf.WriteByte(',')
		}
		n++
		phpString(&e.buf, key)
		e.buf.WriteByte(':')
		if err := e.value(); err != nil {
			return err
		}
	}
	if _, err := e.dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("body is not JSON: %v", err)
	}
	if n == 0 {
		e.buf.Truncate(start)
		e.buf.WriteString("[]")
		return nil
	}
	e.buf.WriteByte('}')
	return nil
}

func (e *phpEncoder) value() error {
	tok, err := e.dec.Token()
	if err != nil {
		return fmt.Errorf("body is not JSON: %v", err)
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' || v == '[' {
			if e.depth++; e.depth > e.maxDepth {
				return &DepthError{Max: e.maxDepth}
			}
			defer func() { e.depth-- }()
		}
		switch v {
		case '{':
			return e.object("", nil, nil)
		case '[':
			e.buf.WriteByte('[')
			for i := 0; e.dec.More(); i++ {
				if i > 0 {
					e.buf.WriteByte(',')
				}
				if err := e.value(); err != nil {
					return err
				}
			}
			if _, err := e.dec.Token(); err != nil { // the closing ']'
				return fmt.Errorf("body is not JSON: %v", err)
			}
			e.buf.WriteByte(']')
			return nil
		}
		return fmt.Errorf("body is not JSON: unexpected %v", v)
	case string:
		phpString(&e.buf, v)
	case json.Number:
		e.buf.WriteString(v.String())
	case bool:
		if v {
			e.buf.WriteString("true")
		} else {
			e.buf.WriteString("false")
		}
	case nil:
		e.buf.WriteString("null")
	default:
		return fmt.Errorf("body is not JSON: unexpected token %T", v)
	}
	return nil
}

const lowerHex = "0123456789abcdef"

// phpString writes s as PHP's json_encode(..., JSON_UNESCAPED_UNICODE) does.
func phpString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
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
