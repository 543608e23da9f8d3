package httpapi

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
)

// readBody reads the whole body in one pass into the pooled buffer: sized
// by the declared length when there is one (no regrowth), and still whole
// when the length is unknown or wrong, or the reader returns a byte at a time.
func TestReadBody(t *testing.T) {
	body := []byte(strings.Repeat(`{"k":"v"},`, 500))
	for _, tc := range []struct {
		name string
		cl   int64
		buf  []byte
		half bool
	}{
		{"declared length, empty pool buffer", int64(len(body)), nil, false},
		{"unknown length (chunked)", -1, nil, false},
		{"declared length too small", 10, nil, false},
		{"small pooled buffer", int64(len(body)), make([]byte, 0, 16), false},
		{"one byte at a time", int64(len(body)), nil, true},
	} {
		var r = bytes.NewReader(body)
		buf := tc.buf
		var got []byte
		var err error
		if tc.half {
			got, err = readBody(iotest.OneByteReader(r), tc.cl, 1<<20, &buf)
		} else {
			got, err = readBody(r, tc.cl, 1<<20, &buf)
		}
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s: read %d bytes, err %v; want the %d-byte body", tc.name, len(got), err, len(body))
		}
		if tc.cl == int64(len(body)) && tc.buf == nil && cap(got) != len(body)+1 {
			t.Errorf("%s: buffer cap %d, want %d (sized once by Content-Length)", tc.name, cap(got), len(body)+1)
		}
	}
}
