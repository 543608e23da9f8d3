package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/queue"
	"github.com/hookshift/hookshift/rules"
)

// alertAt is one operational event as an alert destination received it.
type alertAt struct {
	queue.AlertEvent
	idempotencyKey string
}

// alerts are the operational events sk received, in order.
func (sk *sink) alerts() []alertAt {
	var out []alertAt
	for _, r := range sk.got() {
		var a queue.AlertEvent
		if json.Unmarshal(r.body, &a) == nil && rules.IsOperational(a.Type) {
			out = append(out, alertAt{AlertEvent: a, idempotencyKey: r.header.Get("Idempotency-Key")})
		}
	}
	return out
}

// waitAlerts waits until sk has received at least n operational events.
func (s *stack) waitAlerts(sk *sink, n int, within time.Duration) []alertAt {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if got := sk.alerts(); len(got) >= n {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("the alert destination received %d operational events within %v, want %d: %+v", len(sk.alerts()), within, n, sk.alerts())
	return nil
}

// quiet gives the workers time to do anything still due (an alert that
// should not come) before the test asserts its absence.
func (s *stack) quiet(d time.Duration) { time.Sleep(d) }

func (s *stack) putAlerts(tok string, dests []string, types ...string) {
	s.t.Helper()
	s.mustCall(200, "PUT", "/v1/alerts", tok, map[string]any{"destination_ids": dests, "types": types})
}

// GET|PUT /v1/alerts: stored as given, answered with what was stored, and
// bad input (another tenant's destination, an unknown type) is a 422 that
// names it and changes nothing.
func TestAlertSettingsAPI(t *testing.T) {
	s := newStack(t)
	tok, src, _, dst := s.setup("http://127.0.0.1:9/hook")
	other := s.tenant("other")
	otherSrc, _ := s.source(other)
	foreign := s.destination(other, map[string]any{"source_id": otherSrc, "name": "theirs", "integration": "http", "url": "http://127.0.0.1:9/x"})
	_ = src

	got := s.mustCall(200, "GET", "/v1/alerts", tok, nil)
	if toJSON(got) != `{"destination_ids":[],"types":[]}` {
		t.Fatalf("GET before any PUT = %s, want empty lists", toJSON(got))
	}
	put := s.mustCall(200, "PUT", "/v1/alerts", tok, map[string]any{"destination_ids": []string{dst, dst},
		"types": []string{rules.AlertDisabled, rules.AlertDeadLettered}})
	want := fmt.Sprintf(`{"destination_ids":[%q],"types":[%q,%q]}`, dst, rules.AlertDisabled, rules.AlertDeadLettered)
	if toJSON(put) != want {
		t.Fatalf("PUT answered %s, want what was stored %s", toJSON(put), want)
	}

	for _, c := range []struct {
		name, field, mentions string
		body                  map[string]any
	}{
		{"another tenant's destination", "destination_ids", foreign, map[string]any{"destination_ids": []string{dst, foreign}, "types": []string{}}},
		{"no such destination", "destination_ids", "dst_nope", map[string]any{"destination_ids": []string{"dst_nope"}}},
		{"unknown type", "types", rules.AlertRecovered, map[string]any{"types": []string{"hookshift.destination.exploded"}}},
	} {
		code, out := s.call("PUT", "/v1/alerts", tok, c.body)
		msg := toJSON(out)
		if code != 422 || !strings.Contains(msg, `"field":"`+c.field+`"`) || !strings.Contains(msg, c.mentions) {
			t.Errorf("%s: %d %s, want 422 on %s mentioning %q", c.name, code, msg, c.field, c.mentions)
		}
	}
	if toJSON(s.mustCall(200, "GET", "/v1/alerts", tok, nil)) != want {
		t.Fatal("a refused PUT changed the stored settings")
	}
	if toJSON(s.mustCall(200, "GET", "/v1/alerts", other, nil)) != `{"destination_ids":[],"types":[]}` {
		t.Fatal("one tenant's alert settings showed for another")
	}
	s.mustCall(204, "DELETE", "/v1/destinations/"+dst, tok, nil)
	if got := toJSON(s.mustCall(200, "GET", "/v1/alerts", tok, nil)); strings.Contains(got, dst) {
		t.Fatalf("a deleted destination is still listed: %s", got)
	}
}

// A destination that answers 410 is disabled, and the alert destination
// gets one hookshift.destination.disabled about it, whatever its own
// event-type filter, delivered like any event (idempotency key, attempts in
// the event API), with a console link.
func TestGoneDestinationRaisesOneDisabledAlert(t *testing.T) {
	s := newStack(t)
	s.alerts.PublicURL = "https://hooks.example.com/"
	s.startWorker()
	gone := newSink(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(410) })
	tok, src, secret, dst := s.setup(gone.URL)
	bell := newSink(t, nil)
	alertDst := s.destination(tok, map[string]any{"source_id": src, "name": "ops", "integration": "http", "url": bell.URL,
		"event_types": []string{"refund.succeeded"}})
	s.putAlerts(tok, []string{alertDst, dst}, rules.AlertTypes()...)

	s.waitStatus(tok, s.accept(src, secret, "gone-1"), dst, "failed", 10*time.Second)
	s.waitAlerts(bell, 2, 10*time.Second) // the delivery's dead letter, and the disable
	s.quiet(time.Second)
	var disabled []alertAt
	for _, a := range bell.alerts() {
		if a.Type == rules.AlertDisabled {
			disabled = append(disabled, a)
		}
	}
	if len(disabled) != 1 {
		t.Fatalf("alerts = %+v, want exactly one %s", bell.alerts(), rules.AlertDisabled)
	}
	a := disabled[0]
	if a.Type != rules.AlertDisabled || a.Data.DestinationID != dst || a.Data.DestinationName != "sink" ||
		!strings.Contains(a.Data.Reason, "410") || a.Data.ConsoleURL != "https://hooks.example.com/console/destinations/"+dst {
		t.Fatalf("alert = %+v, want destination.disabled about %s with the 410 and a console link", a, dst)
	}
	if len(gone.alerts()) != 0 {
		t.Fatal("the destination an alert is about received it")
	}

	// The operational event is in the tenant's event log, with its attempt.
	evID, _, _ := strings.Cut(a.idempotencyKey, ":")
	ev := s.mustCall(200, "GET", "/v1/events/"+evID, tok, nil)
	if ev["type"] != rules.AlertDisabled {
		t.Fatalf("event %s = %v, want the operational event", evID, ev)
	}
	d := s.waitStatus(tok, evID, alertDst, "delivered", 5*time.Second)
	if d["attempt_count"].(float64) != 1 {
		t.Fatalf("alert delivery = %v, want one attempt recorded", d)
	}

	// A replay of the alert goes to the alert destinations again, with the
	// same idempotency key, never to the destination it is about.
	out := s.mustCall(202, "POST", "/v1/events/"+evID+"/replay", tok, nil)
	if toJSON(out["destination_ids"]) != toJSON([]string{alertDst}) {
		t.Fatalf("replay of the alert went to %v, want [%s]", out["destination_ids"], alertDst)
	}
	s.waitAlerts(bell, 3, 10*time.Second)
	if again := bell.alerts()[2]; again.idempotencyKey != a.idempotencyKey {
		t.Fatalf("replayed alert key %q, want %q", again.idempotencyKey, a.idempotencyKey)
	}
	if code, _ := s.call("POST", "/v1/events/"+evID+"/replay", tok, map[string]any{"destination_id": dst}); code != 400 {
		t.Fatalf("replay of an alert to the destination it is about: %d, want 400", code)
	}
}

