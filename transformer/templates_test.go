package transformer

import (
	"strings"
	"testing"
)

// dataFastTemplate is the DataFast mapping merchants copy from our docs. It
// uses ES2020 as documentation scripts do: optional chaining, nullish
// coalescing, object spread, template literals, arrow functions, includes,
// toFixed and Date.
const dataFastTemplate = `// Dodo Payments -> DataFast revenue attribution
const ZERO_DECIMAL = ['JPY', 'KRW', 'CLP', 'VND', 'UGX', 'MGA', 'PYG', 'RWF', 'XAF', 'XOF'];
const THREE_DECIMAL = ['KWD', 'BHD', 'OMR', 'JOD', 'TND'];

const toMajor = (amount, currency) => {
  const code = currency?.toUpperCase();
  if (ZERO_DECIMAL.includes(code)) return amount;
  if (THREE_DECIMAL.includes(code)) return Number((amount / 1000).toFixed(3));
  return Number((amount / 100).toFixed(2));
};

function handler(webhook) {
  const { type, data } = webhook.payload;
  if (type !== 'payment.succeeded') {
    webhook.cancel = true;
    return webhook;
  }
  const visitorId = data?.metadata?.datafast_visitor_id;
  if (!visitorId) {
    console.log(` + "`no datafast_visitor_id on ${data?.payment_id}, not sent`" + `);
    webhook.cancel = true;
    return webhook;
  }
  webhook.payload = {
    amount: toMajor(data.total_amount, data.currency),
    currency: data.currency,
    transaction_id: data.payment_id,
    datafast_visitor_id: visitorId,
    email: data.customer?.email,
    name: data.customer?.name ?? undefined,
    customer_id: data.customer?.customer_id,
    renewal: data.subscription_id != null,
    timestamp: new Date(data.created_at).toISOString(),
  };
  webhook.headers = {
    ...webhook.headers,
    Authorization: ` + "`Bearer ${webhook.env.DATAFAST_API_KEY}`" + `,
    'Content-Type': 'application/json',
  };
  return webhook;
}
`

// slackTemplate posts a payment notification to a Slack incoming webhook:
// template literals, toFixed, Date, encodeURIComponent, Object.entries,
// destructuring and String.prototype.replace with a regex and a callback.
const slackTemplate = `function handler(webhook) {
  const { data, timestamp } = webhook.payload;
  const amount = (data.total_amount / 100).toFixed(2);
  const who = data.customer?.name ?? data.customer?.email ?? 'someone';
  const when = new Date(timestamp);
  const link = ` + "`https://app.dodopayments.com/transactions/payments/${encodeURIComponent(data.payment_id)}?from=${encodeURIComponent('hook shift')}`" + `;
  const escape = (s) => String(s).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
  const extras = Object.entries(data.metadata ?? {})
    .filter(([k]) => !['datafast_visitor_id'].includes(k))
    .map(([k, v]) => ` + "`${k}=${v}`" + `)
    .join(', ');
  webhook.url = webhook.env.SLACK_WEBHOOK_URL;
  webhook.payload = {
    text: ` + "`:moneybag: ${escape(who)} paid ${amount} ${data.currency}`" + `,
    blocks: [{
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ` + "`*${escape(who)}* paid *${amount} ${data.currency}* on ${when.toISOString().slice(0, 10)}\\n<${link}|${data.payment_id}>${extras ? `\\n_${extras}_` : ''}`" + `,
      },
    }],
  };
  return webhook;
}
`

func TestDataFastTemplate(t *testing.T) {
	e := New(Options{})
	if err := e.Check(dataFastTemplate); err != nil {
		t.Fatalf("Check: %v", err)
	}
	cases := []struct {
		event        string
		amount       float64
		currency     string
		renewal      bool
		transaction  string
		wantCancel   bool
		wantLogMatch string
	}{
		{event: "payment.succeeded.usd.json", amount: 29.99, currency: "USD", transaction: "pay_2IjeQm4hqU6RA4Z4kwDee"},
		{event: "payment.succeeded.jpy.json", amount: 4500, currency: "JPY", transaction: "pay_8QwE3rT5yU7iO9pA1sD2f"},
		{event: "payment.succeeded.kwd.json", amount: 12.5, currency: "KWD", transaction: "pay_3ZxC5vB7nM9aS1dF3gH5j"},
		{event: "payment.succeeded.renewal.json", amount: 29.99, currency: "USD", renewal: true, transaction: "pay_6TyU8iO0pA2sD4fG6hJ8k"},
		{event: "payment.succeeded.usd.no-visitor.json", wantCancel: true, wantLogMatch: "no datafast_visitor_id on pay_5NbV7cX2mQ9rT3wLk8Hj1, not sent"},
		{event: "payment.failed.json", wantCancel: true},
		{event: "refund.succeeded.json", wantCancel: true},
		{event: "dispute.opened.json", wantCancel: true},
		{event: "subscription.active.json", wantCancel: true},
		{event: "subscription.renewed.json", wantCancel: true},
		{event: "subscription.cancelled.json", wantCancel: true},
		{event: "license_key.created.json", wantCancel: true},
		{event: "credit.added.json", wantCancel: true},
	}
	for _, tc := range cases {
		t.Run(tc.event, func(t *testing.T) {
			res := mustRun(t, e, dataFastTemplate, eventInput(t, tc.event))
			if res.Cancel != tc.wantCancel {
				t.Fatalf("Cancel = %v, want %v (payload %s)", res.Cancel, tc.wantCancel, res.Payload)
			}
			if tc.wantLogMatch != "" && (len(res.Logs) != 1 || res.Logs[0] != tc.wantLogMatch) {
				t.Errorf("Logs = %q, want [%q]", res.Logs, tc.wantLogMatch)
			}
			if tc.wantCancel {
				return
			}
			if res.Method != "POST" || res.URL != "https://datafa.st/api/v1/payments" {
				t.Errorf("request = %s %s", res.Method, res.URL)
			}
			if got := res.Headers["Authorization"]; got != "Bearer df_test_key" {
				t.Errorf("Authorization = %q", got)
			}
			p := decode(t, res.Payload)
			if p["amount"] != tc.amount || p["currency"] != tc.currency || p["transaction_id"] != tc.transaction || p["renewal"] != tc.renewal {
				t.Errorf("payload = %s", res.Payload)
			}
			if !strings.HasPrefix(p["datafast_visitor_id"].(string), "df_v_") || p["email"] != "maria.lopez@example.com" || p["name"] != "María López" {
				t.Errorf("payload = %s", res.Payload)
			}
			if _, ok := p["timestamp"].(string); !ok {
				t.Errorf("timestamp missing: %s", res.Payload)
			}
		})
	}
}

