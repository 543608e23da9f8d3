// Package generic is the plain HTTP destination: the event (or the
// transform's output) posted as JSON to any public URL, with the
// destination's own headers, and optionally signed the Standard Webhooks way
// so the receiving endpoint can verify that it came from hookshift.
package generic

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// SigningSecretField is the config field holding the optional whsec_ secret.
const SigningSecretField = "signing_secret"

// Spec is the "http" integration.
var Spec = outbound.Spec{
	Name:        "http",
	Title:       "HTTP endpoint",
	Description: "POST the event as JSON to your own URL, with an Idempotency-Key header per event and destination, optionally signed with Standard Webhooks headers.",
	Auth:        "none",
	Fields: []outbound.Field{
		{Name: "bearer_token", Label: "Bearer token", Secret: true, Description: "Sent as Authorization: Bearer <token>, if set."},
		{Name: SigningSecretField, Label: "Signing secret", Secret: true, Description: "A Standard Webhooks secret (whsec_ followed by base64). When set, every request carries webhook-id, webhook-timestamp and webhook-signature headers that your endpoint verifies with any Standard Webhooks library."},
	},
	Templates: []outbound.Template{{
		Name:        "passthrough",
		Description: "Forward the event unchanged; edit it to reshape the body or to skip event types.",
		Code: `// Forward the whole event as the JSON body. Return null (or set
// webhook.cancel = true) to skip an event.
function handler(webhook) {
  return webhook;
}
`,
	}},
	Authorize: func(cfg map[string]string, h http.Header) {
		if t := cfg["bearer_token"]; t != "" {
			h.Set("Authorization", "Bearer "+t)
		}
	},
	Validate: func(cfg map[string]string) error {
		if s := cfg[SigningSecretField]; s != "" {
			_, err := signer(s)
			return err
		}
		return nil
	},
	Sign: Sign,
}

// Secret length bounds from the Standard Webhooks spec: secrets SHOULD be
// 24 to 64 random bytes. Shorter keys are refused, longer ones accepted.
const minSecretBytes = 24

// Sign adds the Standard Webhooks headers over body when the destination has
// a signing secret, and does nothing otherwise. msgID is the delivery's
// idempotency key, so a receiver can also dedupe on webhook-id: it is the
// same on every retry and replay, while the timestamp and signature are
// fresh for each attempt (receivers reject timestamps older than 5 minutes).
func Sign(cfg map[string]string, msgID string, ts time.Time, body []byte, h http.Header) error {
	secret := cfg[SigningSecretField]
	if secret == "" {
		return nil
	}
	if msgID == "" {
		return errors.New("signing: empty message id")
	}
	wh, err := signer(secret)
	if err != nil {
		return err
	}
	sig, err := wh.Sign(msgID, ts, body)
	if err != nil {
		return fmt.Errorf("signing: %w", err)
	}
	h.Set(standardwebhooks.HeaderWebhookID, msgID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return nil
}

// signer decodes a whsec_ secret. The library's NewWebhook accepts any
// base64, including the empty string; a key that short would make the
// signature worthless, so it is refused here. The error never quotes the
// secret.
func signer(secret string) (*standardwebhooks.Webhook, error) {
	if !strings.HasPrefix(secret, "whsec_") {
		return nil, errors.New("signing_secret must start with whsec_ (a Standard Webhooks secret)")
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, errors.New("signing_secret is not whsec_ followed by standard base64")
	}
	if n := decodedLen(secret); n < minSecretBytes {
		return nil, fmt.Errorf("signing_secret decodes to %d bytes; use at least %d random bytes", n, minSecretBytes)
	}
	return wh, nil
}

func decodedLen(secret string) int {
	b64 := strings.TrimPrefix(secret, "whsec_")
	return len(b64)*3/4 - strings.Count(b64, "=")
}
