package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFormatterKeepsSummaryLinesAndFailures(t *testing.T) {
	var out bytes.Buffer
	f := &formatter{w: &out, start: time.Now(), total: 3, running: map[string]time.Time{}, output: map[string][]string{}}
	for _, l := range []string{
		`{"Action":"start","Package":"m/a"}`,
		`{"Action":"start","Package":"m/b"}`,
		`{"Action":"run","Package":"m/a","Test":"TestOK"}`,
		`{"Action":"output","Package":"m/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}`,
		`{"Action":"output","Package":"m/a","Test":"TestOK","Output":"    chatter of a passing test\n"}`,
		`{"Action":"pass","Package":"m/a","Test":"TestOK"}`,
		`{"Action":"output","Package":"m/a","Output":"PASS\n"}`,
		`{"Action":"output","Package":"m/a","Output":"ok  \tm/a\t0.5s\n"}`,
		`{"Action":"pass","Package":"m/a"}`,
		`{"Action":"output","Package":"m/b","Test":"TestBad","Output":"    b_test.go:9: boom\n"}`,
		`{"Action":"output","Package":"m/b","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}`,
		`{"Action":"fail","Package":"m/b","Test":"TestBad"}`,
	} {
		f.line(l)
	}
	f.progress() // m/b still runs
	for _, l := range []string{
		`{"Action":"output","Package":"m/b","Output":"FAIL\n"}`,
		`{"Action":"output","Package":"m/b","Output":"FAIL\tm/b\t0.1s\n"}`,
		`{"Action":"fail","Package":"m/b"}`,
		`{"Action":"build-output","ImportPath":"m/c [m/c.test]","Output":"c.go:1: syntax error\n"}`,
		`not json: a message of go itself`,
	} {
		f.line(l)
	}
	got := out.String()
	want := "ok  \tm/a\t0.5s\n" +
		"    b_test.go:9: boom\n--- FAIL: TestBad (0.00s)\n" +
		"... 0s: 1 of 3 packages done; running m/b (0s)\n" +
		"FAIL\tm/b\t0.1s\n" +
		"c.go:1: syntax error\n" +
		"not json: a message of go itself\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if !f.failed || strings.Contains(got, "chatter") {
		t.Fatalf("failed=%v", f.failed)
	}
}
