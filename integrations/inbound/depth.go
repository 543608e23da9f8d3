package inbound

import (
	"fmt"
)

// Nesting bounds. Every parser on the receive path runs only on a body whose
// nesting CheckDepth has allowed, so no parser's memory or stack can grow with
// a hostile body's depth: a 1 MB `{"a":[[[[...` is refused after one pass
// over its bytes, before anything is decoded or allocated.
const (
	// DefaultMaxDepth is the nesting accepted when none is configured. Real
	// Dodo, Stripe, Cryptomus, GitHub and Shopify events nest fewer than 10
	// levels.
	DefaultMaxDepth = 64
	// MaxDepthCeiling is the highest depth an operator may configure. Parsers
	// that run after the receiver (SearchKeys at fan-out) are bounded by it,
	// so they accept whatever the receiver accepted.
	MaxDepthCeiling = 1024
)

// DepthError is a body nested deeper than allowed. It wraps ErrBody, so the
// receiver answers 400.
type DepthError struct{ Max int }

func (e *DepthError) Error() string {
	return fmt.Sprintf("JSON nested deeper than %d levels; at most %d are accepted", e.Max, e.Max)
}

// Unwrap makes a DepthError an ErrBody.
func (e *DepthError) Unwrap() error { return ErrBody }

// CheckDepth refuses body if its JSON nests deeper than max levels (max <= 0
// means DefaultMaxDepth). It counts [ and { outside strings in one pass over
// the raw bytes and allocates nothing, so it is safe to run before the
// signature check. It does not validate JSON: a body it lets through may still
// be refused by the parser that follows, never for its depth.
func CheckDepth(body []byte, max int) error {
	if max <= 0 {
		max = DefaultMaxDepth
	}
	depth := 0
	inString, escaped := false, false
	for _, c := range body {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > max {
				return &DepthError{Max: max}
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}
