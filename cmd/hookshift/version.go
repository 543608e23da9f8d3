package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is the release, set at build time:
//
//	go build -ldflags "-X main.version=1.4.0" ./cmd/hookshift
//
// Without it, `go install module@version` still reports its module version
// (see versionString); a plain build says "dev".
var version = "dev"

const versionUsage = `usage: hookshift version

Prints the version, the Go version and, when built from a git checkout, the
commit it was built from.
`

func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	f := newCmdFlags("version", versionUsage, stdout, stderr)
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return f.usageError("version takes no arguments (got %q)", pos)
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionString(version, bi))
	return 0
}

// versionString is `hookshift VERSION (go1.x, commit REV[, modified], built TIME)`.
func versionString(v string, bi *debug.BuildInfo) string {
	if bi == nil {
		return "hookshift " + v
	}
	if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	parts := []string{bi.GoVersion}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		c := "commit " + rev[:min(12, len(rev))]
		if modified == "true" {
			c += " (modified)"
		}
		parts = append(parts, c)
	}
	if at != "" {
		parts = append(parts, "committed "+at)
	}
	return "hookshift " + v + " (" + strings.Join(parts, ", ") + ")"
}
