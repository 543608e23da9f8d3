package transformer

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// errNeedJSParse sends decodeJSON's caller to the runtime's own JSON.parse:
// for invalid JSON (so the error is the one a script author knows) and for
// the rare valid input Go strings cannot carry (escaped lone surrogates).
var errNeedJSParse = errors.New("transformer: input needs JSON.parse")

// maxJSONDepth bounds nesting, as the input size bounds everything else.
const maxJSONDepth = 512

// decodeJSON builds the JS value JSON.parse would return for data, directly
// from Go. goja's JSON.parse reads through encoding/json's token API, which
// allocates per token and was most of a transform's cost; this scanner
// creates the same objects (same key order, same numbers: integers that fit
// int64 exactly, everything else the nearest float64, as JSON.parse does).
func decodeJSON(vm *goja.Runtime, data []byte) (goja.Value, error) {
	d := jsonDecoder{vm: vm, data: data}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, errNeedJSParse
	}
	return v, nil
}

type jsonDecoder struct {
	vm   *goja.Runtime
	data []byte
	pos  int
	buf  []byte
	// check scans without building anything (vm unused): decodePayload
	// checks a payload this way before handing it over lazily.
	check bool
	// lazy builds each object as a lazyObject over its bytes.
	lazy bool
	// pd is the payload decoder this one is part of, if any: in check mode
	// the pass records every object's members in pd.index, and lazy mode
	// reads them from there.
	pd *payloadDecoder
	// escaped says whether the last string str scanned had escapes.
	escaped bool
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (goja.Value, error) {
	if d.pos >= len(d.data) || depth > maxJSONDepth {
		return nil, errNeedJSParse
	}
	switch c := d.data[d.pos]; {
	case c == '{' && d.lazy:
		return d.lazyObject()
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, err := d.str()
		if err != nil || d.check {
			return nil, err
		}
		return d.vm.ToValue(s), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return d.literal()
	}
}

func (d *jsonDecoder) object(depth int) (goja.Value, error) {
	var obj *goja.Object
	if !d.check {
		obj = d.vm.NewObject()
	}
	var idx *payloadIndex
	var slot, mark int
	if d.check && d.pd != nil {
		idx = &d.pd.index
		slot, mark = idx.open(d.pos)
	}
	d.pos++ // {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		if idx != nil {
			idx.close(slot, mark, d.pos)
		}
		return obj, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, errNeedJSParse
		}
		keyStart := d.pos + 1
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		keyEnd, escaped := d.pos-1, d.escaped
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, errNeedJSParse
		}
		d.pos++
		d.skipSpace()
		if idx != nil {
			idx.member(keyStart, keyEnd, d.pos, escaped)
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if d.check {
			err = nil
		} else if key == "__proto__" {
			// JSON.parse defines an own property; assignment would set the
			// prototype instead.
			err = obj.DefineDataProperty(key, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		} else {
			err = obj.Set(key, v)
		}
		if err != nil {
			return nil, errNeedJSParse
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errNeedJSParse
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			if idx != nil {
				idx.close(slot, mark, d.pos)
			}
			return obj, nil
		default:
			return nil, errNeedJSParse
		}
	}
}

func (d *jsonDecoder) array(depth int) (goja.Value, error) {
	d.pos++ // [
	d.skipSpace()
	var items []any
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		if d.check {
			return nil, nil
		}
		return d.vm.NewArray(), nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if !d.check {
			items = append(items, v)
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errNeedJSParse
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			if d.check {
				return nil, nil
			}
			return d.vm.NewArray(items...), nil
		default:
			return nil, errNeedJSParse
		}
	}
}

func (d *jsonDecoder) literal() (goja.Value, error) {
	rest := d.data[d.pos:]
	valueTrue, valueFalse := goja.Value(nil), goja.Value(nil)
	if !d.check {
		valueTrue, valueFalse = d.vm.ToValue(true), d.vm.ToValue(false)
	}
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		d.pos += 4
		return valueTrue, nil
	case len(rest) >= 5 && string(rest[:5]) == "false":
		d.pos += 5
		return valueFalse, nil
	case len(rest) >= 4 && string(rest[:4]) == "null":
		d.pos += 4
		if d.check {
			return nil, nil
		}
		return goja.Null(), nil
	}
	return nil, errNeedJSParse
}

// number scans a JSON number with the grammar's strictness (no leading
// zeros, no bare '.', no '+').
func (d *jsonDecoder) number() (goja.Value, error) {
	start := d.pos
	isInt := true
	if d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	intStart := d.pos
	n := digits()
	if n == 0 || (n > 1 && d.data[intStart] == '0') {
		return nil, errNeedJSParse
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		isInt = false
		d.pos++
		if digits() == 0 {
			return nil, errNeedJSParse
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		isInt = false
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, errNeedJSParse
		}
	}
	lit := d.data[start:d.pos]
	if isInt && string(lit) != "-0" {
		if i, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
			if d.check {
				return nil, nil
			}
			return d.vm.ToValue(i), nil
		}
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		// Out of float64 range: leave it to JSON.parse (goja refuses 1e999).
		return nil, errNeedJSParse
	}
	if d.check {
		return nil, nil
	}
	return d.vm.ToValue(f), nil
}

// str scans a string starting at the opening quote. The common case, no
// escapes and valid UTF-8, is one slice conversion.
func (d *jsonDecoder) str() (string, error) {
	d.pos++ // "
	d.escaped = false
	start := d.pos
	ascii := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if plainByte[c] {
			d.pos++
			continue
		}
		switch {
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			if !ascii && !utf8.Valid(s) {
				return "", errNeedJSParse
			}
			if d.check {
				return "", nil
			}
			return string(s), nil
		case c == '\\':
			return d.escapedStr(start)
		case c < 0x20:
			return "", errNeedJSParse
		}
		ascii = false // c ≥ 0x80
		d.pos++
	}
	return "", errNeedJSParse
}

// plainByte marks the bytes str passes over without a second look: ASCII
// other than '"', '\' and control characters.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (d *jsonDecoder) escapedStr(start int) (string, error) {
	d.escaped = true
	b := append(d.buf[:0], d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.buf = b
			if !utf8.Valid(b) {
				return "", errNeedJSParse
			}
			if d.check {
				return "", nil
			}
			return string(b), nil
		case c < 0x20:
			return "", errNeedJSParse
		case c != '\\':
			b = append(b, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			return "", errNeedJSParse
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
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
			r, ok := d.hex4()
			if !ok {
				return "", errNeedJSParse
			}
			if utf16.IsSurrogate(r) {
				// Only a well-formed pair fits a Go string; a lone
				// surrogate is valid JSON that JSON.parse keeps as is.
				if d.pos+6 > len(d.data) || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
					return "", errNeedJSParse
				}
				d.pos += 2
				r2, ok := d.hex4()
				if !ok {
					return "", errNeedJSParse
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return "", errNeedJSParse
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", errNeedJSParse
		}
	}
	return "", errNeedJSParse
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}