// 30 dead letters in a window give one alert at once; the window's flush
// sends one more carrying the other 29, though no dead letter follows. The
// alert destination that the alerts are about never gets them, and the
// destination's credential, echoed in its error body, is masked in reasons.
func TestDeadLetterBurstIsCountedIntoOneMoreAlert(t *testing.T) {
	s := newStack(t)
	s.alerts.Window = 4 * time.Second
	s.startWorker()
	// A Slack webhook's path is its credential; Slack's plain-text error
	// body is kept in the reason, here echoing the credential.
	const token = "sEcReTsEgMeNt0123456789"
	bad := newSink(t, func(_ int, w http.ResponseWriter) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte("invalid_payload for /services/T0/B0/" + token))
	})
	tok := s.tenant("acme")
	src, secret := s.source(tok)
	dst := s.destination(tok, map[string]any{"source_id": src, "name": "crm", "integration": "slack",
		"config": map[string]any{"webhook_url": bad.URL + "/services/T0/B0/" + token}})
	bell := newSink(t, nil)
	alertDst := s.destination(tok, map[string]any{"source_id": src, "name": "ops", "integration": "http", "url": bell.URL,
		"event_types": []string{"nothing.matches"}})
	s.putAlerts(tok, []string{dst, alertDst}, rules.AlertDeadLettered)

	var last string
	for i := range 30 {
		last = s.accept(src, secret, fmt.Sprintf("burst-%d", i))
	}
	s.waitStatus(tok, last, dst, "failed", 10*time.Second)
	got := s.waitAlerts(bell, 2, 20*time.Second)
	s.quiet(time.Second)
	if got = bell.alerts(); len(got) != 2 {
		t.Fatalf("alerts = %+v, want two: the first dead letter, then the count", got)
	}
	if got[0].Data.Count != 0 || got[0].Data.EventID == "" || got[1].Data.Count != 29 || got[1].Data.EventID == "" {
		t.Fatalf("alerts = %+v, want the first with its event and no count, the next with count 29", got)
	}
	for _, a := range got {
		if a.Type != rules.AlertDeadLettered || a.Data.DestinationID != dst || !strings.Contains(a.Data.Reason, "invalid_payload") {
			t.Errorf("alert = %+v, want a dead letter of %s with its reason", a, dst)
		}
	}
	for _, r := range bell.got() {
		if strings.Contains(string(r.body), token) {
			t.Fatalf("an alert carries the destination's credential: %s", r.body)
		}
	}
	if len(bad.alerts()) != 0 {
		t.Fatal("the destination the alerts are about received them")
	}
}

