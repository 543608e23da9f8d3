package outbound_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookshift/hookshift/integrations/egress"
	"github.com/hookshift/hookshift/integrations/outbound"
)

var now = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func response(code int, retryAfter string) *http.Response {
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return &http.Response{StatusCode: code, Header: h}
}

// post wraps err the way http.Client.Do does.
func post(err error) error {
	return &url.Error{Op: "Post", URL: "https://hooks.example.com/services/T/B/secret", Err: err}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// Classify follows the delivery rules: network errors, timeouts, 408, 429
// and 5xx are retried (with Retry-After in either form); 410 disables the
// destination; other 4xx, and egress refusals, are permanent.
func TestClassify(t *testing.T) {
	cases := []struct {
		name       string
		resp       *http.Response
		body       string
		err        error
		kind       outbound.Kind
		retryAfter time.Duration
		disable    bool
		reason     string // a part of the reason
	}{
		{name: "200", resp: response(200, ""), kind: outbound.Delivered},
		{name: "204", resp: response(204, ""), kind: outbound.Delivered},
		{name: "408", resp: response(408, ""), kind: outbound.Retry, reason: "HTTP 408"},
		{name: "429 without Retry-After", resp: response(429, ""), kind: outbound.Retry, reason: "HTTP 429"},
		{name: "429 Retry-After seconds", resp: response(429, "120"), kind: outbound.Retry, retryAfter: 2 * time.Minute},
		{name: "429 Retry-After HTTP-date", resp: response(429, now.Add(90*time.Second).Format(http.TimeFormat)), kind: outbound.Retry, retryAfter: 90 * time.Second},
		{name: "429 Retry-After date in the past", resp: response(429, now.Add(-time.Hour).Format(http.TimeFormat)), kind: outbound.Retry},
		{name: "429 Retry-After garbage", resp: response(429, "soon"), kind: outbound.Retry},
		{name: "429 Retry-After capped at a day", resp: response(429, "9999999"), kind: outbound.Retry, retryAfter: 24 * time.Hour},
		{name: "500", resp: response(500, ""), body: "oops", kind: outbound.Retry, reason: "HTTP 500: oops"},
		{name: "503 Retry-After", resp: response(503, "7"), kind: outbound.Retry, retryAfter: 7 * time.Second},
		{name: "410 disables", resp: response(410, ""), kind: outbound.Permanent, disable: true, reason: "HTTP 410"},
		{name: "400", resp: response(400, ""), body: "bad  \n field", kind: outbound.Permanent, reason: "HTTP 400: bad field"},
		{name: "401", resp: response(401, ""), kind: outbound.Permanent},
		{name: "404", resp: response(404, ""), kind: outbound.Permanent},
		{name: "422", resp: response(422, ""), kind: outbound.Permanent},
		{name: "302 (redirects are not followed)", resp: response(302, ""), kind: outbound.Permanent, reason: "HTTP 302"},
		{name: "DNS not found", err: post(&net.OpError{Op: "dial", Err: &net.DNSError{Name: "nope.example", Err: "no such host", IsNotFound: true}}),
			kind: outbound.Retry, reason: "destination host not found: nope.example"},
		{name: "DNS temporary failure", err: post(&net.OpError{Op: "dial", Err: &net.DNSError{Name: "x.example", Err: "server misbehaving", IsTemporary: true}}),
			kind: outbound.Retry, reason: "network error"},
		{name: "egress refusal", err: post(&net.OpError{Op: "dial", Err: fmt.Errorf("%w: 10.0.0.1 is a private address", egress.ErrForbidden)}),
			kind: outbound.Permanent, reason: "not allowed"},
		{name: "deadline", err: post(context.DeadlineExceeded), kind: outbound.Retry, reason: "timed out"},
		{name: "net timeout", err: post(&net.OpError{Op: "read", Err: timeoutErr{}}), kind: outbound.Retry, reason: "timed out"},
		{name: "connection refused", err: post(&net.OpError{Op: "dial", Err: errors.New("connect: connection refused")}), kind: outbound.Retry, reason: "connection refused"},
		{name: "TLS unknown authority", err: post(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), kind: outbound.Retry, reason: "TLS error"},
		{name: "TLS hostname", err: post(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "a.example"}), kind: outbound.Retry, reason: "TLS error"},
		{name: "TLS not TLS", err: post(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), kind: outbound.Retry, reason: "TLS error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := outbound.Classify(c.resp, []byte(c.body), c.err, outbound.Spec{}, now)
			if o.Kind != c.kind || o.RetryAfter != c.retryAfter || o.Disable != c.disable || !strings.Contains(o.Reason, c.reason) {
				t.Fatalf("Classify = %+v, want kind %s, retry after %v, disable %v, reason containing %q", o, c.kind, c.retryAfter, c.disable, c.reason)
			}
			if c.err != nil && strings.Contains(o.Reason, "hooks.example.com") {
				t.Errorf("reason %q quotes the request URL", o.Reason)
			}
		})
	}
}

