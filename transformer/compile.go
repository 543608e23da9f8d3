package transformer

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
)

// scriptName is the file name goja reports in stack frames of merchant code.
const scriptName = "transform.js"

// The script body runs inside a function so that its top-level declarations
// (including `const` and `let`, which would otherwise live in the runtime's
// global scope and refuse to be declared twice) are created afresh on every
// run. The prefix sits on line 1 so line numbers are the merchant's own; only
// columns on line 1 shift, by len(wrapPrefix).
const (
	wrapPrefix = "(function(){"
	wrapSuffix = "\n;return typeof handler === \"function\" ? handler : undefined;\n})"
)

// compiled is one script version, ready to load into runtimes.
type compiled struct {
	prog *goja.Program // the wrapped script (see wrapPrefix)
	// reuse says the script's top level may run once per runtime, its
	// handler kept for every run (reusableBody).
	reuse bool
}

// compile parses code on its own first, which gives syntax errors in the
// merchant's coordinates and guarantees the code cannot close the wrapper
// function and run statements outside it, then compiles the wrapped source.
func (e *Engine) compile(code string, requireHandler bool) (*compiled, error) {
	if n := utf8.RuneCountInString(code); n > e.opts.MaxSourceLen {
		return nil, &Error{Kind: KindLimit, Message: fmt.Sprintf("script is %d characters, over the %d-character limit", n, e.opts.MaxSourceLen)}
	}
	prg, err := parser.ParseFile(nil, scriptName, code, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, syntaxError(err, 0)
	}
	if nl := bigIntLiteral(prg); nl != nil {
		pos := prg.File.Position(int(nl.Idx) - prg.File.Base())
		return nil, &Error{Kind: KindSyntax, Message: fmt.Sprintf("%s: line %d col %d", bigIntRefusal, pos.Line, pos.Column),
			Line: pos.Line, Column: pos.Column}
	}
	if requireHandler && !definesHandler(prg) {
		return nil, &Error{Kind: KindSyntax, Message: "the script must define a top-level function handler(webhook)"}
	}
	wrapped, err := parser.ParseFile(nil, scriptName, wrapPrefix+code+wrapSuffix, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, syntaxError(err, len(wrapPrefix))
	}
	p, err := goja.CompileAST(wrapped, false)
	if err != nil {
		return nil, syntaxError(err, len(wrapPrefix))
	}
	return &compiled{prog: p, reuse: reusableBody(prg)}, nil
}

// syntaxError converts a goja parse or compile error into a *Error. shift is
// how many columns the wrapper added to line 1.
func syntaxError(err error, shift int) *Error {
	out := &Error{Kind: KindSyntax, Message: err.Error()}
	var pos file.Position
	var list parser.ErrorList
	var one *parser.Error
	var cse *goja.CompilerSyntaxError
	switch {
	case errors.As(err, &list) && len(list) > 0:
		pos, out.Message = list[0].Position, list[0].Message
	case errors.As(err, &one):
		pos, out.Message = one.Position, one.Message
	case errors.As(err, &cse):
		out.Message = cse.Message
		if cse.File != nil {
			pos = cse.File.Position(cse.Offset)
		}
	}
	out.Line, out.Column = pos.Line, pos.Column
	if out.Line == 1 && out.Column > shift {
		out.Column -= shift
	}
	return out
}

// definesHandler reports whether the program declares `handler` at top level:
// a function declaration, or a var/let/const bound to any value (an arrow
// function is common in copied snippets).
func definesHandler(prg *ast.Program) bool {
	bound := func(list []*ast.Binding) bool {
		for _, b := range list {
			if id, ok := b.Target.(*ast.Identifier); ok && id.Name == "handler" {
				return true
			}
		}
		return false
	}
	for _, st := range prg.Body {
		switch s := st.(type) {
		case *ast.FunctionDeclaration:
			if s.Function.Name != nil && s.Function.Name.Name == "handler" {
				return true
			}
		case *ast.VariableStatement:
			if bound(s.List) {
				return true
			}
		case *ast.LexicalDeclaration:
			if bound(s.List) {
				return true
			}
		}
	}
	return false
}
