// Package currency knows how many minor units each ISO 4217 currency has, so
// that amounts sent in the smallest unit (Dodo, Stripe) become major units
// (DataFast, Segment, chat messages) without each template keeping its own
// list of zero-decimal currencies.
package currency

import (
	"math"
	"strconv"
	"strings"
)

// DefaultExponent is the number of minor-unit digits assumed for a code the
// table does not list: two, as for most currencies.
const DefaultExponent = 2

// exponents lists every active ISO 4217 code whose minor unit is not two
// digits (ISO 4217 list one, amendment 179). Codes with two digits are the
// default and are not listed.
var exponents = map[string]int{
	// No minor unit.
	"BIF": 0, // Burundi franc
	"CLP": 0, // Chilean peso
	"DJF": 0, // Djibouti franc
	"GNF": 0, // Guinean franc
	"ISK": 0, // Icelandic króna
	"JPY": 0, // Japanese yen
	"KMF": 0, // Comoro franc
	"KRW": 0, // South Korean won
	"PYG": 0, // Paraguayan guaraní
	"RWF": 0, // Rwandan franc
	"UGX": 0, // Ugandan shilling
	"UYI": 0, // Uruguay peso en unidades indexadas
	"VND": 0, // Vietnamese đồng
	"VUV": 0, // Vanuatu vatu
	"XAF": 0, // CFA franc BEAC
	"XOF": 0, // CFA franc BCEAO
	"XPF": 0, // CFP franc
	// ISO 4217 gives the Malagasy ariary two digits, but its subunit is a
	// fifth, not a hundredth, and payment platforms (Stripe, Dodo) charge it
	// as a zero-decimal currency: an amount of 1500 MGA means 1500 ariary.
	"MGA": 0,

	// Three digits.
	"BHD": 3, // Bahraini dinar
	"IQD": 3, // Iraqi dinar
	"JOD": 3, // Jordanian dinar
	"KWD": 3, // Kuwaiti dinar
	"LYD": 3, // Libyan dinar
	"OMR": 3, // Omani rial
	"TND": 3, // Tunisian dinar

	// Four digits: units of account.
	"CLF": 4, // Unidad de Fomento
	"UYW": 4, // Unidad previsional
}

// Exponent returns the number of minor-unit digits of code (case-insensitive):
// 0 for JPY, 3 for KWD, 2 for USD and for any code it does not know.
func Exponent(code string) int {
	if e, ok := exponents[strings.ToUpper(strings.TrimSpace(code))]; ok {
		return e
	}
	return DefaultExponent
}

// ToMajor converts an amount in the smallest unit of code to major units:
// 2999 USD is 29.99, 4500 JPY is 4500, 12500 KWD is 12.5. The result is the
// float64 nearest to the exact decimal value.
func ToMajor(amount int64, code string) float64 {
	e := Exponent(code)
	if e == 0 {
		return float64(amount)
	}
	// Both operands are exact for |amount| < 2^53, so the quotient is the
	// correctly rounded decimal; parsing the decimal string keeps that true
	// beyond 2^53 as well.
	f, err := strconv.ParseFloat(decimal(amount, e), 64)
	if err != nil {
		return float64(amount) / math.Pow10(e)
	}
	return f
}

// Format renders an amount in the smallest unit of code as the major amount
// with exactly the currency's digits, thousands grouped with commas, and the
// upper-case code after it: "29.99 USD", "4,500 JPY", "12.345 KWD",
// "-10.00 EUR". A code is used rather than a symbol because "$" alone does
// not say which dollar.
func Format(amount int64, code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	s := decimal(amount, Exponent(code))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	if code != "" {
		b.WriteByte(' ')
		b.WriteString(code)
	}
	return b.String()
}

// decimal writes amount / 10^e exactly, with e digits after the point.
func decimal(amount int64, e int) string {
	neg := amount < 0
	// Work on the magnitude as uint64 so that math.MinInt64 is safe.
	u := uint64(amount)
	if neg {
		u = -u
	}
	digits := strconv.FormatUint(u, 10)
	if e > 0 {
		if len(digits) <= e {
			digits = strings.Repeat("0", e-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-e] + "." + digits[len(digits)-e:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}
