package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEventsSearchBuildsQueryAndFollowsCursors(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{
		"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Query().Get("cursor") {
			case "":
				opsJSON(w, 200, `{"data":[{"id":"evt_1","tenant_id":"ten_1","source_id":"src_1","type":"payment.succeeded","received_at":"2025-03-01T10:00:00Z"}],"next_cursor":"1740820000000"}`)
			case "1740820000000":
				opsJSON(w, 200, `{"data":[{"id":"evt_2","tenant_id":"ten_1","source_id":"src_1","type":"payment.failed","received_at":"2025-03-01T09:00:00Z"}],"next_cursor":""}`)
			default:
				opsJSON(w, 400, `{"error":{"code":"invalid","message":"cursor: invalid cursor"}}`)
			}
		},
	})
	code, out, errOut := runOps(t, f, "events", "search", "--type", "payment.succeeded", "--customer-id", "cus_1",
		"--email", "ann@example.com", "--payment-id", "pay_1", "--source-id", "src_1", "--all")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("want 2 pages fetched, got %d: %+v", len(reqs), reqs)
	}
	for i, want := range []string{
		"customer_id=cus_1&email=ann%40example.com&limit=500&payment_id=pay_1&source_id=src_1&type=payment.succeeded",
		"cursor=1740820000000&customer_id=cus_1&email=ann%40example.com&limit=500&payment_id=pay_1&source_id=src_1&type=payment.succeeded",
	} {
		if reqs[i].Query != want {
			t.Errorf("request %d query\n got %s\nwant %s", i, reqs[i].Query, want)
		}
	}
	if !hasRow(out, "ID", "TYPE", "SOURCE", "RECEIVED") ||
		!hasRow(out, "evt_1", "payment.succeeded", "src_1", opsTime(opsT1)) ||
		!hasRow(out, "evt_2", "payment.failed", "src_1", opsTime(opsT2)) {
		t.Fatalf("table:\n%s", out)
	}
	if strings.Contains(errOut, "more:") {
		t.Errorf("--all still hints at more: %s", errOut)
	}

	// Without --all: one page, the server's default limit, and a hint.
	f2 := newOpsFake(t, map[string]http.HandlerFunc{"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 200, `{"data":[{"id":"evt_1","source_id":"src_1","type":"t","received_at":"2025-03-01T10:00:00Z"}],"next_cursor":"99"}`)
	}})
	code, out, errOut = runOps(t, f2, "events", "search", "--limit", "1")
	if code != 0 || len(f2.requests()) != 1 || f2.requests()[0].Query != "limit=1" {
		t.Fatalf("exit %d, requests %+v", code, f2.requests())
	}
	if !hasRow(out, "evt_1", "t", "src_1", opsTime(opsT1)) || !strings.Contains(errOut, "more: --cursor 99") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestEventsSearchJSONPassesThrough(t *testing.T) {
	page1 := `{"data":[{"id":"evt_1","type":"a"}],"next_cursor":"5"}`
	page2 := `{"data":[{"id":"evt_2","type":"b"}],"next_cursor":""}`
	f := newOpsFake(t, map[string]http.HandlerFunc{"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "5" {
			opsJSON(w, 200, page2)
			return
		}
		opsJSON(w, 200, page1)
	}})
	code, out, errOut := runOps(t, f, "events", "search", "--json")
	if code != 0 || out != page1+"\n" || errOut != "" {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	// --all --json: every page's data in one document.
	code, out, _ = runOps(t, f, "events", "search", "--all", "--json")
	if code != 0 || out != `{"data":[{"id":"evt_1","type":"a"},{"id":"evt_2","type":"b"}],"next_cursor":""}`+"\n" {
		t.Fatalf("exit %d: %s", code, out)
	}
}

const opsEventJSON = `{"id":"evt_1","tenant_id":"ten_1","source_id":"src_1","provider_id":"msg_1","type":"payment.succeeded",
"received_at":"2025-03-01T10:00:00Z","payload":{"amount":100},
"deliveries":[
 {"destination_id":"dst_ok","status":"delivered","attempt_count":1,"updated_at":"2025-03-01T10:00:01Z",
  "attempts":[{"number":1,"at":"2025-03-01T10:00:01Z","outcome":"delivered","status_code":200,"duration_ms":42.4}]},
 {"destination_id":"dst_bad","status":"retrying","attempt_count":2,"last_error":"HTTP 503:\nupstream  down","updated_at":"2025-03-01T10:00:05Z",
  "attempts":[
   {"number":1,"at":"2025-03-01T10:00:01Z","outcome":"retry","status_code":503,"duration_ms":120,"error":"HTTP 503: upstream down"},
   {"number":2,"at":"2025-03-01T10:00:05Z","outcome":"retry","duration_ms":3.25,"error":"dial tcp: connection refused"}]},
 {"destination_id":"dst_new","status":"pending","attempt_count":0,"updated_at":"2025-03-01T10:00:00Z","attempts":[]}]}`

func TestEventsShowRendersDeliveriesAndAttempts(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{"GET /v1/events/evt_1": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 200, opsEventJSON)
	}})
	code, out, errOut := runOps(t, f, "events", "show", "evt_1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	at1 := opsTime(time.Date(2025, 3, 1, 10, 0, 1, 0, time.UTC))
	at2 := opsTime(time.Date(2025, 3, 1, 10, 0, 5, 0, time.UTC))
	for _, row := range [][]string{
		{"Event:", "evt_1"}, {"Type:", "payment.succeeded"}, {"Source:", "src_1"}, {"Provider", "ID:", "msg_1"},
		{"Received:", opsTime(opsT1)},
		{"DESTINATION", "STATUS", "ATTEMPTS", "LAST", "ERROR"},
		{"dst_ok", "delivered", "1", "-"},
		{"dst_bad", "retrying", "2", "HTTP", "503:", "upstream", "down"},
		{"dst_new", "pending", "0", "-"},
		{"Attempts", "to", "dst_ok:"},
		{"#", "AT", "OUTCOME", "HTTP", "MS", "ERROR"},
		{"1", at1, "delivered", "200", "42", "-"},
		{"Attempts", "to", "dst_bad:"},
		{"1", at1, "retry", "503", "120", "HTTP", "503:", "upstream", "down"},
		{"2", at2, "retry", "-", "3.2", "dial", "tcp:", "connection", "refused"},
	} {
		if !hasRow(out, row...) {
			t.Errorf("no row %q in:\n%s", row, out)
		}
	}
	if strings.Contains(out, "Attempts to dst_new") || strings.Contains(out, "amount") {
		t.Errorf("unexpected section:\n%s", out)
	}
	// --json: the API's JSON as is.
	code, out, _ = runOps(t, f, "events", "show", "--json", "evt_1")
	if code != 0 || out != opsEventJSON+"\n" {
		t.Fatalf("--json: exit %d, %q", code, out)
	}
	// --payload prints it, indented.
	if _, out, _ = runOps(t, f, "events", "show", "evt_1", "--payload"); !strings.Contains(out, `"amount": 100`) {
		t.Fatalf("--payload:\n%s", out)
	}
}

func TestEventsSearchSaysWhenNothingMatches(t *testing.T) {
	f := newOpsFake(t, map[string]http.HandlerFunc{"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
		opsJSON(w, 200, `{"data":[],"next_cursor":""}`)
	}})
	if code, out, _ := runOps(t, f, "events", "search", "--email", "nobody@example.com"); code != 0 || out != "no events match\n" {
		t.Fatalf("exit %d %q", code, out)
	}
}
