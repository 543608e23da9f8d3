package main

import (
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// termSafe is a writer that makes text from elsewhere (an API answer, a
// destination's response, a script's error) harmless on a terminal: it
// escapes C0 controls, ESC, DEL, C1 controls and the bidirectional-text
// overrides as \u00XX, and replaces bytes that are not UTF-8 with \ufffd, so
// no escape sequence can move the cursor, retitle the window, write to the
// clipboard or reorder what the operator reads. A newline is kept; a tab and
// a carriage return become a space. Every command except serve writes through
// one (see run).
//
// The escapes are JSON's own: a control character can stand raw only inside
// a JSON string, where \u00XX means the same character, so --json output
// stays valid JSON with the same value.
type termSafe struct{ w io.Writer }

// newTermSafe wraps w, once.
func newTermSafe(w io.Writer) io.Writer {
	if _, ok := w.(*termSafe); ok {
		return w
	}
	return &termSafe{w: w}
}

// rawWriter is the writer under a termSafe: for our own terminal drawing (a
// progress bar's carriage returns), never for data.
func rawWriter(w io.Writer) io.Writer {
	if t, ok := w.(*termSafe); ok {
		return t.w
	}
	return w
}

func (t *termSafe) Write(p []byte) (int, error) {
	if _, err := t.w.Write(termSafeBytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// termSafeBytes returns p, escaped as termSafe writes it (p itself when there
// is nothing to escape).
func termSafeBytes(p []byte) []byte {
	clean := true
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if termUnsafe(r, n) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return p
	}
	out := make([]byte, 0, len(p)+16)
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			out = append(out, `\ufffd`...)
		case r == '\t' || r == '\r':
			out = append(out, ' ')
		case termUnsafe(r, n):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}

// termUnsafe reports whether rune r (n bytes long) must not reach a terminal
// as it is.
func termUnsafe(r rune, n int) bool {
	switch {
	case r == '\n':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == utf8.RuneError && n == 1:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true // bidi marks and overrides ("Trojan Source")
	}
	return false
}

// isTerminal reports whether w (under any termSafe) is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := rawWriter(w).(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
