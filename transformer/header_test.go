package transformer

import (
	"strings"
	"testing"
)

// CheckHeader is the one header rule of the API and the runtime.
func TestCheckHeader(t *testing.T) {
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"X-Trace.Id", "a b\tc", true},
		{"Authorization", "Bearer x", true},
		{"X~!#$%&'*+^_`|", "v", true},
		{"", "v", false},
		{"Bad Name", "v", false},
		{"X:Y", "v", false},
		{"X-Ü", "v", false},
		{"X", "a\r\nHost: evil", false},
		{"X", "a\nb", false},
		{"X", "a\x00b", false},
		{"X", "a\x1bb", false},
		{"X", "a\x7fb", false},
	} {
		err := CheckHeader(c.name, c.value)
		if (err == nil) != c.ok {
			t.Errorf("CheckHeader(%q, %q) = %v, want ok %v", c.name, c.value, err, c.ok)
		}
		if err != nil && c.name != "" && !strings.Contains(err.Error(), c.name) {
			t.Errorf("error %q does not name the header", err)
		}
	}
}
