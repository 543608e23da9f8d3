package transformer

import (
	"fmt"
	"strings"
)

// CheckHeader is hookshift's one rule for a header it will send, whether a
// script returns it or a destination stores it: the name is an RFC 9110
// token, and the value has no control character but tab (a CR or LF would
// split the request, and Go's HTTP client refuses it on every attempt).
// The error says which header and why.
func CheckHeader(name, value string) error {
	if !validHeaderName(name) {
		return fmt.Errorf("header name %q is not a valid HTTP header name; expected letters, digits and !#$%%&'*+-.^_`|~", name)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Errorf("header %q: value contains control character %#02x at byte %d; line breaks and other control characters cannot be sent", name, c, i)
		}
	}
	return nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
