package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressBar is the CLI's progress bar on stderr, schollz/progressbar
// underneath (rate, throttled redraws, terminal width). A nil bar draws
// nothing, so callers need not check.
type progressBar struct {
	w io.Writer
	b *progressbar.ProgressBar
}

// newProgress is a bar for total items when one is wanted: on a terminal, or
// when forced (--progress), and never with --json, whose reader is a
// program. Otherwise nil. It draws on w's raw writer: its carriage returns
// are ours, not data (see termSafe).
func newProgress(w io.Writer, total int, force, jsonOut bool) *progressBar {
	if total <= 0 || jsonOut || (!force && !isTerminal(w)) {
		return nil
	}
	return newProgressBar(rawWriter(w), total)
}

func newProgressBar(w io.Writer, total int) *progressBar {
	return &progressBar{w: w, b: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("ids"),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionThrottle(100*time.Millisecond), // the last state is always drawn
	)}
}

func (p *progressBar) add(n int) {
	if p != nil {
		_ = p.b.Add(n)
	}
}

// clear wipes the bar so that a message can take the line; the next add
// draws it again.
func (p *progressBar) clear() {
	if p != nil {
		_ = p.b.Clear()
	}
}

// finish leaves the bar as it stands (full, or where a stop left it) and ends
// its line.
func (p *progressBar) finish() {
	if p != nil {
		_ = p.b.Exit()
		fmt.Fprintln(p.w)
	}
}
