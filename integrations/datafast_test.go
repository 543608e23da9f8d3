package integrations_test

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	maria     = "maria.lopez@example.com"
	mariaName = "María López"
	mariaID   = "cus_3xK8pQw2ZrV6mN1tY9bL"
)

// The default DataFast template on every Dodo sample, field by field.
func TestDataFastDefaultTemplate(t *testing.T) {
	cases := []struct {
		event  string
		cancel string // a log line the cancel must leave, or "-" for any cancel
		want   map[string]any
	}{
		{event: "payment.succeeded.usd.json", want: map[string]any{
			"amount": 29.99, "currency": "USD", "transaction_id": "pay_2IjeQm4hqU6RA4Z4kwDee",
			"datafast_visitor_id": "df_v_8f3c2a91-4b7e-4d2a-9c11-0e5f6a7b8c9d", "email": maria, "name": mariaName,
			"customer_id": mariaID, "renewal": false, "refunded": nil, "timestamp": "2025-03-14T09:26:41.887Z",
		}},
		{event: "payment.succeeded.jpy.json", want: map[string]any{
			"amount": 4500.0, "currency": "JPY", "transaction_id": "pay_8QwE3rT5yU7iO9pA1sD2f", "renewal": false,
			"datafast_visitor_id": "df_v_1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
		}},
		{event: "payment.succeeded.kwd.json", want: map[string]any{
			"amount": 12.5, "currency": "KWD", "transaction_id": "pay_3ZxC5vB7nM9aS1dF3gH5j", "renewal": false,
		}},
		{event: "payment.succeeded.usd.no-visitor.json", cancel: "no datafast_visitor_id on pay_5NbV7cX2mQ9rT3wLk8Hj1, not sent"},
		// A subscription's charge is recorded from the subscription event
		// that comes with it, never from the payment: no double count.
		{event: "payment.succeeded.renewal.json", cancel: "pay_6TyU8iO0pA2sD4fG6hJ8k is a charge of sub_4rT6yU8iO0pQ2wE4rT6y: recorded from its subscription event"},
		{event: "subscription.active.json", want: map[string]any{
			"amount": 25.0, "currency": "USD", "transaction_id": "sub_4rT6yU8iO0pQ2wE4rT6y:2025-03-14T09:26:41.887912Z",
			"datafast_visitor_id": "df_v_8f3c2a91-4b7e-4d2a-9c11-0e5f6a7b8c9d", "email": maria, "customer_id": mariaID,
			"renewal": false, "is_free_trial": nil, "timestamp": "2025-03-14T09:26:41.887Z",
		}},
		{event: "subscription.renewed.json", want: map[string]any{
			"amount": 25.0, "currency": "USD", "transaction_id": "sub_4rT6yU8iO0pQ2wE4rT6y:2025-04-14T09:26:41.887912Z",
			"renewal": true, "timestamp": "2025-04-14T09:26:41.887Z",
		}},
		{event: "refund.succeeded.json", want: map[string]any{
			"amount": 10.0, "currency": "USD", "transaction_id": "ref_9LkJ7hG5fD3sA1pO9iU7y", "refunded": true,
			"datafast_visitor_id": nil, "email": maria, "name": mariaName, "customer_id": mariaID, "renewal": nil,
			"timestamp": "2025-03-20T12:44:58.019Z",
		}},
		{event: "payment.failed.json", cancel: "-"},
		{event: "dispute.opened.json", cancel: "-"},
		{event: "subscription.cancelled.json", cancel: "-"},
		{event: "license_key.created.json", cancel: "-"},
		{event: "credit.added.json", cancel: "-"},
	}
	for _, tc := range cases {
		t.Run(tc.event, func(t *testing.T) {
			res := mustRun(t, "datafast", "default", "dodo", fixture(t, "dodo", tc.event))
			if tc.cancel != "" {
				if !res.Cancel {
					t.Fatalf("sent %s, want a cancel", res.Payload)
				}
				if tc.cancel != "-" && (len(res.Logs) != 1 || res.Logs[0] != tc.cancel) {
					t.Errorf("logs = %q, want [%q]", res.Logs, tc.cancel)
				}
				return
			}
			if res.Cancel {
				t.Fatalf("cancelled (logs %q)", res.Logs)
			}
			if res.URL != "https://datafa.st/api/v1/payments" || res.Method != "POST" {
				t.Errorf("request = %s %s", res.Method, res.URL)
			}
			fieldsEqual(t, body(t, res), tc.want)
		})
	}
}

