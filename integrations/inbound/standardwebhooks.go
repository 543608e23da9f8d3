package inbound

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Standard Webhooks (https://www.standardwebhooks.com), the scheme Dodo
// Payments signs with (its webhook docs): headers webhook-id, webhook-timestamp and
// webhook-signature ("v1,<base64>" values separated by spaces), HMAC-SHA256
// over "{id}.{timestamp}.{body}".
//
// What the signature covers: webhook-id, webhook-timestamp and every byte of
// the body. The event id is webhook-id and the type is read from the signed
// body, so both are authenticated. Not covered: every other header. A replay
// within the 5-minute skew is stopped by the event-id dedupe.
const (
	swHeaderID        = "webhook-id"
	swHeaderTimestamp = "webhook-timestamp"
	swHeaderSignature = "webhook-signature"
	swSecretPrefix    = "whsec_"
)

var standardWebhooksKind = Kind{
	Name:      "standard-webhooks",
	New:       newStandardWebhooks,
	NewSecret: newStandardWebhooksSecret,
	Sign:      signStandardWebhooks,
	keyBytes:  standardWebhooksKeyBytes,
}

// standardWebhooksKeyBytes measures the HMAC key: the base64-decoded bytes
// after whsec_, or the raw secret under secret_encoding "raw".
func standardWebhooksKeyBytes(config json.RawMessage, secret string) (int, string, error) {
	c, err := parseStandardWebhooksConfig(config)
	if err != nil {
		return 0, "", err
	}
	if c.SecretEncoding == "raw" {
		return len(secret), "secret", nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, swSecretPrefix))
	if err != nil {
		return 0, "", errors.New("secret is not whsec_ + base64 (set config secret_encoding to \"raw\" for plain-string secrets)")
	}
	return len(key), "key (the base64-decoded secret after whsec_)", nil
}

// StandardWebhooksConfig is the per-source config of a standard-webhooks
// source.
type StandardWebhooksConfig struct {
	// SecretEncoding says how a secret string becomes the HMAC key:
	// "base64" (default): the base64 of the key, with or without the
	// "whsec_" prefix, as Standard Webhooks and Dodo issue them;
	// "raw": the secret's UTF-8 bytes are the key, for senders that sign
	// with a plain string. It is chosen per source, never guessed per request.
	SecretEncoding string `json:"secret_encoding,omitempty"`
}

type standardWebhooksVerifier struct {
	raw bool
}

func parseStandardWebhooksConfig(config json.RawMessage) (StandardWebhooksConfig, error) {
	var c StandardWebhooksConfig
	if err := decodeConfig("standard-webhooks", config, &c); err != nil {
		return c, err
	}
	switch c.SecretEncoding {
	case "":
		c.SecretEncoding = "base64"
	case "base64", "raw":
	default:
		return c, fmt.Errorf(`standard-webhooks config: secret_encoding %q is not supported; use "base64" (default) or "raw"`, c.SecretEncoding)
	}
	return c, nil
}

func newStandardWebhooks(config json.RawMessage) (Verifier, error) {
	c, err := parseStandardWebhooksConfig(config)
	if err != nil {
		return nil, err
	}
	return &standardWebhooksVerifier{raw: c.SecretEncoding == "raw"}, nil
}

// webhook builds the library's signer for one secret.
func (v *standardWebhooksVerifier) webhook(secret string) (*standardwebhooks.Webhook, error) {
	key, err := v.key(secret)
	if err != nil {
		return nil, err
	}
	return standardwebhooks.NewWebhookRaw(key)
}

// key is the HMAC key of a secret: its bytes as they are (raw), else the
// base64 after the optional whsec_ prefix.
func (v *standardWebhooksVerifier) key(secret string) ([]byte, error) {
	if v.raw {
		return []byte(secret), nil
	}
	// whsec_ decoding: the key is the base64 after the optional prefix.
	// Never include the secret or the decoder's message (which quotes an
	// offset into the secret) in the error.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, swSecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("secret is not whsec_ + base64")
	}
	return key, nil
}

