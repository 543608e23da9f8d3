// Package inbound verifies signed webhooks from payment providers and names
// the event they carry.
//
// Each scheme is a Kind: it builds a Verifier from a source's JSON config and
// can sign a request its own verifier accepts (for tests, `hookshift send` and
// load tools). Adding a provider is one file, its tests and one line in
// registry below.
package inbound

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"time"
)

// Request is what a verifier sees of an inbound webhook: headers, the raw
// body (already size-capped), and the peer IP, with the bounds to apply.
type Request struct {
	Header   http.Header
	Body     []byte
	RemoteIP netip.Addr // may be invalid/zero if unknown

	// MaxDepth bounds the JSON nesting of Body (0: DefaultMaxDepth). Every
	// verifier checks it first, before it parses or hashes anything.
	MaxDepth int
	// KeySlots, when larger than the number of secrets, makes the verifier
	// do the work of that many secrets (repeating one and ignoring the
	// result), so neither the answer nor its timing tells an unauthenticated
	// caller how many secrets the source has. The receiver sets it to the
	// live-secret limit; 0 means the number of secrets.
	KeySlots int
}

// Event is the provider's identity of a verified webhook.
type Event struct {
	// ID is the provider's event id, used for dedupe. It always comes from
	// signed bytes: webhook-id for standard-webhooks (signed with the body),
	// the body's id for Stripe, uuid+":"+status for Cryptomus, and for hmac
	// the configured json_path, or else "sha256:"+hex of the body's SHA-256
	// (an id header is not covered by an hmac signature, so it is not used).
	ID string
	// Type is the event type: the body's type for standard-webhooks and
	// Stripe, "cryptomus."+status for Cryptomus, and for hmac the configured
	// location or "". An hmac type read from a header is not signed; see
	// hmac.go for what that means for routing.
	Type string
}

// Sentinel errors. Verifiers wrap them with a message that says what was
// wrong and what is expected; messages never contain a secret or an expected
// signature.
var (
	// ErrSignature means the request is not proven to come from the
	// provider: a missing or malformed signature header, no secret matched,
	// a stale or future timestamp, or a peer IP outside the allow-list.
	// The receiver answers 401.
	ErrSignature = errors.New("invalid signature")
	// ErrBody means the body is not what the scheme expects (not JSON, no
	// id or type...). The receiver answers 400.
	ErrBody = errors.New("invalid body")
	// ErrNoSecret means the source has no secret the scheme can use (none,
	// all empty, or, for standard-webhooks, none that decodes). It is a
	// configuration fault of the source, not of the request, so it wraps
	// neither sentinel above; the receiver should answer 5xx, which makes the
	// provider retry until the source is fixed.
	ErrNoSecret = errors.New("no usable secret configured for this source")
)

// Verifier checks one request against the source's currently valid secrets
// (more than one during a rotation window) and returns the event identity.
// Implementations compare in constant time and try every secret.
type Verifier interface {
	Verify(r Request, secrets []string, now time.Time) (Event, error)
}

// Kind is one inbound scheme: how to build its verifier from the source's
// JSON config, and how to sign a request that verifier accepts.
type Kind struct {
	// Name is the source's `kind` in the admin API.
	Name string
	// New validates config (nil or empty means defaults) and builds the
	// verifier. Its error names the bad field.
	New func(config json.RawMessage) (Verifier, error)
	// NewSecret generates a secret when the user gives none; nil when the
	// secret must come from the provider (Stripe, Cryptomus, hmac).
	NewSecret func() (string, error)
	// Sign produces a request this kind's verifier accepts: headers and the
	// body to send, which may differ from body (Cryptomus adds `sign`). id is
	// used where the scheme carries the event id outside the body
	// (standard-webhooks' webhook-id, an hmac event_id header); schemes whose
	// id lives in the body ignore it.
	Sign func(config json.RawMessage, secret, id string, body []byte, now time.Time) (http.Header, []byte, error)

	// keyBytes measures a secret's key material under config for CheckKey
	// and names what it measured ("the key after whsec_").
	keyBytes func(config json.RawMessage, secret string) (n int, what string, err error)
}

// registry lists every inbound scheme. Registering a provider is one line.
var registry = []Kind{
	standardWebhooksKind,
	stripeKind,
	cryptomusKind,
	hmacKind,
}

// Lookup returns the scheme registered under name.
func Lookup(name string) (Kind, bool) {
	for _, k := range registry {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Kinds returns the registered scheme names, sorted.
func Kinds() []string {
	names := make([]string, 0, len(registry))
	for _, k := range registry {
		names = append(names, k.Name)
	}
	slices.Sort(names)
	return names
}
