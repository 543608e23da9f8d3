package integrations_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// Slack: one message per event with the amount formatted for its currency.
func TestSlackTemplate(t *testing.T) {
	cases := []struct {
		dir, event, tpl string
		text            string // exact Slack text; "" means cancelled
		blockHas        []string
	}{
		{"dodo", "payment.succeeded.usd.json", "default", ":moneybag: María López paid 29.99 USD", []string{"`payment.succeeded`", "`pay_2IjeQm4hqU6RA4Z4kwDee`", "2025-03-14 09:26 UTC"}},
		{"dodo", "payment.succeeded.jpy.json", "default", ":moneybag: María López paid 4,500 JPY", nil},
		{"dodo", "payment.succeeded.kwd.json", "default", ":moneybag: María López paid 12.500 KWD", nil},
		{"dodo", "payment.succeeded.renewal.json", "default", ":moneybag: María López paid 29.99 USD", []string{"_subscription sub_4rT6yU8iO0pQ2wE4rT6y_"}},
		{"dodo", "payment.failed.json", "default", ":x: Payment of 29.99 USD by María López failed", []string{"_Your card was declined._"}},
		{"dodo", "refund.succeeded.json", "default", ":leftwards_arrow_with_hook: Refunded 10.00 USD to María López (partial)", []string{"_Customer requested a partial refund for one unused seat_", "`pay_2IjeQm4hqU6RA4Z4kwDee`"}},
		{"dodo", "dispute.opened.json", "default", ":warning: Dispute opened for 29.99 USD from María López", []string{"_Cardholder does not recognise the transaction_"}},
		{"dodo", "subscription.active.json", "default", ":repeat: María López's subscription active: 25.00 USD every month", []string{"next billing 2025-04-14"}},
		{"dodo", "subscription.renewed.json", "default", ":repeat: María López's subscription renewed: 25.00 USD every month", nil},
		{"dodo", "subscription.cancelled.json", "default", ":repeat: María López's subscription cancelled: 25.00 USD every month", nil},
		{"dodo", "license_key.created.json", "default", "", nil},
		{"dodo", "credit.added.json", "default", "", nil},
		{"stripe", "refund.created.json", "stripe", ":leftwards_arrow_with_hook: Refunded 15.00 USD", []string{"_payment pi_3QxR2kLkdIwHu7ix0aB7cD9e_", "_requested by customer_", "`refund.created` · `re_3QxR2kLkdIwHu7ix0XqKc4Rb`"}},
		{"stripe", "charge.refunded.json", "stripe", ":leftwards_arrow_with_hook: Refunded 15.00 USD to Jenny Rosen", []string{"_15.00 USD of 29.99 USD refunded in total_"}},
		{"stripe", "charge.dispute.created.json", "stripe", ":warning: Dispute opened for 49.00 USD: fraudulent", []string{"_evidence due 2026-01-10_"}},
		{"stripe", "payment_intent.succeeded.json", "stripe", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.tpl+"/"+tc.event, func(t *testing.T) {
			res := mustRun(t, "slack", tc.tpl, tc.dir, fixture(t, tc.dir, tc.event))
			if tc.text == "" {
				if !res.Cancel {
					t.Fatalf("sent %s", res.Payload)
				}
				return
			}
			if res.Cancel {
				t.Fatal("cancelled")
			}
			if res.URL != "https://hooks.slack.com/services/T000/B000/XXXX" {
				t.Errorf("URL = %q", res.URL)
			}
			var msg struct {
				Text   string `json:"text"`
				Blocks []struct {
					Type string `json:"type"`
					Text struct {
						Type, Text string
					} `json:"text"`
					Elements []struct{ Type, Text string } `json:"elements"`
				} `json:"blocks"`
			}
			if err := json.Unmarshal(res.Payload, &msg); err != nil {
				t.Fatal(err)
			}
			if msg.Text != tc.text {
				t.Errorf("text = %q, want %q", msg.Text, tc.text)
			}
			if len(msg.Blocks) != 2 || msg.Blocks[0].Type != "section" || msg.Blocks[0].Text.Type != "mrkdwn" || msg.Blocks[1].Type != "context" {
				t.Fatalf("blocks = %s", res.Payload)
			}
			if !strings.HasPrefix(msg.Blocks[0].Text.Text, tc.text) {
				t.Errorf("section = %q", msg.Blocks[0].Text.Text)
			}
			all := msg.Blocks[0].Text.Text + "\n" + msg.Blocks[1].Elements[0].Text
			for _, s := range tc.blockHas {
				if !strings.Contains(all, s) {
					t.Errorf("blocks lack %q:\n%s", s, all)
				}
			}
		})
	}
}

