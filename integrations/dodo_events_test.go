package integrations_test

import (
	"slices"
	"testing"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/dodo"
)

// The integrations whose default template renders Dodo events share one list
// of event types (package dodo): their defaults cannot drift apart.
func TestOneListOfDodoEventTypes(t *testing.T) {
	for _, name := range []string{"slack", "discord", "segment"} {
		spec, ok := integrations.Lookup(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		if !slices.Equal(spec.DefaultEventTypes, dodo.Events()) {
			t.Errorf("%s default event types %v, want dodo.Events() %v", name, spec.DefaultEventTypes, dodo.Events())
		}
		tpl, _ := spec.Template(spec.DefaultTemplate)
		if !slices.Equal(tpl.EventTypes, dodo.Events()) {
			t.Errorf("%s template %q event types %v, want dodo.Events()", name, tpl.Name, tpl.EventTypes)
		}
	}
	// A caller changing its copy changes no one else's.
	ev := dodo.Events()
	ev[0] = "changed"
	if dodo.Events()[0] == "changed" {
		t.Fatal("dodo.Events shares its slice")
	}
}
