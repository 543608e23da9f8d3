package transformer

import (
	"reflect"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/token"
	"github.com/dop251/goja/unistring"
)

// reusableBody reports whether the script's top level may run once per
// runtime rather than once per run, with the handler it defines kept for
// every later run. That is so only when running it again could not give a
// run anything different: when the top level has no effect but defining
// names, and nothing a run does can change what those names hold.
//
// The check is syntactic and errs towards "no". The top level may hold
// only:
//   - function declarations (not async, not generators);
//   - const declarations of a function or arrow function (not async), of a
//     primitive literal, or of a "table": an array or object literal of
//     primitive literals (no spread, no computed keys, no __proto__);
//   - a 'use strict' directive.
//
// And everywhere in the script, a name declared there may be used only so:
// a function only as the callee of a call, name(...) (never stored, passed,
// read as a value, or given to new, so its object and prototype are out of
// reach); a table only for member reads, t.x and t[k], and the calls
// t.includes(...), t.indexOf(...) and the other methods of readOnlyMethods,
// which do not change or expose the table. Primitives are immutable and may
// be used freely. `arguments` (arguments.callee) and `with` anywhere make the
// script not reusable. The names are matched without regard to scope, so a
// local variable of the same name counts as a use: that can only say "no"
// more often.
//
// What is reused is then immutable or unreachable, and Run keeps a fresh
// global object per run as before (a function declared at the top level
// reads globals through the runtime's current global object).
func reusableBody(prg *ast.Program) bool {
	w := &usageWalker{names: map[unistring.String]bindingKind{}, ok: true, seen: map[uintptr]bool{}}
	var bodies []ast.Node
	for _, st := range prg.Body {
		switch s := st.(type) {
		case *ast.FunctionDeclaration:
			f := s.Function
			if f.Name == nil || f.Async || f.Generator {
				return false
			}
			w.names[f.Name.Name] = bindFunc
			bodies = append(bodies, f.ParameterList, f.Body)
		case *ast.LexicalDeclaration:
			if s.Token != token.CONST {
				return false
			}
			for _, b := range s.List {
				id, ok := b.Target.(*ast.Identifier)
				kind := initKind(b.Initializer)
				if !ok || kind == 0 {
					return false
				}
				w.names[id.Name] = kind
				if kind == bindFunc {
					bodies = append(bodies, b.Initializer)
				}
			}
		case *ast.ExpressionStatement:
			if lit, ok := s.Expression.(*ast.StringLiteral); !ok || lit.Value != "use strict" {
				return false
			}
		case *ast.EmptyStatement:
		default:
			return false
		}
	}
	for _, n := range bodies {
		w.walk(reflect.ValueOf(n))
	}
	return w.ok
}

type bindingKind int

const (
	bindFunc bindingKind = iota + 1
	bindPrimitive
	bindTable
)

// readOnlyMethods are the methods a table may be called with: built-ins
// that neither change their receiver nor hand it to script code.
var readOnlyMethods = map[unistring.String]bool{
	"includes": true, "indexOf": true, "lastIndexOf": true, "join": true, "at": true, "slice": true,
	"hasOwnProperty": true,
}

// initKind classifies a top-level const's initializer; 0 is "not allowed".
func initKind(e ast.Expression) bindingKind {
	switch x := e.(type) {
	case *ast.FunctionLiteral:
		if !x.Async && !x.Generator {
			return bindFunc
		}
	case *ast.ArrowFunctionLiteral:
		if !x.Async {
			return bindFunc
		}
	case *ast.ArrayLiteral:
		for _, v := range x.Value {
			if !isPrimitiveLiteral(v) {
				return 0
			}
		}
		return bindTable
	case *ast.ObjectLiteral:
		for _, p := range x.Value {
			kp, ok := p.(*ast.PropertyKeyed)
			if !ok || kp.Computed || kp.Kind != ast.PropertyKindValue || !isPrimitiveLiteral(kp.Value) {
				return 0
			}
			switch k := kp.Key.(type) {
			case *ast.StringLiteral:
				if k.Value == "__proto__" {
					return 0
				}
			case *ast.NumberLiteral:
			default:
				return 0
			}
		}
		return bindTable
	default:
		if isPrimitiveLiteral(e) {
			return bindPrimitive
		}
	}
	return 0
}

func isPrimitiveLiteral(e ast.Expression) bool {
	switch x := e.(type) {
	case *ast.StringLiteral, *ast.NumberLiteral, *ast.BooleanLiteral, *ast.NullLiteral:
		return true
	case *ast.TemplateLiteral:
		return x.Tag == nil && len(x.Expressions) == 0
	case *ast.UnaryExpression:
		_, num := x.Operand.(*ast.NumberLiteral)
		return x.Operator == token.MINUS && num
	}
	return false
}

