// Package dispatch prepares and sends one delivery, as a sequence of typed
// values: (event, destination) → Prepare → a Prepared request (the
// transform's output, headers, credentials, signature, idempotency key) →
// Send → an outbound.Outcome. The worker sends exactly what the preview
// shows (Prepared.Display is the same value with its secrets masked), and
// every text it hands back (errors, response snippets, script logs) has the
// destination's secrets masked, so none reaches storage, logs or the UI.
//
// Modelled on Svix's worker (prepare_dispatch → pending → completed) and
// Outpost's destwebhook (Format, then Publish = Format + send).
package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hookshift/hookshift/integrations"
	"github.com/hookshift/hookshift/integrations/egress"
	"github.com/hookshift/hookshift/integrations/outbound"
	"github.com/hookshift/hookshift/rules"
	"github.com/hookshift/hookshift/store"
	"github.com/hookshift/hookshift/transformer"
)

// Sender prepares and sends deliveries. The zero Timeout means 30 s; a nil
// Now means time.Now. HTTP must be the egress-guarded client; a Sender that
// only prepares (the preview) may leave it nil.
type Sender struct {
	Engine  *transformer.Engine
	HTTP    *http.Client
	Now     func() time.Time
	Timeout time.Duration // one send, connection to last byte
	// Preview runs the script on the integration's secrets masked: the
	// secret config fields its ScriptEnv hands over and a URL that is the
	// credential reach the script as Masked. A preview is answered to the
	// API, and a script (the merchant's, or one sent with the test) could
	// otherwise echo a stored secret into it, which no masking of its
	// output can catch (reversed, split, encoded). Secret env values are
	// the caller's to mask (rules.IsSecretEnv).
	Preview bool
}

// MaxErrorBody bounds how much of an error response is read for the reason
// (outbound.Classify then keeps at most 300 bytes of it).
const MaxErrorBody = 4 << 10

// UserAgent is sent with every delivery.
const UserAgent = "hookshift/1"

// IdempotencyKey is the key of a delivery: event id + destination id, the
// same on every retry and replay, so the far end can dedupe.
func IdempotencyKey(eventID, destID string) string { return eventID + ":" + destID }

// Prepared is a delivery ready to send: the request exactly as it goes on
// the wire (the Host header aside, which is the URL's host). It holds
// credentials; show it only through Display.
type Prepared struct {
	EventID       string
	DestinationID string
	Cancel        bool // the transform chose to send nothing
	Method        string
	URL           string
	Header        http.Header
	Body          []byte
	Logs          []string      // the script's console output
	Transform     time.Duration // time spent in the transform; 0 without one

	spec    outbound.Spec
	secrets []string // texts to mask wherever shown
}

