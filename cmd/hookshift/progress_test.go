package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressBarRenders(t *testing.T) {
	for _, c := range []struct {
		done int
		want string
	}{
		{0, "[          ] 0% 0/1000"},
		{500, "[#####     ] 50% 500/1000"},
		{1000, "[##########] 100% 1000/1000"},
	} {
		if got := renderProgress(c.done, 1000, 10); got != c.want {
			t.Errorf("%d: got %q, want %q", c.done, got, c.want)
		}
	}
	var buf bytes.Buffer
	p := newProgressBar(&buf, 2)
	p.add(1)
	p.clear()
	p.add(1)
	p.finish()
	want := "\r[" + strings.Repeat(" ", 30) + "] 0% 0/2" +
		"\r[" + strings.Repeat("#", 15) + strings.Repeat(" ", 15) + "] 50% 1/2" +
		"\r" + strings.Repeat(" ", 40) + "\r" +
		"\r[" + strings.Repeat("#", 30) + "] 100% 2/2\n"
	if buf.String() != want {
		t.Fatalf("got  %q\nwant %q", buf.String(), want)
	}
	var nilBar *progressBar // a disabled bar is a nil one
	nilBar.add(1)
	nilBar.clear()
	nilBar.finish()
}
