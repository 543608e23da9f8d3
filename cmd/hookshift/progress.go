package main

import (
	"fmt"
	"io"
	"strings"
)

// progressBar draws `[#####     ] 50% 500/1000` on one terminal line. A nil
// bar draws nothing, so callers need not check.
type progressBar struct {
	w           io.Writer
	total, done int
	width       int
	drawn       string
}

func newProgressBar(w io.Writer, total int) *progressBar {
	p := &progressBar{w: w, total: total, width: 30}
	p.draw()
	return p
}

// renderProgress is the bar for done of total.
func renderProgress(done, total, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat("#", width) + "] 100% 0/0"
	}
	done = max(0, min(done, total))
	filled := done * width / total
	return fmt.Sprintf("[%s%s] %d%% %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done*100/total, done, total)
}

func (p *progressBar) add(n int) {
	if p == nil {
		return
	}
	p.done += n
	p.draw()
}

func (p *progressBar) draw() {
	s := renderProgress(p.done, p.total, p.width)
	if s != p.drawn {
		fmt.Fprint(p.w, "\r"+s)
		p.drawn = s
	}
}

// clear wipes the bar so that a message can take the line; the next draw
// brings it back.
func (p *progressBar) clear() {
	if p == nil || p.drawn == "" {
		return
	}
	fmt.Fprint(p.w, "\r"+strings.Repeat(" ", len(p.drawn))+"\r")
	p.drawn = ""
}

func (p *progressBar) finish() {
	if p == nil {
		return
	}
	p.draw()
	fmt.Fprintln(p.w)
}