// View is a Prepared request as the preview endpoints show it; its JSON is
// the response of POST /v1/transforms/test.
type View struct {
	Cancel     bool              `json:"cancel"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Payload    json.RawMessage   `json:"payload"`
	Logs       []string          `json:"logs"`
	DurationMS float64           `json:"duration_ms"`
}

// Display is the prepared request with its secrets masked: the URL when it
// is the credential (or carries a password), every header value but the
// harmless ones, and any secret a script printed. The body is shown as is:
// it is the merchant's own payload.
func (p Prepared) Display() View {
	v := View{Cancel: p.Cancel, Method: p.Method, Headers: map[string]string{}, Logs: p.MaskLogs(),
		DurationMS: float64(p.Transform.Microseconds()) / 1000}
	if p.Cancel {
		return v
	}
	v.URL = p.Mask(p.spec.ShownURL(p.URL))
	for k := range p.Header {
		v.Headers[k] = p.Header.Get(k)
	}
	v.Headers = outbound.MaskHeaders(v.Headers)
	v.Payload = json.RawMessage(p.Body)
	return v
}

// Request is the method and masked URL, for the attempt log.
func (p Prepared) Request() string {
	if p.Cancel || p.Method == "" {
		return ""
	}
	return p.Method + " " + p.Mask(p.spec.ShownURL(p.URL))
}

// Mask removes the destination's secrets from text.
func (p Prepared) Mask(text string) string { return outbound.MaskText(text, p.secrets) }

// MaskLogs is the script's console output with the destination's secrets
// masked.
func (p Prepared) MaskLogs() []string {
	out := make([]string, len(p.Logs))
	for i, l := range p.Logs {
		out[i] = p.Mask(l)
	}
	return out
}

// Error is why a delivery could not be prepared, with what it means for the
// delivery (Outcome: Permanent, or Retry for our own transient failures) and
// its reason masked. A script fault also carries the masked *transformer.Error
// (line, column, logs) in Script.
type Error struct {
	Outcome outbound.Outcome
	Script  *transformer.Error
	Logs    []string
}

func (e *Error) Error() string { return e.Outcome.Reason }

// Prepare turns an event and a destination into the request a delivery
// sends: the transform's output (or the event as is), the destination's
// headers, the integration's credentials, the script's headers, the
// idempotency key, and last the signature over the final headers and body.
// A non-nil error is an *Error.
func (s *Sender) Prepare(ctx context.Context, ev store.Event, dest store.Destination) (Prepared, error) {
	spec, ok := integrations.Lookup(dest.Integration)
	p := Prepared{EventID: ev.ID, DestinationID: dest.ID, spec: spec, Method: http.MethodPost, URL: dest.URL, Body: ev.Payload}
	p.secrets = spec.Secrets(dest.URL, dest.Config)
	p.secrets = append(p.secrets, secretValues(dest.Headers)...)
	p.secrets = append(p.secrets, secretEnvValues(dest)...)
	if !ok {
		return p, p.fail(outbound.Permanent, "unknown integration "+strconv.Quote(dest.Integration))
	}

	var script map[string]string
	if t := dest.Transform; t != nil && t.Enabled && t.Code != "" {
		in := transformer.Input{Method: http.MethodPost, URL: dest.URL, EventType: ev.Type, Payload: ev.Payload,
			Env: spec.ScriptEnvFor(dest.Config, dest.Env)}
		if s.Preview {
			in.URL, in.Env = spec.ShownURL(dest.URL), spec.ScriptEnvFor(maskedConfig(spec, dest.Config), dest.Env)
		}
		start := s.now()
		res, err := s.Engine.Run(ctx, transformer.Script{TenantID: dest.TenantID, Code: t.Code}, in)
		p.Transform = s.now().Sub(start)
		if err != nil {
			return p, p.transformFailed(err)
		}
		p.Logs, p.Cancel = res.Logs, res.Cancel
		if res.DurationMS > 0 { // the script's own run time, without the wait for a run slot
			p.Transform = time.Duration(res.DurationMS * float64(time.Millisecond))
		}
		if p.Cancel {
			return p, nil
		}
		p.Method, p.URL, p.Body, script = res.Method, res.URL, res.Payload, res.Headers
		if s.Preview && p.URL == in.URL {
			p.URL = dest.URL // the URL the script was shown, left as it was
		}
		p.secrets = append(p.secrets, secretValues(script)...)
	}
	// Refuse now what can never be sent (a password in the URL, a numeric or
	// invalid host, no host) instead of retrying it as "host not found".
	if p.URL != dest.URL {
		p.secrets = append(p.secrets, spec.Secrets(p.URL, nil)...)
		if _, err := egress.CheckForm(p.URL); err != nil {
			return p, p.fail(outbound.Permanent, "the transform returned a URL that cannot be sent: "+err.Error())
		}
	} else if _, err := egress.CheckForm(p.URL); err != nil {
		return p, p.fail(outbound.Permanent, "the destination's URL cannot be sent: "+err.Error())
	}

	p.Header = Headers(spec, dest, script, IdempotencyKey(ev.ID, dest.ID))
	p.Header.Set("Content-Length", strconv.Itoa(len(p.Body)))
	if spec.Sign != nil { // e.g. Standard Webhooks headers the merchant's endpoint verifies
		if err := spec.Sign(dest.Config, p.Header.Get("Idempotency-Key"), s.now(), p.Body, p.Header); err != nil {
			return p, p.fail(outbound.Permanent, "cannot sign the request: "+err.Error())
		}
	}
	return p, nil
}

// transformFailed maps a failed run: a script fault, or input the script can
// never take (a payload that is not JSON), fails the same way on every
// attempt, so it is permanent; only our own trouble (shutdown, no run slot
// in time) is worth a retry.
func (p Prepared) transformFailed(err error) error {
	var te *transformer.Error
	switch {
	case errors.As(err, &te):
		m := *te
		m.Message, m.Logs = p.Mask(te.Message), nil
		for _, l := range te.Logs {
			m.Logs = append(m.Logs, p.Mask(l))
		}
		e := p.fail(outbound.Permanent, m.Error())
		e.Script, e.Logs = &m, m.Logs
		return e
	case errors.Is(err, transformer.ErrInvalidInput):
		return p.fail(outbound.Permanent, "the event cannot be given to the transform: "+err.Error())
	default:
		return p.fail(outbound.Retry, "the transform could not run: "+err.Error())
	}
}

// maskedConfig is config with the integration's secret fields masked.
func maskedConfig(spec outbound.Spec, config map[string]string) map[string]string {
	secret := spec.SecretFields()
	out := make(map[string]string, len(config))
	for k, v := range config {
		if secret[k] && v != "" {
			v = outbound.Masked
		}
		out[k] = v
	}
	return out
}

// secretValues are the header values that may be credentials: all but the
// harmless ones (Content-Type, User-Agent, ...).
func secretValues(h map[string]string) []string {
	var out []string
	for k, v := range h {
		if !outbound.HarmlessHeader(k) {
			out = append(out, v)
		}
	}
	return out
}

// secretEnvValues are the values of dest's secret env variables (listed in
// secret_env or named like a credential), as they are and as a URL query
// carries them: the script gets them, and may log, throw or send them.
func secretEnvValues(dest store.Destination) []string {
	var out []string
	for k, v := range dest.Env {
		if rules.IsSecretEnv(dest, k) {
			out = append(out, v, url.QueryEscape(v), url.PathEscape(v))
		}
	}
	return out
}

func (p Prepared) fail(k outbound.Kind, reason string) *Error {
	return &Error{Outcome: outbound.Outcome{Kind: k, Reason: p.Mask(reason)}}
}

// Headers are the request headers of a delivery: the destination's, then
// the integration's credentials, then the script's (which override both),
// then the idempotency key, which is the same for every retry and replay.
// Accept-Encoding is set so that Go's transport adds nothing the preview
// would not show.
func Headers(spec outbound.Spec, dest store.Destination, script map[string]string, key string) http.Header {
	h := http.Header{}
	for k, v := range dest.Headers {
		h.Set(k, v)
	}
	if spec.Authorize != nil {
		spec.Authorize(dest.Config, h)
	}
	for k, v := range script {
		h.Set(k, v)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	if h.Get("Accept-Encoding") == "" {
		h.Set("Accept-Encoding", "identity")
	}
	h.Set("Idempotency-Key", key)
	h.Set("User-Agent", UserAgent)
	return h
}

// Send sends a prepared request and classifies the answer. The reason of
// the outcome has the destination's secrets masked: a transport error quotes
// the URL (Post "https://hooks.slack.com/services/T/B/<secret>": ...), and a
// response body may echo anything it was sent.
func (s *Sender) Send(ctx context.Context, p Prepared) outbound.Outcome {
	if p.Cancel {
		return outbound.Outcome{Kind: outbound.Cancelled, Reason: "cancelled by the transform"}
	}
	if s.HTTP == nil {
		return p.fail(outbound.Retry, "dispatch: no HTTP client to send with").Outcome
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return p.fail(outbound.Permanent, "cannot build the request: "+err.Error()).Outcome
	}
	req.Header = p.Header.Clone()
	req.Header.Del("Content-Length") // net/http writes it from the body
	resp, err := s.HTTP.Do(req)
	var body []byte
	if err == nil {
		if resp.StatusCode >= 300 {
			body, _ = io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
		resp.Body.Close()
	}
	out := outbound.Classify(resp, body, err, p.spec, s.now())
	out.Reason = p.Mask(out.Reason)
	return out
}

// Completed is a finished dispatch: what came of it, and what the attempt
// log keeps. Every text in it is masked.
type Completed struct {
	outbound.Outcome
	Request   string        // method and masked URL; "" if nothing was sent
	Logs      []string      // the script's console output
	Line      int           // the script's line of a script fault
	Transform time.Duration // time in the transform
	Sent      time.Duration // time the destination took; 0 if nothing was sent
}

// Deliver is Prepare, then Send: one attempt of a delivery.
func (s *Sender) Deliver(ctx context.Context, ev store.Event, dest store.Destination) Completed {
	p, err := s.Prepare(ctx, ev, dest)
	c := Completed{Logs: p.MaskLogs(), Transform: p.Transform}
	var e *Error
	switch {
	case errors.As(err, &e):
		c.Outcome = e.Outcome
		if e.Script != nil {
			c.Line, c.Logs = e.Script.Line, e.Script.Logs
		}
		return c
	case err != nil: // Prepare returns only *Error; be safe anyway
		c.Outcome = outbound.Outcome{Kind: outbound.Retry, Reason: p.Mask(err.Error())}
		return c
	case p.Cancel:
		c.Outcome = outbound.Outcome{Kind: outbound.Cancelled, Reason: "cancelled by the transform"}
		return c
	}
	c.Request = p.Request()
	start := s.now()
	c.Outcome = s.Send(ctx, p)
	c.Sent = s.now().Sub(start)
	return c
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) timeout() time.Duration {
	if s.Timeout <= 0 {
		return 30 * time.Second
	}
	return s.Timeout
}