// A customer name cannot ping a channel or break the markup.
func TestSlackEscapesCustomerText(t *testing.T) {
	raw := patch(t, fixture(t, "dodo", "payment.succeeded.usd.json"), func(m map[string]any) {
		m["data"].(map[string]any)["customer"].(map[string]any)["name"] = "<!channel> Tom & Jerry"
	})
	b := body(t, mustRun(t, "slack", "default", "dodo", raw))
	if b["text"] != ":moneybag: &lt;!channel&gt; Tom &amp; Jerry paid 29.99 USD" {
		t.Errorf("text = %q", b["text"])
	}
}

func TestDiscordTemplate(t *testing.T) {
	cases := []struct {
		event   string
		content string
		color   float64
		fields  []string
	}{
		{"payment.succeeded.usd.json", "Payment succeeded: María López paid **29.99 USD**", 0x2eb67d, []string{"ID=`pay_2IjeQm4hqU6RA4Z4kwDee`"}},
		{"payment.succeeded.jpy.json", "Payment succeeded: María López paid **4,500 JPY**", 0x2eb67d, nil},
		{"payment.succeeded.kwd.json", "Payment succeeded: María López paid **12.500 KWD**", 0x2eb67d, nil},
		{"payment.failed.json", "Payment failed: Payment of **29.99 USD** by María López failed", 0xe01e5a, []string{"Reason=Your card was declined."}},
		{"refund.succeeded.json", "Refund (partial): Refunded **10.00 USD** to María López", 0xecb22e, []string{"ID=`pay_2IjeQm4hqU6RA4Z4kwDee`"}},
		{"dispute.opened.json", "Dispute opened: Dispute for **29.99 USD** from María López", 0xe01e5a, nil},
		{"subscription.renewed.json", "Subscription renewed: María López: **25.00 USD** every month", 0x36c5f0, []string{"Next billing=2025-05-14"}},
		{"subscription.cancelled.json", "Subscription cancelled: María López: **25.00 USD** every month", 0xe01e5a, nil},
		{"credit.added.json", "", 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.event, func(t *testing.T) {
			res := mustRun(t, "discord", "default", "dodo", fixture(t, "dodo", tc.event))
			if tc.content == "" {
				if !res.Cancel {
					t.Fatalf("sent %s", res.Payload)
				}
				return
			}
			var msg struct {
				Content string `json:"content"`
				Embeds  []struct {
					Title       string  `json:"title"`
					Description string  `json:"description"`
					Color       float64 `json:"color"`
					Fields      []struct{ Name, Value string }
					Timestamp   string `json:"timestamp"`
				} `json:"embeds"`
				AllowedMentions struct {
					Parse []string `json:"parse"`
				} `json:"allowed_mentions"`
			}
			if err := json.Unmarshal(res.Payload, &msg); err != nil {
				t.Fatal(err)
			}
			if msg.Content != tc.content {
				t.Errorf("content = %q, want %q", msg.Content, tc.content)
			}
			if len(msg.Embeds) != 1 || msg.Embeds[0].Color != tc.color || msg.Embeds[0].Timestamp == "" {
				t.Fatalf("embeds = %s", res.Payload)
			}
			if !strings.Contains(string(res.Payload), `"allowed_mentions":{"parse":[]}`) {
				t.Errorf("mentions not disabled: %s", res.Payload)
			}
			got := map[string]bool{}
			for _, f := range msg.Embeds[0].Fields {
				got[f.Name+"="+f.Value] = true
			}
			for _, f := range tc.fields {
				if !got[f] {
					t.Errorf("fields %v lack %q", got, f)
				}
			}
		})
	}
}
