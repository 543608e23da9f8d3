package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
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

func classifyError(err error) Outcome {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, egress.ErrForbidden):
		return Outcome{Kind: Permanent, Reason: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return Outcome{Kind: Retry, Reason: "timed out waiting for the destination"}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return Outcome{Kind: Retry, Reason: "destination host not found: " + dnsErr.Name}
	default:
		return Outcome{Kind: Retry, Reason: "network error: " + err.Error()}
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
