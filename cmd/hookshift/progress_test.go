package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressBar(&buf, 2)
	p.add(1)
	p.clear()
	p.add(1)
	p.finish()
	out := buf.String()
	for _, want := range []string{"0%", "(2/2,", "100%"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in %q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("the bar should end with exactly one newline: %q", out)
	}
	// Not a terminal, or --json: no bar at all, and a nil bar is a no-op.
	for _, c := range []struct{ force, json bool }{{false, false}, {true, true}, {false, true}} {
		var b bytes.Buffer
		bar := newProgress(&b, 10, c.force, c.json)
		bar.add(1)
		bar.clear()
		bar.finish()
		if bar != nil || b.Len() != 0 {
			t.Errorf("force=%v json=%v: a bar on a non-terminal: %q", c.force, c.json, b.String())
		}
	}
	if newProgress(&buf, 10, true, false) == nil {
		t.Error("--progress does not force a bar")
	}
}