// The renewal rule over the pairs of events Dodo sends for one charge: the
// first charge of a subscription (payment.succeeded + subscription.active)
// yields one record with renewal false; a renewal (payment.succeeded +
// subscription.renewed) exactly one record with renewal true; a duplicate
// delivery of either event yields the same transaction_id, which DataFast
// counts once.
func TestDataFastRenewalCountedOnce(t *testing.T) {
	// The first charge of the subscription: a payment with the
	// subscription_id, created with the subscription.
	first := patch(t, fixture(t, "dodo", "payment.succeeded.usd.json"), func(m map[string]any) {
		m["data"].(map[string]any)["subscription_id"] = "sub_4rT6yU8iO0pQ2wE4rT6y"
	})
	type record struct {
		tx      string
		renewal bool
	}
	records := func(events ...json.RawMessage) []record {
		var out []record
		for _, ev := range events {
			res := mustRun(t, "datafast", "default", "dodo", ev)
			if res.Cancel {
				continue
			}
			b := body(t, res)
			out = append(out, record{b["transaction_id"].(string), b["renewal"].(bool)})
		}
		return out
	}
	active, renewed, renewalPay := fixture(t, "dodo", "subscription.active.json"), fixture(t, "dodo", "subscription.renewed.json"), fixture(t, "dodo", "payment.succeeded.renewal.json")

	got := records(first, active, active) // active delivered twice
	if len(got) != 2 || got[0] != got[1] || got[0].renewal {
		t.Errorf("first charge: records %v, want one transaction, not a renewal", got)
	}
	got = records(renewalPay, renewed, renewed, renewalPay)
	if len(got) != 2 || got[0] != got[1] || !got[0].renewal {
		t.Errorf("renewal: records %v, want one transaction, flagged renewal", got)
	}
	// The next renewal is a new period, so a new transaction.
	next := patch(t, renewed, func(m map[string]any) {
		m["data"].(map[string]any)["previous_billing_date"] = "2025-05-14T09:26:41.887912Z"
	})
	if n := records(next); len(n) != 1 || n[0].tx == got[0].tx || !n[0].renewal {
		t.Errorf("next renewal: %v", n)
	}
}

func TestDataFastFreeTrial(t *testing.T) {
	trial := patch(t, fixture(t, "dodo", "subscription.active.json"), func(m map[string]any) {
		m["data"].(map[string]any)["trial_period_days"] = 14
	})
	b := body(t, mustRun(t, "datafast", "default", "dodo", trial))
	fieldsEqual(t, b, map[string]any{"amount": 0.0, "is_free_trial": true, "renewal": false})
}

func TestDataFastPaymentsTemplate(t *testing.T) {
	cases := []struct {
		event  string
		amount float64
		cur    string
		cancel bool
	}{
		{"payment.succeeded.usd.json", 29.99, "USD", false},
		{"payment.succeeded.jpy.json", 4500, "JPY", false},
		{"payment.succeeded.kwd.json", 12.5, "KWD", false},
		{"payment.succeeded.renewal.json", 29.99, "USD", false},
		{"payment.succeeded.usd.no-visitor.json", 0, "", true},
		{"refund.succeeded.json", 0, "", true},
		{"subscription.renewed.json", 0, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.event, func(t *testing.T) {
			res := mustRun(t, "datafast", "payments", "dodo", fixture(t, "dodo", tc.event))
			if res.Cancel != tc.cancel {
				t.Fatalf("cancel = %v, want %v", res.Cancel, tc.cancel)
			}
			if tc.cancel {
				return
			}
			fieldsEqual(t, body(t, res), map[string]any{"amount": tc.amount, "currency": tc.cur, "renewal": nil, "email": maria, "customer_id": mariaID})
		})
	}
}

func TestDataFastRefundsTemplate(t *testing.T) {
	res := mustRun(t, "datafast", "refunds", "dodo", fixture(t, "dodo", "refund.succeeded.json"))
	fieldsEqual(t, body(t, res), map[string]any{"amount": 10.0, "currency": "USD", "transaction_id": "ref_9LkJ7hG5fD3sA1pO9iU7y", "refunded": true, "customer_id": mariaID})

	jpy := patch(t, fixture(t, "dodo", "refund.succeeded.json"), func(m map[string]any) {
		d := m["data"].(map[string]any)
		d["amount"], d["currency"], d["metadata"] = 1500, "JPY", map[string]any{"datafast_visitor_id": "df_v_x"}
	})
	fieldsEqual(t, body(t, mustRun(t, "datafast", "refunds", "dodo", jpy)), map[string]any{"amount": 1500.0, "currency": "JPY", "datafast_visitor_id": "df_v_x"})

	noAmount := patch(t, fixture(t, "dodo", "refund.succeeded.json"), func(m map[string]any) { m["data"].(map[string]any)["amount"] = nil })
	if res := mustRun(t, "datafast", "refunds", "dodo", noAmount); !res.Cancel || !strings.Contains(strings.Join(res.Logs, ""), "no amount") {
		t.Errorf("refund without amount: cancel=%v logs=%q", res.Cancel, res.Logs)
	}
	if res := mustRun(t, "datafast", "refunds", "dodo", fixture(t, "dodo", "payment.succeeded.usd.json")); !res.Cancel {
		t.Error("a payment went through the refunds template")
	}
}

