package transformer

import (
	"context"
	"testing"
)

func BenchmarkProbeTrivial(b *testing.B) {
	e := New(Options{})
	s := Script{TenantID: "tenant_a", Code: `function handler(w){return w}`}
	in := simpleInput(`{}`)
	ctx := context.Background()
	reportPercentiles(b, func() {
		if _, err := e.Run(ctx, s, in); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkProbeTrivialBigPayload(b *testing.B) {
	e := New(Options{})
	s := Script{TenantID: "tenant_a", Code: `function handler(w){w.payload = 1; return w}`}
	in := eventInput(b, "payment.succeeded.usd.json")
	ctx := context.Background()
	reportPercentiles(b, func() {
		if _, err := e.Run(ctx, s, in); err != nil {
			b.Fatal(err)
		}
	})
}