func TestDataFastTemplateExactOutput(t *testing.T) {
	e := New(Options{})
	res := mustRun(t, e, dataFastTemplate, eventInput(t, "payment.succeeded.usd.json"))
	want := `{"amount":29.99,"currency":"USD","transaction_id":"pay_2IjeQm4hqU6RA4Z4kwDee","datafast_visitor_id":"df_v_8f3c2a91-4b7e-4d2a-9c11-0e5f6a7b8c9d","email":"maria.lopez@example.com","name":"María López","customer_id":"cus_3xK8pQw2ZrV6mN1tY9bL","renewal":false,"timestamp":"2025-03-14T09:26:41.887Z"}`
	if string(res.Payload) != want {
		t.Fatalf("payload\n got %s\nwant %s", res.Payload, want)
	}
}

func TestSlackTemplate(t *testing.T) {
	e := New(Options{})
	in := eventInput(t, "payment.succeeded.usd.json")
	res := mustRun(t, e, slackTemplate, in)
	if res.URL != in.Env["SLACK_WEBHOOK_URL"] {
		t.Errorf("URL = %q", res.URL)
	}
	p := decode(t, res.Payload)
	if p["text"] != ":moneybag: María López paid 29.99 USD" {
		t.Errorf("text = %q", p["text"])
	}
	block := p["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"].(string)
	want := "*María López* paid *29.99 USD* on 2025-03-14\n<https://app.dodopayments.com/transactions/payments/pay_2IjeQm4hqU6RA4Z4kwDee?from=hook%20shift|pay_2IjeQm4hqU6RA4Z4kwDee>\n_plan=pro_monthly, source=landing_v3, seats=3, trial=false_"
	if block != want {
		t.Errorf("block text\n got %q\nwant %q", block, want)
	}
}

func TestSlackTemplateEscapesWithRegexCallback(t *testing.T) {
	e := New(Options{})
	in := simpleInput(`{"timestamp":"2025-03-14T09:26:53Z","data":{"total_amount":100,"currency":"USD","payment_id":"pay_1","customer":{"name":"Tom & <Jerry>"}}}`)
	in.Env = map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X"}
	res := mustRun(t, e, slackTemplate, in)
	if got := decode(t, res.Payload)["text"]; got != ":moneybag: Tom &amp; &lt;Jerry&gt; paid 1.00 USD" {
		t.Errorf("text = %q", got)
	}
}

// A Go helper given to every script, as the docs' currencyExponent.
func TestGoHelper(t *testing.T) {
	e := New(Options{Helpers: map[string]any{
		"currencyExponent": func(code string) int {
			switch code {
			case "JPY", "KRW":
				return 0
			case "KWD", "BHD":
				return 3
			}
			return 2
		},
		"zeroDecimal": []string{"JPY", "KRW"},
	}})
	code := `function handler(w) {
  const d = w.payload.data;
  try { zeroDecimal.push('USD'); } catch (e) { console.log('frozen'); }
  w.payload = { amount: d.total_amount / 10 ** currencyExponent(d.currency), zero: zeroDecimal };
  return w;
}`
	for event, want := range map[string]float64{"payment.succeeded.jpy.json": 4500, "payment.succeeded.kwd.json": 12.5, "payment.succeeded.usd.json": 29.99} {
		res := mustRun(t, e, code, eventInput(t, event))
		p := decode(t, res.Payload)
		if p["amount"] != want || len(p["zero"].([]any)) != 2 || len(res.Logs) != 1 {
			t.Errorf("%s: payload %s logs %q", event, res.Payload, res.Logs)
		}
	}
}
