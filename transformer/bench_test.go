package transformer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// reportPercentiles times each iteration and reports p50 and p99 in µs.
func reportPercentiles(b *testing.B, op func()) {
	b.Helper()
	d := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		op()
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(d)
	if len(d) > 0 {
		b.ReportMetric(float64(d[len(d)/2])/1e3, "p50-µs")
		b.ReportMetric(float64(d[len(d)*99/100])/1e3, "p99-µs")
	}
}

// BenchmarkRunPooled is the production path: cached program, pooled runtime.
func BenchmarkRunPooled(b *testing.B) {
	e := New(Options{})
	s := Script{TenantID: "tenant_a", Code: dataFastTemplate}
	in := eventInput(b, "payment.succeeded.usd.json")
	ctx := context.Background()
	reportPercentiles(b, func() {
		res, err := e.Run(ctx, s, in)
		if err != nil || res.Cancel {
			b.Fatal(err, res.Cancel)
		}
	})
}

// BenchmarkRunPooledParallel runs the pooled path from as many goroutines as
// GOMAXPROCS, through the Concurrency slots.
func BenchmarkRunPooledParallel(b *testing.B) {
	e := New(Options{})
	s := Script{TenantID: "tenant_a", Code: dataFastTemplate}
	in := eventInput(b, "payment.succeeded.usd.json")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Run(context.Background(), s, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRunFreshRuntime is alternative (a): what a naive integration does,
// a new goja runtime and a compile for every event (no hardening at all).
func BenchmarkRunFreshRuntime(b *testing.B) {
	in := eventInput(b, "payment.succeeded.usd.json")
	env := in.Env
	reportPercentiles(b, func() {
		vm := goja.New()
		if _, err := vm.RunString(dataFastTemplate); err != nil {
			b.Fatal(err)
		}
		handler, _ := goja.AssertFunction(vm.Get("handler"))
		parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
		payload, err := parse(goja.Undefined(), vm.ToValue(string(in.Payload)))
		if err != nil {
			b.Fatal(err)
		}
		w := vm.NewObject()
		_ = w.Set("method", in.Method)
		_ = w.Set("url", in.URL)
		_ = w.Set("eventType", in.EventType)
		_ = w.Set("payload", payload)
		_ = w.Set("env", env)
		out, err := handler(goja.Undefined(), w)
		if err != nil {
			b.Fatal(err)
		}
		stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
		if _, err := stringify(goja.Undefined(), out.ToObject(vm).Get("payload")); err != nil {
			b.Fatal(err)
		}
	})
}

// dodoPayment is the part of a Dodo payment event the DataFast mapping reads.
type dodoPayment struct {
	Type string `json:"type"`
	Data struct {
		PaymentID      string  `json:"payment_id"`
		TotalAmount    int64   `json:"total_amount"`
		Currency       string  `json:"currency"`
		SubscriptionID *string `json:"subscription_id"`
		CreatedAt      string  `json:"created_at"`
		Customer       struct {
			CustomerID string `json:"customer_id"`
			Email      string `json:"email"`
			Name       string `json:"name"`
		} `json:"customer"`
		Metadata map[string]any `json:"metadata"`
	} `json:"data"`
}

type dataFastPayment struct {
	Amount            float64 `json:"amount"`
	Currency          string  `json:"currency"`
	TransactionID     string  `json:"transaction_id"`
	DatafastVisitorID string  `json:"datafast_visitor_id"`
	Email             string  `json:"email,omitempty"`
	Name              string  `json:"name,omitempty"`
	CustomerID        string  `json:"customer_id,omitempty"`
	Renewal           bool    `json:"renewal"`
	Timestamp         string  `json:"timestamp"`
}

// mapDataFastGo is the DataFast template written in plain Go.
func mapDataFastGo(raw []byte, apiKey string) (Result, error) {
	var ev dodoPayment
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Result{}, err
	}
	visitor, _ := ev.Data.Metadata["datafast_visitor_id"].(string)
	if ev.Type != "payment.succeeded" || visitor == "" {
		return Result{Cancel: true}, nil
	}
	amount := float64(ev.Data.TotalAmount)
	switch strings.ToUpper(ev.Data.Currency) {
	case "JPY", "KRW", "CLP", "VND", "UGX", "MGA", "PYG", "RWF", "XAF", "XOF":
	case "KWD", "BHD", "OMR", "JOD", "TND":
		amount = math.Round(amount) / 1000
	default:
		amount = math.Round(amount) / 100
	}
	ts, err := time.Parse(time.RFC3339Nano, ev.Data.CreatedAt)
	if err != nil {
		return Result{}, err
	}
	body, err := json.Marshal(dataFastPayment{
		Amount: amount, Currency: ev.Data.Currency, TransactionID: ev.Data.PaymentID, DatafastVisitorID: visitor,
		Email: ev.Data.Customer.Email, Name: ev.Data.Customer.Name, CustomerID: ev.Data.Customer.CustomerID,
		Renewal: ev.Data.SubscriptionID != nil, Timestamp: ts.UTC().Format("2006-01-02T15:04:05.000Z"),
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Method: "POST", URL: "https://datafa.st/api/v1/payments", Payload: body,
		Headers: map[string]string{"Authorization": "Bearer " + apiKey, "Content-Type": "application/json"}}, nil
}

// BenchmarkPlainGo is alternative (b), the floor: the mapping in Go.
func BenchmarkPlainGo(b *testing.B) {
	in := eventInput(b, "payment.succeeded.usd.json")
	reportPercentiles(b, func() {
		if _, err := mapDataFastGo(in.Payload, in.Env["DATAFAST_API_KEY"]); err != nil {
			b.Fatal(err)
		}
	})
}

func TestPlainGoMatchesTemplate(t *testing.T) {
	e := New(Options{})
	for _, ev := range []string{"payment.succeeded.usd.json", "payment.succeeded.jpy.json", "payment.succeeded.kwd.json", "payment.succeeded.renewal.json"} {
		in := eventInput(t, ev)
		js := mustRun(t, e, dataFastTemplate, in)
		goRes, err := mapDataFastGo(in.Payload, in.Env["DATAFAST_API_KEY"])
		if err != nil {
			t.Fatal(err)
		}
		if string(js.Payload) != string(goRes.Payload) {
			t.Errorf("%s:\n js %s\n go %s", ev, js.Payload, goRes.Payload)
		}
	}
}

// The input-passing alternatives, each ending with the script reading one
// nested field so that lazily built values pay their way.

func inputBenchVM(b *testing.B) (*goja.Runtime, goja.Callable) {
	vm := goja.New()
	read, err := vm.RunString(`(function (p) { return p.data.customer.email.length + p.data.total_amount })`)
	if err != nil {
		b.Fatal(err)
	}
	f, _ := goja.AssertFunction(read)
	return vm, f
}

// BenchmarkInputJSONParse: the raw bytes as a JS string, JSON.parse in the
// runtime. Keeps key order; numbers as JSON.parse reads them. The fallback.
func BenchmarkInputJSONParse(b *testing.B) {
	raw := dodoEvent(b, "payment.succeeded.usd.json")
	vm, read := inputBenchVM(b)
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	b.ReportAllocs()
	for b.Loop() {
		v, err := parse(goja.Undefined(), vm.ToValue(string(raw)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := read(goja.Undefined(), v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInputGoMapToValue: encoding/json into map[string]any, then
// vm.ToValue. Loses key order (Go maps) and wraps Go maps by reference.
func BenchmarkInputGoMapToValue(b *testing.B) {
	raw := dodoEvent(b, "payment.succeeded.usd.json")
	vm, read := inputBenchVM(b)
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			b.Fatal(err)
		}
		if _, err := read(goja.Undefined(), vm.ToValue(m)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInputGoTokenBuild: a json.Decoder token stream (UseNumber) building
// native JS objects in order from Go. Keeps key order.
func BenchmarkInputGoTokenBuild(b *testing.B) {
	raw := dodoEvent(b, "payment.succeeded.usd.json")
	vm, read := inputBenchVM(b)
	b.ReportAllocs()
	for b.Loop() {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		v, err := buildValue(vm, dec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := read(goja.Undefined(), v); err != nil {
			b.Fatal(err)
		}
	}
}

func buildValue(vm *goja.Runtime, dec *json.Decoder) (goja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := vm.NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := buildValue(vm, dec)
				if err != nil {
					return nil, err
				}
				_ = o.Set(kt.(string), v)
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var items []any
			for dec.More() {
				v, err := buildValue(vm, dec)
				if err != nil {
					return nil, err
				}
				items = append(items, v)
			}
			_, err := dec.Token()
			return vm.NewArray(items...), err
		}
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return vm.ToValue(i), nil
		}
		f, _ := t.Float64()
		return vm.ToValue(f), nil
	case nil:
		return goja.Null(), nil
	default:
		return vm.ToValue(t), nil
	}
	return nil, io.ErrUnexpectedEOF
}

// Output alternatives: JSON.stringify in the runtime (chosen) against
// exporting to Go and json.Marshal (which also loses key order).
func BenchmarkOutputStringify(b *testing.B) {
	vm, v := outputBenchValue(b)
	stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	b.ReportAllocs()
	for b.Loop() {
		s, err := stringify(goja.Undefined(), v)
		if err != nil {
			b.Fatal(err)
		}
		_ = []byte(s.String())
	}
}

func BenchmarkOutputExportMarshal(b *testing.B) {
	_, v := outputBenchValue(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(v.Export()); err != nil {
			b.Fatal(err)
		}
	}
}

func outputBenchValue(b *testing.B) (*goja.Runtime, goja.Value) {
	vm := goja.New()
	v, err := vm.RunString(`({amount: 29.99, currency: 'USD', transaction_id: 'pay_2IjeQm4hqU6RA4Z4kwDee',
  datafast_visitor_id: 'df_v_8f3c2a91-4b7e-4d2a-9c11-0e5f6a7b8c9d', email: 'maria.lopez@example.com',
  name: 'María López', customer_id: 'cus_3xK8pQw2ZrV6mN1tY9bL', renewal: false, timestamp: '2025-03-14T09:26:41.887Z'})`)
	if err != nil {
		b.Fatal(err)
	}
	return vm, v
}

// BenchmarkNewRuntime is the cost of a pool miss: a hardened runtime.
func BenchmarkNewRuntime(b *testing.B) {
	e := New(Options{})
	prog, err := e.compile(dataFastTemplate, false)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.newRuntime(prog); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleEngine_Run() {
	e := New(Options{})
	res, err := e.Run(context.Background(), Script{TenantID: "tenant_a", Code: `function handler(webhook) {
  webhook.payload = { id: webhook.payload.data.payment_id };
  return webhook;
}`}, Input{Method: "POST", URL: "https://example.com/hook", EventType: "payment.succeeded",
		Payload: json.RawMessage(`{"type":"payment.succeeded","data":{"payment_id":"pay_1"}}`)})
	fmt.Println(string(res.Payload), err)
	// Output: {"id":"pay_1"} <nil>
}

// BenchmarkInputGoScanner: decodeJSON, the scanner that builds JS values
// from Go directly. Keeps key order and JSON.parse's numbers. (Chosen.)
func BenchmarkInputGoScanner(b *testing.B) {
	raw := dodoEvent(b, "payment.succeeded.usd.json")
	vm, read := inputBenchVM(b)
	b.ReportAllocs()
	for b.Loop() {
		v, err := decodeJSON(vm, raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := read(goja.Undefined(), v); err != nil {
			b.Fatal(err)
		}
	}
}
