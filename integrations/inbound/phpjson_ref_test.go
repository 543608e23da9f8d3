package inbound

// The json.Decoder-based re-encoder that phpJSONWithout replaced, kept as the
// reference FuzzPHPJSON compares the byte-level one with: same output, same
// sign, same refusals, on every input.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

func phpJSONReference(body []byte, omit string, maxDepth int) (out []byte, omitted string, found bool, err error) {
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
	e := refEncoder{dec: dec, maxDepth: maxDepth, depth: 1}
	if err := e.object(omit, &omitted, &found); err != nil {
		return nil, "", false, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, "", false, errors.New("unexpected data after the JSON object")
	}
	return e.buf.Bytes(), omitted, found, nil
}

type refEncoder struct {
	dec      *json.Decoder
	buf      bytes.Buffer
	depth    int // levels open, the top-level object included
	maxDepth int // a second guard behind CheckDepth: recursion stops here
}

// object encodes the members of an object whose '{' has been read. omit (only
// non-empty at top level) names a member to leave out and report.
func (e *refEncoder) object(omit string, omitted *string, found *bool) error {
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
		refString(&e.buf, key)
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

func (e *refEncoder) value() error {
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
		refString(&e.buf, v)
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

// refString writes s as PHP's json_encode(..., JSON_UNESCAPED_UNICODE) does.
func refString(b *bytes.Buffer, s string) {
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
