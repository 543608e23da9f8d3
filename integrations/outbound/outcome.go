package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookshift/hookshift/integrations/egress"
)

// Kind is what became of one delivery attempt.
type Kind int

// The outcomes of an attempt. Only Retry leads to another attempt.
const (
	Delivered Kind = iota // the destination took it (2xx)
	Cancelled             // the transform chose to send nothing: done, not failed
	Retry                 // a transient failure: try again later
	Permanent             // will never succeed as is: archive with the reason
)

func (k Kind) String() string {
	switch k {
	case Delivered:
		return "delivered"
	case Cancelled:
		return "cancelled"
	case Retry:
		return "retry"
	default:
		return "permanent"
	}
}

// Outcome is the classified result of one attempt.
type Outcome struct {
	Kind       Kind
	StatusCode int           // the destination's HTTP status, 0 if none
	RetryAfter time.Duration // the destination's Retry-After, 0 if none
	Reason     string        // why it failed, for the attempt log
	Disable    bool          // the destination asked never to be called again (410 Gone)
}

// maxRetryAfter caps a destination's Retry-After so a bogus value cannot
// park a delivery for weeks.
const maxRetryAfter = 24 * time.Hour

// Classify turns a response (or a transport error) into an Outcome, following
// the delivery rules: network errors, timeouts, 408, 429 and 5xx are retried;
// 410 disables the destination; other 4xx are permanent. body is a prefix of
// the response body, read by the caller.
func Classify(resp *http.Response, body []byte, err error, spec Spec, now time.Time) Outcome {
	if err != nil {
		return classifyError(err)
	}
	code := resp.StatusCode
	o := Outcome{StatusCode: code}
	switch {
	case code >= 200 && code < 300:
		o.Kind = Delivered
		return o
	case spec.Accepted != nil && spec.Accepted(code, body):
		// The provider says it already has this request (e.g. Loops' 409 to
		// an Idempotency-Key it has seen): an earlier attempt got through.
		o.Kind = Delivered
		return o
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500,
		spec.Transient != nil && spec.Transient(code, body):
		o.Kind = Retry
		o.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	case code == http.StatusGone:
		o.Kind, o.Disable = Permanent, true
	default:
		o.Kind = Permanent
	}
	o.Reason = fmt.Sprintf("HTTP %d", code)
	if msg := errorMessage(spec, body); msg != "" {
		o.Reason += ": " + msg
	}
	return o
}

// classifyError classifies a transport error. The reason drops url.Error's
// `Post "<url>": ` prefix (the attempt log shows the request apart, masked);
// the caller masks secrets in what is left.
func classifyError(err error) Outcome {
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		uaErr   x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
	)
	cause := err
	if ue, ok := errors.AsType[*url.Error](err); ok {
		cause = ue.Err
	}
	switch {
	case errors.Is(err, egress.ErrForbidden):
		// The address is refused by policy: it will be refused every time.
		return Outcome{Kind: Permanent, Reason: cause.Error()}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		// A name that does not resolve may be a DNS outage or a domain being
		// set up: retried, within the schedule.
		return Outcome{Kind: Retry, Reason: "destination host not found: " + dnsErr.Name}
	case errors.As(err, &certErr), errors.As(err, &uaErr), errors.As(err, &hostErr), errors.As(err, &invErr), errors.As(err, &recErr):
		// A certificate can be renewed or fixed within the schedule's day.
		return Outcome{Kind: Retry, Reason: "TLS error: " + cause.Error()}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return Outcome{Kind: Retry, Reason: "timed out waiting for the destination"}
	default:
		return Outcome{Kind: Retry, Reason: "network error: " + cause.Error()}
	}
}

// maxReasonBytes bounds the response text kept on an attempt.
const maxReasonBytes = 300

func errorMessage(spec Spec, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	if spec.ErrorMessage != nil {
		if m := spec.ErrorMessage(body); m != "" {
			return truncate(m, maxReasonBytes)
		}
	}
	return truncate(strings.Join(strings.Fields(string(body)), " "), maxReasonBytes)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}
