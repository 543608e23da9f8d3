package transformer

import (
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// truncatedNote ends the captured logs of a run that logged more than
// Options.MaxLogBytes.
const truncatedNote = "[console output truncated]"

// console captures console.log/info/warn/error/debug of one runtime. The
// engine resets it before every run.
type console struct {
	max       int
	stringify goja.Callable
	logs      []string
	size      int
	full      bool
}

func (c *console) reset() {
	c.logs, c.size, c.full = nil, 0, false
}

// take returns the captured lines and forgets them.
func (c *console) take() []string {
	l := c.logs
	c.logs = nil
	return l
}

func (c *console) object(vm *goja.Runtime) *goja.Object {
	o := vm.NewObject()
	for _, level := range []struct{ name, prefix string }{
		{"log", ""}, {"info", "[info] "}, {"debug", "[debug] "}, {"warn", "[warn] "}, {"error", "[error] "},
	} {
		_ = o.Set(level.name, namedFunc(vm, level.name, func(call goja.FunctionCall) goja.Value {
			c.write(level.prefix, call.Arguments)
			return goja.Undefined()
		}))
	}
	return o
}

func (c *console) write(prefix string, args []goja.Value) {
	if c.full {
		return
	}
	room := c.max - c.size
	var b strings.Builder
	b.WriteString(prefix)
	for i, a := range args {
		if b.Len() > room {
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.format(a))
	}
	line := b.String()
	if len(line) > room {
		cut := max(room, 0)
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if cut > 0 {
			c.logs = append(c.logs, line[:cut])
		}
		c.logs = append(c.logs, truncatedNote)
		c.full = true
		return
	}
	c.logs = append(c.logs, line)
	c.size += len(line)
}

// format renders one console argument roughly as a browser would: strings
// as they are, errors as "Name: message", other objects as JSON.
func (c *console) format(v goja.Value) string {
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() == "Error" || o.ClassName() == "Function" {
		return v.String()
	}
	s, err := c.stringify(goja.Undefined(), v)
	if err != nil || goja.IsUndefined(s) {
		return v.String()
	}
	return s.String()
}