// An error body is kept as a bounded snippet (the attempt log is not a
// place for a 1 MB page), read through the integration's ErrorMessage.
func TestClassifyBoundsTheReason(t *testing.T) {
	o := outbound.Classify(response(400, ""), []byte(strings.Repeat("x", 5000)), nil, outbound.Spec{}, now)
	if len(o.Reason) > 320 {
		t.Fatalf("reason is %d bytes", len(o.Reason))
	}
	spec := outbound.Spec{ErrorMessage: func([]byte) string { return "CODE: message" }}
	if o := outbound.Classify(response(400, ""), []byte("{}"), nil, spec, now); o.Reason != "HTTP 400: CODE: message" {
		t.Fatalf("reason = %q", o.Reason)
	}
}

// Header values are masked unless known harmless, whatever their name.
func TestMaskHeaders(t *testing.T) {
	got := outbound.MaskHeaders(map[string]string{"X-Custom": "tok", "authorization": "Bearer x", "Content-Type": "application/json",
		"idempotency-key": "e:d", "Webhook-Signature": "v1,abc", "User-Agent": "hookshift/1", "X-Api-Version": "2"})
	want := map[string]string{"X-Custom": "****", "authorization": "****", "Content-Type": "application/json",
		"idempotency-key": "e:d", "Webhook-Signature": "****", "User-Agent": "hookshift/1", "X-Api-Version": "****"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// ShownURL hides a credential URL's path and any URL's user and password.
func TestShownURL(t *testing.T) {
	slack := outbound.Spec{URLField: "webhook_url"}
	cases := []struct {
		spec     outbound.Spec
		raw, out string
	}{
		{slack, "https://hooks.slack.com/services/T0/B0/secret", "https://hooks.slack.com/****"},
		{outbound.Spec{}, "https://example.com/hook?x=1", "https://example.com/hook?x=1"},
		{outbound.Spec{}, "https://bob:pw@example.com/hook", "https://****@example.com/hook"},
		{outbound.Spec{}, "https://tokentoken@example.com/hook", "https://****@example.com/hook"},
		{outbound.Spec{}, "::not a url", "****"},
	}
	for _, c := range cases {
		if got := c.spec.ShownURL(c.raw); got != c.out {
			t.Errorf("ShownURL(%q) = %q, want %q", c.raw, got, c.out)
		}
	}
}

// An answer the integration marks as "already have it" (Loops' 409 to a seen
// Idempotency-Key) is delivered; the same status without the mark is not.
func TestClassifyAccepted(t *testing.T) {
	spec := outbound.Spec{Accepted: func(code int, _ []byte) bool { return code == 409 }}
	if o := outbound.Classify(response(409, ""), nil, nil, spec, now); o.Kind != outbound.Delivered {
		t.Fatalf("409 marked accepted: %+v", o)
	}
	if o := outbound.Classify(response(409, ""), nil, nil, outbound.Spec{}, now); o.Kind != outbound.Permanent {
		t.Fatalf("409 without the mark: %+v", o)
	}
	if o := outbound.Classify(response(400, ""), nil, nil, spec, now); o.Kind != outbound.Permanent {
		t.Fatalf("400 with a 409-only mark: %+v", o)
	}
}

// A 4xx the integration marks as transient (Resend's 409 while the first
// request with the same key is in progress) is retried, with Retry-After.
func TestClassifyTransient(t *testing.T) {
	spec := outbound.Spec{Transient: func(code int, body []byte) bool { return code == 409 && string(body) == "busy" }}
	r := response(409, "")
	r.Header.Set("Retry-After", "7")
	if o := outbound.Classify(r, []byte("busy"), nil, spec, now); o.Kind != outbound.Retry || o.RetryAfter != 7*time.Second {
		t.Fatalf("409 marked transient: %+v", o)
	}
	if o := outbound.Classify(response(409, ""), []byte("other"), nil, spec, now); o.Kind != outbound.Permanent {
		t.Fatalf("409 not marked: %+v", o)
	}
}
