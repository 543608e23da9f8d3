package transformer

import (
	"math/big"
	"reflect"

	"github.com/dop251/goja/ast"
)

// BigInt is refused in transforms, not bounded. goja computes BigInt
// arithmetic in single native calls (math/big) that neither the wall-time
// Interrupt nor the heap watchdog can stop in time: `1n << 8000000000n`
// allocates a gigabyte in one step, `7n ** 30000000n` burns seconds of CPU,
// and goja's compiler folds constant expressions such as
// `const x = 7n ** 30000000n`, so the same work happens while a script is
// saved, outside every run limit. No merchant script needs a BigInt (amounts
// are integers in minor units, far below 2**53), so instead of guarding
// every operator the engine removes every source of a BigInt value:
//
//   - literals (`1n`, `0x1n`, anywhere in the code) are refused when the
//     script is compiled, before goja's compiler can fold them
//     (bigIntLiteral);
//   - the BigInt function is replaced by a stub that throws (preludeJS);
//   - BigInt64Array, BigUint64Array, DataView and ArrayBuffer are removed
//     (preludeJS), eval and Function are disabled, and JSON.parse and the
//     engine's own decoder never make BigInts.
//
// Without a first BigInt there is nothing for the BigInt operators to work
// on. Helpers given in Options.Helpers must not return *big.Int either.
const bigIntRefusal = "BigInt is not supported in transforms"

var (
	astPackage      = reflect.TypeOf(ast.Program{}).PkgPath()
	numberLiteralTy = reflect.TypeOf((*ast.NumberLiteral)(nil))
)

// bigIntLiteral returns the first BigInt literal in node, or nil. It walks
// every field of every node by reflection, so a node type added to goja's
// AST later is still searched.
func bigIntLiteral(node ast.Node) *ast.NumberLiteral {
	seen := make(map[uintptr]bool)
	var found *ast.NumberLiteral
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if found != nil {
			return
		}
		switch v.Kind() {
		case reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			if v.Type() == numberLiteralTy {
				if nl := v.Interface().(*ast.NumberLiteral); isBigInt(nl.Value) {
					found = nl
				}
				return
			}
			if v.Elem().Kind() != reflect.Struct || v.Elem().Type().PkgPath() != astPackage || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			walk(v.Elem())
		case reflect.Struct:
			if v.Type().PkgPath() != astPackage {
				return
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			switch v.Type().Elem().Kind() {
			case reflect.Interface, reflect.Pointer, reflect.Struct:
				for i := range v.Len() {
					walk(v.Index(i))
				}
			}
		}
	}
	walk(reflect.ValueOf(node))
	return found
}

func isBigInt(v any) bool {
	_, ok := v.(*big.Int)
	return ok
}