// An alert destination that fails raises no alert about its own alerts:
// the operational event is retried and dead-lettered like any event, and
// nothing more is said.
func TestFailingAlertDestinationDoesNotAlertAboutItself(t *testing.T) {
	s := newStack(t)
	s.alerts.Window = 2 * time.Second
	s.startWorker()
	bad := newSink(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(400) })
	tok, src, secret, dst := s.setup(bad.URL)
	broken := newSink(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(500) })
	brokenDst := s.destination(tok, map[string]any{"source_id": src, "name": "broken", "integration": "http", "url": broken.URL,
		"event_types": []string{"nothing.matches"}})
	bell := newSink(t, nil)
	bellDst := s.destination(tok, map[string]any{"source_id": src, "name": "ops", "integration": "http", "url": bell.URL,
		"event_types": []string{"nothing.matches"}})
	s.putAlerts(tok, []string{brokenDst, bellDst}, rules.AlertTypes()...)

	s.accept(src, secret, "fails-once")
	first := s.waitAlerts(bell, 1, 10*time.Second)[0]
	evID, _, _ := strings.Cut(first.idempotencyKey, ":")
	s.waitStatus(tok, evID, brokenDst, "failed", 20*time.Second) // 1 + 3 retries, 1 s apart
	s.quiet(3 * time.Second)                                     // longer than a window: a held alert would flush
	for _, a := range bell.alerts() {
		if a.Data.DestinationID != dst {
			t.Errorf("alert about %s (%s): a failing alert destination alerted about its own alerts", a.Data.DestinationID, a.Type)
		}
	}
	if n := len(bell.alerts()); n != 1 {
		t.Fatalf("alerts = %+v, want only the one about %s", bell.alerts(), dst)
	}
}

// One tenant's alerts never reach, or mention, another tenant.
func TestAlertsStayWithTheirTenant(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	bad := newSink(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(400) })
	tok, src, secret, dst := s.setup(bad.URL)
	mine := newSink(t, nil)
	mineDst := s.destination(tok, map[string]any{"source_id": src, "name": "ops", "integration": "http", "url": mine.URL})
	s.putAlerts(tok, []string{mineDst}, rules.AlertTypes()...)

	other := s.tenant("other")
	otherSrc, _ := s.source(other)
	theirs := newSink(t, nil)
	theirDst := s.destination(other, map[string]any{"source_id": otherSrc, "name": "ops", "integration": "http", "url": theirs.URL})
	s.putAlerts(other, []string{theirDst}, rules.AlertTypes()...)

	s.accept(src, secret, "tenant-a-fails")
	got := s.waitAlerts(mine, 1, 10*time.Second)
	s.quiet(time.Second)
	if got[0].Data.DestinationID != dst {
		t.Fatalf("alert = %+v, want it about %s", got[0], dst)
	}
	for _, r := range theirs.got() {
		t.Errorf("the other tenant's alert destination received %s", r.body)
	}
	evs := s.mustCall(200, "GET", "/v1/events", other, nil)
	if b := toJSON(evs); strings.Contains(b, dst) || strings.Contains(b, "hookshift.") {
		t.Fatalf("the other tenant's event log shows this tenant's alert: %s", b)
	}
}

// A circuit that opens raises circuit_opened once; the success that closes
// it raises recovered once.
func TestCircuitOpenedAndRecoveredAlertOnce(t *testing.T) {
	s := newStack(t)
	s.guard = queue.Guard{Threshold: 2, Cooldown: time.Second}
	s.startWorker()
	flaky := newSink(t, func(n int, w http.ResponseWriter) {
		if n <= 2 {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(200)
	})
	tok, src, secret, dst := s.setup(flaky.URL)
	bell := newSink(t, nil)
	bellDst := s.destination(tok, map[string]any{"source_id": src, "name": "ops", "integration": "http", "url": bell.URL,
		"event_types": []string{"nothing.matches"}})
	s.putAlerts(tok, []string{bellDst}, rules.AlertTypes()...)

	s.waitStatus(tok, s.accept(src, secret, "flaky-1"), dst, "delivered", 20*time.Second)
	s.waitStatus(tok, s.accept(src, secret, "flaky-2"), dst, "delivered", 10*time.Second)
	got := s.waitAlerts(bell, 2, 10*time.Second)
	s.quiet(time.Second)
	got = bell.alerts()
	if len(got) != 2 || got[0].Type != rules.AlertCircuitOpened || got[1].Type != rules.AlertRecovered {
		t.Fatalf("alerts = %+v, want circuit_opened then recovered, once each", got)
	}
	if !strings.Contains(got[0].Data.Reason, "2 consecutive failures") || !strings.Contains(got[0].Data.Reason, "503") {
		t.Errorf("circuit_opened reason = %q, want the failure count and the last failure", got[0].Data.Reason)
	}
}
