package transformer

import (
	"testing"

	"github.com/dop251/goja"
)

// The pool drops the least recently returned runtime, whatever its script,
// and hands out a script's most recently returned runtime first.
func TestRuntimePoolOrder(t *testing.T) {
	p := newRuntimePool(2)
	a, b := scriptKey{tenant: "a"}, scriptKey{tenant: "b"}
	a1, b1, a2 := &jsRuntime{}, &jsRuntime{}, &jsRuntime{}
	p.put(a, a1)
	p.put(b, b1)
	p.put(a, a2) // evicts a1, the oldest
	if forA, total := p.idle(a); forA != 1 || total != 2 {
		t.Fatalf("idle a=%d total=%d, want 1 and 2", forA, total)
	}
	if got := p.get(a); got != a2 {
		t.Fatal("get(a) did not return the runtime returned last")
	}
	if got := p.get(a); got != nil {
		t.Fatal("get(a) returned an evicted runtime")
	}
	if got := p.get(b); got != b1 {
		t.Fatal("get(b) lost b's runtime")
	}
	if _, total := p.idle(a); total != 0 {
		t.Fatalf("%d idle after taking all", total)
	}
}

// A program read recently survives an eviction that a colder one does not.
func TestProgramCacheOrder(t *testing.T) {
	c := newProgramCache(2)
	k1, k2, k3 := scriptKey{tenant: "1"}, scriptKey{tenant: "2"}, scriptKey{tenant: "3"}
	p := &compiled{prog: goja.MustCompile("x.js", "1", false)}
	c.add(k1, p)
	c.add(k2, p)
	c.get(k1)
	c.add(k3, p)
	if c.get(k1) == nil || c.get(k2) != nil || c.get(k3) == nil || c.len() != 2 {
		t.Fatal("the cache did not drop the least recently used program")
	}
}
