package integrations_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hookshift/hookshift/integrations"
)

// alertEvent is an operational event as queue.Alerter sends it (API.md
// "Alerts").
func alertEvent(typ string, count int, eventID, consoleURL string) json.RawMessage {
	data := map[string]any{"destination_id": "dst_datafast1", "destination_name": "DataFast revenue",
		"reason": "HTTP 401: invalid API key"}
	if count > 0 {
		data["count"] = count
	}
	if eventID != "" {
		data["event_id"] = eventID
	}
	if consoleURL != "" {
		data["console_url"] = consoleURL
	}
	b, _ := json.Marshal(map[string]any{"type": typ, "timestamp": "2026-12-02T01:00:00Z", "data": data})
	return b
}

// alertTemplates are the chat and email integrations whose default template
// renders operational events.
var alertTemplates = []string{"slack", "discord", "teams", "resend", "sendgrid"}

// Each chat and email integration's default template renders every alert
// type readably: what failed (the destination's name), the reason, the
// count, and the console link when there is one; an unknown hookshift.*
// type is skipped rather than sent raw.
func TestDefaultTemplatesRenderAlerts(t *testing.T) {
	const evt = "evt_abc123"
	cases := []struct {
		typ, eventID, link string
		count              int
		says               string // in the rendered message
	}{
		{"hookshift.delivery.dead_lettered", evt, "https://hooks.example.com/console/events/" + evt, 0, "failed for good"},
		{"hookshift.delivery.dead_lettered", evt, "", 12, "12 more deliveries"},
		{"hookshift.destination.disabled", "", "https://hooks.example.com/console/destinations/dst_datafast1", 0, "was disabled"},
		{"hookshift.destination.circuit_opened", "", "", 3, "paused"},
		{"hookshift.destination.recovered", "", "", 0, "receiving deliveries again"},
	}
	for _, integration := range alertTemplates {
		spec, _ := integrations.Lookup(integration)
		tpl := spec.DefaultTemplate
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%s/%d", integration, c.typ, c.count), func(t *testing.T) {
				raw := alertEvent(c.typ, c.count, c.eventID, c.link)
				res := mustRun(t, integration, tpl, "hookshift", raw)
				if res.Cancel {
					t.Fatal("an alert was skipped")
				}
				out := string(res.Payload)
				want := []string{"DataFast revenue", "HTTP 401: invalid API key", c.says}
				if c.link != "" {
					want = append(want, c.link)
				}
				if c.count > 0 {
					want = append(want, fmt.Sprint(c.count))
				}
				if c.eventID != "" {
					want = append(want, c.eventID)
				}
				for _, w := range want {
					if !strings.Contains(out, w) {
						t.Errorf("rendered %s\nwant it to contain %q", out, w)
					}
				}
				if strings.Contains(out, `"destination_name"`) {
					t.Errorf("the raw event was sent, not a message: %s", out)
				}
			})
		}
		t.Run(integration+"/unknown", func(t *testing.T) {
			if res := mustRun(t, integration, tpl, "hookshift", alertEvent("hookshift.something.new", 0, "", "")); !res.Cancel {
				t.Errorf("an unknown operational type was sent: %s", res.Payload)
			}
		})
	}
}
