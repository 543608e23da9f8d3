// Command testfmt turns `go test -json` into what scripts/test prints: go
// test's own per-package lines (ok, FAIL, "no test files") as each package
// finishes, the output of every failed test, and, while packages run, a
// line every -every saying which ones and for how long, so a long run is
// never silent. It exits 1 if anything failed.
//
//	go test -json ./... | go run ./scripts/testfmt -total 14
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output, build-fail
	Test       string
	Output     string
}

// formatter keeps what is needed to print failures and progress.
type formatter struct {
	mu      sync.Mutex
	w       io.Writer
	start   time.Time
	total   int
	done    int
	failed  bool
	running map[string]time.Time // package → start
	output  map[string][]string  // package + "\x00" + test → its lines
}

func main() {
	total := flag.Int("total", 0, "number of packages, for the progress line")
	every := flag.Duration("every", 20*time.Second, "how often to say what is still running")
	flag.Parse()
	f := &formatter{w: os.Stdout, start: time.Now(), total: *total, running: map[string]time.Time{}, output: map[string][]string{}}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(*every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				f.progress()
			case <-stop:
				return
			}
		}
	}()
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		f.line(sc.Text())
	}
	close(stop)
	if f.failed {
		os.Exit(1)
	}
}

func (f *formatter) line(l string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var e event
	if !strings.HasPrefix(l, "{") || json.Unmarshal([]byte(l), &e) != nil {
		fmt.Fprintln(f.w, l) // not an event: a message of go itself
		return
	}
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "build-output":
		fmt.Fprint(f.w, e.Output)
	case "build-fail":
		f.failed = true
	case "start":
		f.running[e.Package] = time.Now()
	case "output":
		if e.Test != "" {
			f.output[key] = append(f.output[key], e.Output)
			return
		}
		// The package's own lines: go test's summary (ok, FAIL, "no test
		// files"), and whatever a crashed test binary printed.
		if o := strings.TrimSpace(e.Output); o != "PASS" && o != "FAIL" && !strings.HasPrefix(o, "=== ") {
			fmt.Fprint(f.w, e.Output)
		}
	case "fail":
		f.failed = true
		if e.Test != "" {
			for _, o := range f.output[key] {
				fmt.Fprint(f.w, o)
			}
		}
		fallthrough
	case "pass", "skip":
		delete(f.output, key)
		if e.Test == "" {
			delete(f.running, e.Package)
			f.done++
		}
	}
}

// progress says which packages are still running, and for how long.
func (f *formatter) progress() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.running) == 0 && (f.total == 0 || f.done >= f.total) {
		return
	}
	names := make([]string, 0, len(f.running))
	for p, t := range f.running {
		names = append(names, fmt.Sprintf("%s (%s)", p, time.Since(t).Round(time.Second)))
	}
	sort.Strings(names)
	of := ""
	if f.total > 0 {
		of = fmt.Sprintf(" of %d", f.total)
	}
	doing := "building test binaries"
	if len(names) > 0 {
		doing = "running " + strings.Join(names, ", ")
	}
	fmt.Fprintf(f.w, "... %s: %d%s packages done; %s\n", time.Since(f.start).Round(time.Second), f.done, of, doing)
}
