package integrations_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/transformer"
)

// The helpers as scripts see them: numbers and digit strings in, major
// units and formatted text out; read-only; bad amounts throw with a message.
func TestScriptHelpers(t *testing.T) {
	code := `function handler(w) {
  w.payload = {
    usd: toMajorUnits(2999, 'USD'), jpy: toMajorUnits(4500, 'JPY'), kwd: toMajorUnits(12345, 'kwd'),
    dispute: toMajorUnits('2999', 'USD'), exp: [currencyExponent('JPY'), currencyExponent('usd'), currencyExponent('BHD')],
    fmt: [formatAmount(2999, 'usd'), formatAmount(150000, 'JPY'), formatAmount(12345, 'KWD'), formatAmount('2999', 'USD')],
  };
  try { toMajorUnits = () => 1; } catch (e) { console.log('read-only'); }
  w.payload.still = toMajorUnits(250, 'USD');
  return w;
}`
	res, err := engine.Run(context.Background(), transformer.Script{TenantID: "t", Code: code}, transformer.Input{
		Method: "POST", URL: "https://example.com", EventType: "x", Payload: json.RawMessage(`{}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"usd":29.99,"jpy":4500,"kwd":12.345,"dispute":29.99,"exp":[0,2,3],"fmt":["29.99 USD","150,000 JPY","12.345 KWD","29.99 USD"],"still":2.5}`
	if string(res.Payload) != want {
		t.Errorf("payload\n got %s\nwant %s", res.Payload, want)
	}
	// Sloppy-mode assignment to a read-only global is silently ignored;
	// either way the helper must be unchanged (still = 2.5 above).
	if len(res.Logs) > 1 {
		t.Errorf("logs = %q", res.Logs)
	}

	for _, bad := range []string{`toMajorUnits(29.99, 'USD')`, `toMajorUnits(null, 'USD')`, `formatAmount('12.5', 'USD')`, `toMajorUnits(undefined, 'USD')`} {
		_, err := engine.Run(context.Background(), transformer.Script{TenantID: "t", Code: "function handler(w) { w.payload = " + bad + "; return w; }"},
			transformer.Input{Method: "POST", URL: "https://example.com", EventType: "x", Payload: json.RawMessage(`{}`)})
		if err == nil || !strings.Contains(err.Error(), "amount") {
			t.Errorf("%s: err = %v, want a thrown amount error", bad, err)
		}
	}
}
