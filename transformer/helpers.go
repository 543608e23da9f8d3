package transformer

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/dop251/goja"
)

// helper is one entry of Options.Helpers, ready to install in a runtime.
type helper struct {
	name string
	fn   any    // a Go function, exposed as is
	json string // any other value, as JSON, parsed into plain JS values
}

// prepareHelpers validates Options.Helpers. Non-function values become plain
// frozen JS data, never live Go maps or structs: goja would expose those by
// reference and a write from one tenant's script would reach every runtime.
func prepareHelpers(m map[string]any) ([]helper, error) {
	out := make([]helper, 0, len(m))
	for name, v := range m {
		if v != nil && reflect.TypeOf(v).Kind() == reflect.Func {
			out = append(out, helper{name: name, fn: v})
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("helper %q is neither a function nor JSON-encodable: %w", name, err)
		}
		out = append(out, helper{name: name, json: string(b)})
	}
	slices.SortFunc(out, func(a, b helper) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out, nil
}

func (h helper) value(vm *goja.Runtime, parse goja.Callable) (goja.Value, error) {
	if h.fn != nil {
		return namedFunc(vm, h.name, h.fn), nil
	}
	return parse(goja.Undefined(), vm.ToValue(h.json))
}

// namedFunc wraps the Go function fn as a JS function called name. goja
// names a wrapped Go function after its Go symbol
// ("main.serve.ScriptHelpers.func2"), which a script would see in
// String(fn) and fn.name; renamed, it prints as
// "function name() { [native code] }", like a built-in.
func namedFunc(vm *goja.Runtime, name string, fn any) goja.Value {
	v := vm.ToValue(fn)
	if o, ok := v.(*goja.Object); ok {
		_ = o.DefineDataProperty("name", vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	return v
}
