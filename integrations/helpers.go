package integrations

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hookshift/hookshift/integrations/currency"
)

// ScriptHelpers are the read-only globals every transform script gets
// (transformer.Options.Helpers), so templates and merchants' scripts share
// one ISO 4217 table instead of each keeping a list of zero-decimal
// currencies:
//
//	currencyExponent(code)     2 for USD, 0 for JPY, 3 for KWD
//	toMajorUnits(amount, code) 2999, "USD" → 29.99; 4500, "JPY" → 4500
//	formatAmount(amount, code) 2999, "USD" → "29.99 USD"; 12345, "KWD" → "12.345 KWD"
//
// amount is an integer in the currency's smallest unit, as a number or a
// string of digits (a Dodo Dispute's amount is a string). Anything else
// throws a TypeError-like error the merchant sees with its line.
//
// The helpers are flat names because the transformer exposes a non-function
// helper as frozen JSON, which cannot hold functions.
func ScriptHelpers() map[string]any {
	return map[string]any{
		"currencyExponent": func(code string) int { return currency.Exponent(code) },
		"toMajorUnits": func(amount any, code string) (float64, error) {
			n, err := minorUnits("toMajorUnits", amount)
			if err != nil {
				return 0, err
			}
			return currency.ToMajor(n, code), nil
		},
		"formatAmount": func(amount any, code string) (string, error) {
			n, err := minorUnits("formatAmount", amount)
			if err != nil {
				return "", err
			}
			return currency.Format(n, code), nil
		},
	}
}

// minorUnits reads a script's amount argument: goja exports an integral JS
// number as int64, any other number as float64, and a string as is.
func minorUnits(fn string, v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), nil
		}
		return 0, fmt.Errorf("%s: amount must be an integer in the currency's smallest unit, got %v", fn, n)
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: amount %q is not an integer in the currency's smallest unit", fn, n)
		}
		return i, nil
	case nil:
		return 0, fmt.Errorf("%s: amount is missing (null or undefined)", fn)
	default:
		return 0, fmt.Errorf("%s: amount must be a number or a string of digits, got %T", fn, v)
	}
}