// swMatch reports whether a v1 value of the webhook-signature header sig is
// the HMAC-SHA256 of {id}.{ts}.{body} under key, compared in constant time.
// It is the library's VerifyIgnoringTimestamp (same parsing of sig: values
// split on spaces, version and signature on commas) without its copy of the
// body into one formatted string per secret tried: the MAC is fed the parts.
func swMatch(key []byte, id string, ts int64, body []byte, sig string) bool {
	h := hmac.New(sha256.New, key)
	_, _ = io.WriteString(h, id)
	var tsBuf [24]byte
	_, _ = h.Write(strconv.AppendInt(append(tsBuf[:0], '.'), ts, 10))
	_, _ = h.Write([]byte{'.'})
	_, _ = h.Write(body)
	var sum [sha256.Size]byte
	var want [44]byte // base64 of 32 bytes
	base64.StdEncoding.Encode(want[:], h.Sum(sum[:0]))
	matched := false
	for rest := sig; rest != ""; {
		var one string
		one, rest, _ = strings.Cut(rest, " ")
		version, value, ok := strings.Cut(one, ",")
		if !ok || version != "v1" {
			continue
		}
		value, _, _ = strings.Cut(value, ",")
		matched = hmac.Equal([]byte(value), want[:]) || matched
	}
	return matched
}

func (v *standardWebhooksVerifier) Verify(r Request, secrets []string, now time.Time) (Event, error) {
	if err := CheckDepth(r.Body, r.MaxDepth); err != nil {
		return Event{}, err
	}
	id := r.Header.Get(swHeaderID)
	tsHeader := r.Header.Get(swHeaderTimestamp)
	sig := r.Header.Get(swHeaderSignature)
	for _, h := range []struct{ name, value string }{
		{swHeaderID, id}, {swHeaderTimestamp, tsHeader}, {swHeaderSignature, sig},
	} {
		if h.value == "" {
			return Event{}, fmt.Errorf("%w: missing %s header; standard-webhooks requires webhook-id, webhook-timestamp and webhook-signature", ErrSignature, h.name)
		}
	}
	ts, err := parseUnixSeconds(swHeaderTimestamp, tsHeader)
	if err != nil {
		return Event{}, err
	}
	// The library checks the timestamp against time.Now; we check it
	// against the injected clock here and then ask the library only for
	// the signature.
	if err := checkSkew(swHeaderTimestamp, ts, now); err != nil {
		return Event{}, err
	}
	keys, err := keySlots(r, secrets)
	if err != nil {
		return Event{}, err
	}
	matched, decodable := false, 0
	for _, k := range keys { // every slot, no early exit
		key, err := v.key(k.secret)
		if err != nil {
			continue
		}
		decodable++
		ok := swMatch(key, id, ts, r.Body, sig)
		matched = matched || (ok && k.real)
	}
	if decodable == 0 {
		return Event{}, fmt.Errorf("%w: no secret of the source is whsec_ + base64 (set secret_encoding to \"raw\" for plain-string secrets)", ErrNoSecret)
	}
	if !matched {
		return Event{}, fmt.Errorf("%w: no v1 value in webhook-signature matches HMAC-SHA256 of {webhook-id}.{webhook-timestamp}.{body} under the source's secrets", ErrSignature)
	}
	// Only a signed body is parsed: an unsigned malformed body is 401, a
	// signed malformed body is 400.
	f, err := topLevelStrings(r.Body, "type")
	if err != nil {
		return Event{}, err
	}
	if f["type"] == "" {
		return Event{}, fmt.Errorf("%w: body must have a non-empty string \"type\"", ErrBody)
	}
	return Event{ID: id, Type: f["type"]}, nil
}

// newStandardWebhooksSecret returns "whsec_" + base64 of 32 random bytes.
func newStandardWebhooksSecret() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return swSecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// signStandardWebhooks signs body as a standard-webhooks sender would. An
// empty id gets a random "msg_" id.
func signStandardWebhooks(config json.RawMessage, secret, id string, body []byte, now time.Time) (http.Header, []byte, error) {
	c, err := parseStandardWebhooksConfig(config)
	if err != nil {
		return nil, nil, err
	}
	v := &standardWebhooksVerifier{raw: c.SecretEncoding == "raw"}
	if secret == "" {
		return nil, nil, ErrNoSecret
	}
	wh, err := v.webhook(secret)
	if err != nil {
		return nil, nil, fmt.Errorf("standard-webhooks sign: %w", err)
	}
	if id == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, err
		}
		id = "msg_" + hex.EncodeToString(b)
	}
	ts := time.Unix(now.Unix(), 0)
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	h.Set(swHeaderID, id)
	h.Set(swHeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(swHeaderSignature, sig)
	return h, body, nil
}
