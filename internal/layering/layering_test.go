package layering

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hookshift/hookshift/"

// allowed lists, for each hookshift package, the hookshift packages it may
// import directly: the table behind ARCHITECTURE.md's "Who may import whom".
// Imports go downward only. A new package gets a row (and the packages above
// it name it in theirs); "integrations/<name>" is the row of every
// destination package directly under integrations that has no row of its own.
var allowed = map[string][]string{
	"cmd/hookshift": {"*"}, // the binary wires everything

	"httpapi": {"queue", "queue/dispatch", "rules", "integrations/inbound/samples", "store", "transformer", "metrics",
		"integrations", "integrations/inbound", "integrations/egress", "integrations/outbound"},
	"queue": {"queue/dispatch", "rules", "store", "transformer", "metrics",
		"integrations", "integrations/inbound", "integrations/outbound"},
	"queue/dispatch": {"store", "transformer", "rules", "integrations", "integrations/outbound", "integrations/egress"},
	"rules":          {"store", "transformer", "integrations", "integrations/outbound", "integrations/egress"},

	"integrations":          {"integrations/<name>", "integrations/outbound", "integrations/currency"},
	"integrations/<name>":   {"integrations/outbound", "integrations/dodo", "integrations/currency"},
	"integrations/outbound": {"integrations/egress"},
	"integrations/inbound":  {"store"}, // store.SearchKeys, the type of what the event log indexes

	"integrations/inbound/samples": {}, // sample events, embedded
	"integrations/egress":          {},
	"integrations/currency":        {},
	"integrations/dodo":            {},
	"transformer":                  {},
	"metrics":                      {},
	"store":                        {},

	"console":            {}, // the console's embedded front end; wired by cmd
	"internal/redistest": {},
	"internal/redisconn": {}, // HOOKSHIFT_REDIS_URL → go-redis and asynq clients, for cmd/hookshift
	"internal/layering":  {},
	"scripts/testfmt":    {}, // the test runner's progress printer
}

// rowOf finds the row that governs pkg.
func rowOf(pkg string) ([]string, bool) {
	if row, ok := allowed[pkg]; ok {
		return row, true
	}
	if rest, ok := strings.CutPrefix(pkg, "integrations/"); ok && !strings.Contains(rest, "/") {
		return allowed["integrations/<name>"], true
	}
	return nil, false
}

// may reports whether a row allows importing dep.
func may(row []string, dep string) bool {
	if slices.Contains(row, "*") || slices.Contains(row, dep) {
		return true
	}
	_, isRow := allowed[dep]
	rest, isIntegration := strings.CutPrefix(dep, "integrations/")
	return slices.Contains(row, "integrations/<name>") && isIntegration && !isRow && !strings.Contains(rest, "/")
}

// Every import of one hookshift package by another (tests aside) follows
// the table above; a package missing from the table fails too, so the
// table, and the diagram it stands for, stay complete.
func TestImportsFollowTheLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(f[0], module)
		seen++
		row, ok := rowOf(pkg)
		if !ok {
			t.Errorf("package %s has no row in the layering table (internal/layering): add one naming what it may import, and draw it in ARCHITECTURE.md", pkg)
			continue
		}
		for _, imp := range f[1:] {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue // standard library or a third-party module
			}
			if !may(row, dep) {
				t.Errorf("%s imports %s, which ARCHITECTURE.md's layers do not allow (allowed: %v)", pkg, dep, row)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list saw only %d packages:\n%s", seen, out)
	}
}

// The table itself is sound: the rule finds what it should, and an upward
// import is caught.
func TestLayeringTable(t *testing.T) {
	for _, c := range []struct {
		pkg, dep string
		want     bool
	}{
		{"httpapi", "queue", true},
		{"queue", "httpapi", false},
		{"store", "queue", false},
		{"transformer", "store", false},
		{"integrations/slack", "integrations/dodo", true},
		{"integrations/slack", "store", false},
		{"integrations", "integrations/slack", true},
		{"integrations", "integrations/inbound", false},
		{"rules", "queue", false},
		{"cmd/hookshift", "httpapi", true},
	} {
		row, ok := rowOf(c.pkg)
		if !ok {
			t.Fatalf("no row for %s", c.pkg)
		}
		if got := may(row, c.dep); got != c.want {
			t.Errorf("%s may import %s: %v, want %v", c.pkg, c.dep, got, c.want)
		}
	}
}