// Stripe: refund.created and charge.refunded describe one refund and yield
// one DataFast transaction; an opened dispute is not money lost yet.
func TestDataFastStripeTemplate(t *testing.T) {
	run := func(name string) map[string]any {
		res := mustRun(t, "datafast", "stripe", "stripe", fixture(t, "stripe", name))
		if res.Cancel {
			t.Fatalf("%s cancelled: %q", name, res.Logs)
		}
		return body(t, res)
	}
	created, charge := run("refund.created.json"), run("charge.refunded.json")
	fieldsEqual(t, created, map[string]any{"amount": 15.0, "currency": "USD", "transaction_id": "re_3QxR2kLkdIwHu7ix0XqKc4Rb", "refunded": true, "timestamp": "2025-12-31T23:59:00.000Z"})
	fieldsEqual(t, charge, map[string]any{"amount": 15.0, "currency": "USD", "transaction_id": "re_3QxR2kLkdIwHu7ix0XqKc4Rb", "refunded": true,
		"datafast_visitor_id": "dfv_8c1e2f3a4b5c", "email": "jenny.rosen@example.com", "customer_id": "cus_RqT5mN2bVx8YzA"})

	// Without the expanded refunds list, the id falls back to the charge and
	// the cumulative refunded amount, still the same on every retry.
	bare := patch(t, fixture(t, "stripe", "charge.refunded.json"), func(m map[string]any) {
		delete(m["data"].(map[string]any)["object"].(map[string]any), "refunds")
	})
	fieldsEqual(t, body(t, mustRun(t, "datafast", "stripe", "stripe", bare)), map[string]any{"amount": 15.0, "transaction_id": "ch_3QxR2kLkdIwHu7ix0Lq1dE5s:refunded:1500"})

	fieldsEqual(t, run("payment_intent.succeeded.json"), map[string]any{"amount": 29.99, "currency": "USD", "transaction_id": "pi_3QxR2kLkdIwHu7ix0aB7cD9e", "datafast_visitor_id": "dfv_8c1e2f3a4b5c", "refunded": nil})

	if res := mustRun(t, "datafast", "stripe", "stripe", fixture(t, "stripe", "charge.dispute.created.json")); !res.Cancel {
		t.Errorf("dispute.created sent %s", res.Payload)
	}
	lost := patch(t, fixture(t, "stripe", "charge.dispute.created.json"), func(m map[string]any) {
		m["type"] = "charge.dispute.closed"
		m["data"].(map[string]any)["object"].(map[string]any)["status"] = "lost"
	})
	fieldsEqual(t, body(t, mustRun(t, "datafast", "stripe", "stripe", lost)), map[string]any{"amount": 49.0, "transaction_id": "du_1QxS9aLkdIwHu7ixy6Hn5JkM", "refunded": true})

	jpy := patch(t, fixture(t, "stripe", "refund.created.json"), func(m map[string]any) {
		o := m["data"].(map[string]any)["object"].(map[string]any)
		o["amount"], o["currency"] = 1500, "jpy"
	})
	fieldsEqual(t, body(t, mustRun(t, "datafast", "stripe", "stripe", jpy)), map[string]any{"amount": 1500.0, "currency": "JPY"})
}

// Cryptomus sends major units as strings: sent as a number, undivided.
func TestDataFastCryptomusTemplate(t *testing.T) {
	for _, name := range []string{"paid.json", "paid_over.json"} {
		raw := fixture(t, "cryptomus", name)
		// Neither sample carries a visitor id: not sent.
		if res := mustRun(t, "datafast", "cryptomus", "cryptomus", raw); !res.Cancel || !strings.Contains(strings.Join(res.Logs, ""), "no datafast_visitor_id") {
			t.Errorf("%s without visitor: cancel=%v logs=%q", name, res.Cancel, res.Logs)
		}
		withVisitor := patch(t, raw, func(m map[string]any) {
			m["additional_data"] = `{"datafast_visitor_id":"df_v_crypto","email":"zoe@example.com"}`
		})
		var src map[string]any
		_ = json.Unmarshal(raw, &src)
		b := body(t, mustRun(t, "datafast", "cryptomus", "cryptomus", withVisitor))
		fieldsEqual(t, b, map[string]any{"amount": 15.0, "currency": "USD", "transaction_id": src["uuid"], "datafast_visitor_id": "df_v_crypto", "email": "zoe@example.com"})
	}
	bare := patch(t, fixture(t, "cryptomus", "paid.json"), func(m map[string]any) { m["additional_data"], m["amount"] = "df_v_1a2b3c4d", "1234.5" })
	fieldsEqual(t, body(t, mustRun(t, "datafast", "cryptomus", "cryptomus", bare)), map[string]any{"amount": 1234.5, "datafast_visitor_id": "df_v_1a2b3c4d"})

	for _, name := range []string{"cancel.json", "wrong_amount.json"} {
		raw := patch(t, fixture(t, "cryptomus", name), func(m map[string]any) { m["additional_data"] = `{"datafast_visitor_id":"v"}` })
		if res := mustRun(t, "datafast", "cryptomus", "cryptomus", raw); !res.Cancel {
			t.Errorf("%s sent %s", name, res.Payload)
		}
	}
}
