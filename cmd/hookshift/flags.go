package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// cmdFlags is one command's flags with the manners every command shares:
// flags may come before or after the arguments; --help, -h or a lone "help"
// prints the usage and each flag once, in --name form with its environment
// variable, to stdout (exit 0); a bad flag or a missing argument is named on
// stderr above the usage (exit 2).
type cmdFlags struct {
	*flag.FlagSet
	name           string // "events search"
	usage          string // "usage: hookshift ...\n\nWhat it does.\n"
	stdout, stderr io.Writer
	// envAll: every flag also reads HOOKSHIFT_<NAME> (serve; see applyEnv).
	envAll bool
}

func newCmdFlags(name, usage string, stdout, stderr io.Writer) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return wrapFlags(fs, name, usage, stdout, stderr)
}

// wrapFlags gives an existing flag set (serve's, from config.go) the shared
// manners.
func wrapFlags(fs *flag.FlagSet, name, usage string, stdout, stderr io.Writer) *cmdFlags {
	fs.SetOutput(io.Discard) // errors and help are printed by parse, once
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, name: name, usage: usage, stdout: stdout, stderr: stderr}
}

// parse parses flags wherever they appear among the positional arguments
// (`replay EVT --destination D` as well as `replay --destination D EVT`); a
// "--" ends the flags. When ok is false the command is over: help was printed
// (code 0) or a usage error (code 2).
func (f *cmdFlags) parse(args []string) (pos []string, code int, ok bool) {
	for {
		if err := f.Parse(args); err != nil {
			return nil, f.parseError(err), false
		}
		rest := f.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) == 1 && pos[0] == "help" {
		f.printHelp(f.stdout)
		return nil, 0, false
	}
	return pos, 0, true
}

// parseError turns an error of flag.Parse into an exit code, printing help or
// the complaint.
func (f *cmdFlags) parseError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		f.printHelp(f.stdout)
		return 0
	}
	return f.usageError("%s", strings.Replace(err.Error(), " -", " --", 1))
}

// usageError prints `hookshift NAME: complaint`, then the usage; exit 2.
func (f *cmdFlags) usageError(format string, args ...any) int {
	fmt.Fprintf(f.stderr, "hookshift %s: %s\n\n%s", f.name, fmt.Sprintf(format, args...), f.usage)
	fmt.Fprintf(f.stderr, "(hookshift %s --help lists the flags)\n", f.name)
	return 2
}

// printHelp prints the usage and the flags.
func (f *cmdFlags) printHelp(w io.Writer) {
	fmt.Fprint(w, f.usage)
	printFlags(w, f.FlagSet, f.envAll)
}

// envMarker is how a flag's usage text names its variable: "... (HOOKSHIFT_ADDR)".
var envMarker = regexp.MustCompile(`\s*\((?:env )?(HOOKSHIFT_[A-Z0-9_]+)\)`)

// secretFlag names flags whose value is never printed, not even a default
// taken from the environment.
var secretFlag = regexp.MustCompile(`token|secret|key|password`)

// printFlags lists each flag once as `--name TYPE`, then what it does, its
// environment variable and its default. A flag with two names (--addr and
// --hookshift-addr) is listed under the short one.
func printFlags(w io.Writer, fs *flag.FlagSet, envAll bool) {
	first := true
	fs.VisitAll(func(fl *flag.Flag) {
		if short, ok := strings.CutPrefix(fl.Name, "hookshift-"); ok && fs.Lookup(short) != nil {
			return
		}
		doc, alias := fl, ""
		if long := fs.Lookup("hookshift-" + fl.Name); long != nil {
			doc, alias = long, long.Name
		}
		typ, text := flag.UnquoteUsage(doc)
		env := ""
		if m := envMarker.FindStringSubmatch(text); m != nil {
			env, text = m[1], strings.Replace(text, m[0], "", 1)
		}
		if envAll {
			env = envName(strings.TrimPrefix(fl.Name, "hookshift-"))
		}
		var notes []string
		if env != "" {
			notes = append(notes, "env "+env)
		}
		switch {
		case env != "" && os.Getenv(env) != "":
			notes = append(notes, env+" is set")
		case secretFlag.MatchString(fl.Name):
		case doc.DefValue != "" && doc.DefValue != "false" && doc.DefValue != "0" && doc.DefValue != "0s":
			notes = append(notes, "default "+doc.DefValue)
		}
		if alias != "" {
			notes = append(notes, "also --"+alias)
		}
		if first {
			fmt.Fprintln(w, "\nFlags:")
			first = false
		}
		line := "  --" + fl.Name
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintln(w, line)
		if len(notes) > 0 {
			text += " (" + strings.Join(notes, "; ") + ")"
		}
		fmt.Fprintf(w, "        %s\n", strings.TrimSpace(text))
	})
}

// envName is the variable of a serve flag: --dedupe-window reads
// HOOKSHIFT_DEDUPE_WINDOW.
func envName(flagName string) string {
	return "HOOKSHIFT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets every flag the command line left alone from its variable
// (envName), so each serve option has one, as API.md promises, including
// flags added later. A value that does not parse is an error naming the
// variable, not a silent default.
func applyEnv(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[strings.TrimPrefix(fl.Name, "hookshift-")] = true })
	var errs []error
	fs.VisitAll(func(fl *flag.Flag) {
		short, long := strings.CutPrefix(fl.Name, "hookshift-")
		if (long && fs.Lookup(short) != nil) || set[short] {
			return
		}
		name := envName(short)
		if v := os.Getenv(name); v != "" {
			if err := fs.Set(fl.Name, v); err != nil {
				want, _ := flag.UnquoteUsage(fl)
				if want == "" {
					want = "bool (true or false)"
				}
				errs = append(errs, fmt.Errorf("%s=%q: want a %s (%v)", name, v, want, err))
			}
		}
	})
	return errors.Join(errs...)
}

// runGroup runs a command with subcommands (events, dlq, transform, and the
// top level itself).
func runGroup(name, usage string, subs map[string]func([]string) int, args []string, stdout, stderr io.Writer) int {
	prefix := "hookshift"
	if name != "" {
		prefix += " " + name
	}
	if len(args) == 0 {
		fmt.Fprintf(stderr, "%s: missing command\n\n%s", prefix, usage)
		return 2
	}
	if sub, ok := subs[args[0]]; ok {
		return sub(args[1:])
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", prefix, args[0], usage)
	return 2
}
