package inbound

import (
	"encoding/json"
	"errors"
)

// topScan checks that body is one valid JSON value (what json.Valid accepts)
// and, when it is an object, collects the string values of the wanted
// top-level keys, in a single pass over the bytes that copies nothing but
// those values. It replaces json.Unmarshal into a map, which scans the body
// twice (validation, then decoding) and copies every top-level value.
//
// It recurses once per nesting level and refuses nesting past
// MaxDepthCeiling; its callers have run CheckDepth with a lower bound first.
type topScan struct {
	b     []byte
	i     int
	names []string
	got   map[string]string
}

var errTopScan = errors.New("invalid JSON")

func (s *topScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value starting at s.i (after whitespace).
func (s *topScan) value(depth int) error {
	s.ws()
	if s.i >= len(s.b) {
		return errTopScan
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, _, err := s.str()
		return err
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return s.num()
	}
	return errTopScan
}

func (s *topScan) lit(w string) error {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return errTopScan
	}
	s.i += len(w)
	return nil
}

// num scans a number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func (s *topScan) num() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return errTopScan
	}
	if s.b[s.i] == '0' {
		s.i++
	} else if !s.digits() {
		return errTopScan
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return errTopScan
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return errTopScan
		}
	}
	return nil
}

func (s *topScan) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// str scans a string at s.i and returns its raw bytes with the quotes, and
// whether it holds escapes or non-ASCII bytes (then json.Unmarshal decodes it).
func (s *topScan) str() (raw []byte, plain bool, err error) {
	start := s.i
	s.i++ // opening quote
	plain = true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start:s.i], plain, nil
		case c < 0x20:
			return nil, false, errTopScan
		case c == '\\':
			plain = false
			s.i++
			if s.i >= len(s.b) {
				return nil, false, errTopScan
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for k := 0; k < 4; k++ {
					if s.i >= len(s.b) || !isHex(s.b[s.i]) {
						return nil, false, errTopScan
					}
					s.i++
				}
			default:
				return nil, false, errTopScan
			}
		default:
			if c >= 0x80 {
				plain = false
			}
			s.i++
		}
	}
	return nil, false, errTopScan
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func (s *topScan) array(depth int) error {
	if depth > MaxDepthCeiling {
		return errTopScan
	}
	s.i++ // [
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errTopScan
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errTopScan
		}
	}
}

func (s *topScan) object(depth int) error {
	if depth > MaxDepthCeiling {
		return errTopScan
	}
	s.i++ // {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return errTopScan
		}
		key, keyPlain, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errTopScan
		}
		s.i++
		s.ws()
		name := ""
		if depth == 1 {
			name = s.wanted(key, keyPlain)
		}
		if name != "" && s.i < len(s.b) && s.b[s.i] == '"' {
			raw, plain, err := s.str()
			if err != nil {
				return err
			}
			s.got[name] = decodeJSONString(raw, plain)
		} else {
			if name != "" {
				s.got[name] = "" // the last occurrence wins, as in json.Unmarshal
			}
			if err := s.value(depth); err != nil {
				return err
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return errTopScan
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errTopScan
		}
	}
}

// wanted returns which of s.names the raw key is, or "".
func (s *topScan) wanted(key []byte, plain bool) string {
	k := decodeJSONString(key, plain)
	for _, n := range s.names {
		if k == n {
			return n
		}
	}
	return ""
}

// decodeJSONString decodes a raw JSON string the scanner has accepted.
func decodeJSONString(raw []byte, plain bool) string {
	if plain {
		return string(raw[1 : len(raw)-1])
	}
	var v string
	_ = json.Unmarshal(raw, &v) // valid: the scanner accepted it
	return v
}