type useContext int

const (
	useOther  useContext = iota // read as a value, passed, stored, ...
	useCallee                   // name(...)
	useMember                   // name.x or name[k], read
	useMethod                   // name.m(...) with m in readOnlyMethods
)

// usageWalker finds every use of the top-level names in the code it walks.
type usageWalker struct {
	names   map[unistring.String]bindingKind
	ok      bool
	writing int // > 0 under an assignment target, delete, ++/--, a for-in/of target or an unusual callee
	seen    map[uintptr]bool
}

func (w *usageWalker) use(name unistring.String, ctx useContext) {
	if name == "arguments" {
		w.ok = false
		return
	}
	kind, found := w.names[name]
	if !found {
		return
	}
	if w.writing > 0 {
		ctx = useOther
	}
	switch kind {
	case bindFunc:
		w.ok = w.ok && ctx == useCallee
	case bindTable:
		w.ok = w.ok && (ctx == useMember || ctx == useMethod)
	}
}

var (
	identifierPtr = reflect.TypeOf((*ast.Identifier)(nil))
	identifierVal = reflect.TypeOf(ast.Identifier{})
)

// walk visits every node under v, by reflection over goja's AST like
// bigIntLiteral, handling the nodes where a name's use is decided.
func (w *usageWalker) walk(v reflect.Value) {
	if !w.ok {
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem())
		}
		return
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Type() == identifierPtr {
			w.use(v.Interface().(*ast.Identifier).Name, useOther)
			return
		}
		if v.Elem().Kind() != reflect.Struct || v.Elem().Type().PkgPath() != astPackage || w.seen[v.Pointer()] {
			return
		}
		w.seen[v.Pointer()] = true
		if w.special(v.Interface()) {
			return
		}
		w.walk(v.Elem())
	case reflect.Struct:
		if v.Type() == identifierVal {
			w.use(v.Interface().(ast.Identifier).Name, useOther)
			return
		}
		if v.Type().PkgPath() != astPackage {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				w.walk(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		switch v.Type().Elem().Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Struct:
			for i := range v.Len() {
				w.walk(v.Index(i))
			}
		}
	}
}

func (w *usageWalker) node(n any) {
	if n != nil {
		w.walk(reflect.ValueOf(n))
	}
}

// special handles the nodes that decide how a name is used; it reports
// whether it walked n's children itself.
func (w *usageWalker) special(n any) bool {
	switch x := n.(type) {
	case *ast.WithStatement:
		w.ok = false
		return true
	case *ast.CallExpression:
		callee := x.Callee
		for {
			if o, ok := callee.(*ast.Optional); ok { // f?.(), t.m?.()
				callee = o.Expression
				continue
			}
			if o, ok := callee.(*ast.OptionalChain); ok {
				callee = o.Expression
				continue
			}
			break
		}
		switch c := callee.(type) {
		case *ast.Identifier:
			w.use(c.Name, useCallee)
		case *ast.DotExpression:
			if id, ok := c.Left.(*ast.Identifier); ok {
				ctx := useOther
				if readOnlyMethods[c.Identifier.Name] {
					ctx = useMethod
				}
				w.use(id.Name, ctx)
			} else {
				w.node(c.Left)
			}
		default: // t[k](), (a || t.m)(), ...: anything called here is a value
			w.writing++
			w.node(callee)
			w.writing--
		}
		for _, a := range x.ArgumentList {
			w.node(a)
		}
		return true
	case *ast.DotExpression:
		if id, ok := x.Left.(*ast.Identifier); ok {
			w.use(id.Name, useMember)
		} else {
			w.node(x.Left)
		}
		return true // x.Identifier is a property name, not a use
	case *ast.BracketExpression:
		if id, ok := x.Left.(*ast.Identifier); ok {
			w.use(id.Name, useMember)
		} else {
			w.node(x.Left)
		}
		w.node(x.Member)
		return true
	case *ast.AssignExpression:
		w.writing++
		w.node(x.Left)
		w.writing--
		w.node(x.Right)
		return true
	case *ast.UnaryExpression:
		switch x.Operator {
		case token.DELETE, token.INCREMENT, token.DECREMENT:
			w.writing++
			w.node(x.Operand)
			w.writing--
			return true
		}
	case *ast.ForInStatement:
		w.writing++
		w.node(x.Into)
		w.writing--
		w.node(x.Source)
		w.node(x.Body)
		return true
	case *ast.ForOfStatement:
		w.writing++
		w.node(x.Into)
		w.writing--
		w.node(x.Source)
		w.node(x.Body)
		return true
	}
	return false
}
