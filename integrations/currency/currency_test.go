package currency

import (
	"math"
	"testing"
)

func TestExponent(t *testing.T) {
	cases := []struct {
		code string
		want int
	}{
		{"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"INR", 2}, {"usd", 2}, {" eur ", 2},
		{"JPY", 0}, {"jpy", 0}, {"KRW", 0}, {"CLP", 0}, {"VND", 0}, {"UGX", 0}, {"MGA", 0},
		{"PYG", 0}, {"RWF", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"ISK", 0}, {"BIF", 0},
		{"DJF", 0}, {"GNF", 0}, {"KMF", 0}, {"VUV", 0}, {"UYI", 0},
		{"KWD", 3}, {"kwd", 3}, {"BHD", 3}, {"OMR", 3}, {"JOD", 3}, {"TND", 3}, {"LYD", 3}, {"IQD", 3},
		{"CLF", 4}, {"UYW", 4},
		{"", 2}, {"XYZ", 2}, {"USDT", 2},
	}
	for _, tc := range cases {
		if got := Exponent(tc.code); got != tc.want {
			t.Errorf("Exponent(%q) = %d, want %d", tc.code, got, tc.want)
		}
	}
}

func TestToMajor(t *testing.T) {
	cases := []struct {
		amount int64
		code   string
		want   float64
	}{
		{2999, "USD", 29.99},
		{1000, "usd", 10},
		{1, "EUR", 0.01},
		{0, "USD", 0},
		{-1500, "USD", -15},
		{4500, "JPY", 4500},
		{1500, "KRW", 1500},
		{12500, "KWD", 12.5},
		{12345, "BHD", 12.345},
		{7, "OMR", 0.007},
		{123456, "CLF", 12.3456},
		{1999, "XYZ", 19.99},
		{9007199254740993, "USD", 90071992547409.93},
	}
	for _, tc := range cases {
		if got := ToMajor(tc.amount, tc.code); got != tc.want {
			t.Errorf("ToMajor(%d, %q) = %v, want %v", tc.amount, tc.code, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := []struct {
		amount int64
		code   string
		want   string
	}{
		{2999, "USD", "29.99 USD"},
		{2999, "usd", "29.99 USD"},
		{5, "EUR", "0.05 EUR"},
		{0, "USD", "0.00 USD"},
		{123456789, "USD", "1,234,567.89 USD"},
		{100000, "USD", "1,000.00 USD"},
		{-1050, "GBP", "-10.50 GBP"},
		{1500, "JPY", "1,500 JPY"},
		{999, "JPY", "999 JPY"},
		{12345, "KWD", "12.345 KWD"},
		{12500, "KWD", "12.500 KWD"},
		{5, "BHD", "0.005 BHD"},
		{2999, "", "29.99"},
		{math.MinInt64, "USD", "-92,233,720,368,547,758.08 USD"},
	}
	for _, tc := range cases {
		if got := Format(tc.amount, tc.code); got != tc.want {
			t.Errorf("Format(%d, %q) = %q, want %q", tc.amount, tc.code, got, tc.want)
		}
	}
}
