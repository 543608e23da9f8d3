package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Stripe (https://docs.stripe.com/webhooks#verify-manually):
// Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...], HMAC-SHA256 over
// "{t}.{raw body}" keyed with the whsec_ secret's bytes as they are (no
// base64 decoding, unlike Standard Webhooks). Other schemes (v0 is Stripe's
// test-mode legacy) are ignored. Stripe sends several v1 values while an
// endpoint secret is being rolled, so any one of them may be the match.
//
// What the signature covers: t and every byte of the body. The event id and
// type are read from the signed body. Not covered: every other header. A
// replay within the 300 s tolerance is stopped by the event-id dedupe.
const stripeHeader = "Stripe-Signature"

var stripeKind = Kind{
	Name:     "stripe",
	New:      newStripe,
	Sign:     signStripe,
	keyBytes: stripeKeyBytes,
}

// stripeKeyBytes counts the secret after its public "whsec_" prefix: the
// prefix is part of the HMAC key but adds nothing an attacker must guess.
func stripeKeyBytes(_ json.RawMessage, secret string) (int, string, error) {
	return len(strings.TrimPrefix(secret, "whsec_")), "secret (after whsec_)", nil
}

type stripeVerifier struct{}

func newStripe(config json.RawMessage) (Verifier, error) {
	var c struct{}
	if err := decodeConfig("stripe", config, &c); err != nil {
		return nil, err
	}
	return stripeVerifier{}, nil
}

// parseStripeHeader returns the t value and the decoded v1 signatures.
func parseStripeHeader(h string) (ts int64, v1 [][]byte, err error) {
	tSeen := false
	for item := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if tSeen {
				return 0, nil, fmt.Errorf("%w: Stripe-Signature has more than one t=", ErrSignature)
			}
			tSeen = true
			if ts, err = parseUnixSeconds("Stripe-Signature t", v); err != nil {
				return 0, nil, err
			}
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				continue // like Stripe's own libraries: a malformed value is no match
			}
			v1 = append(v1, sig)
		}
	}
	if !tSeen {
		return 0, nil, fmt.Errorf("%w: Stripe-Signature has no t=<unix seconds>; expected t=<unix>,v1=<hex HMAC-SHA256>", ErrSignature)
	}
	if len(v1) == 0 {
		return 0, nil, fmt.Errorf("%w: Stripe-Signature has no v1=<64 hex digits> value; expected t=<unix>,v1=<hex HMAC-SHA256>", ErrSignature)
	}
	return ts, v1, nil
}

func stripeMAC(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

func (stripeVerifier) Verify(r Request, secrets []string, now time.Time) (Event, error) {
	if err := CheckDepth(r.Body, r.MaxDepth); err != nil {
		return Event{}, err
	}
	h := r.Header.Get(stripeHeader)
	if h == "" {
		return Event{}, fmt.Errorf("%w: missing Stripe-Signature header; expected t=<unix>,v1=<hex HMAC-SHA256>", ErrSignature)
	}
	ts, v1, err := parseStripeHeader(h)
	if err != nil {
		return Event{}, err
	}
	if err := checkSkew("Stripe-Signature t", ts, now); err != nil {
		return Event{}, err
	}
	keys, err := keySlots(r, secrets)
	if err != nil {
		return Event{}, err
	}
	tsText := strconv.FormatInt(ts, 10)
	matched := false
	for _, k := range keys { // every slot and every v1, no early exit
		want := stripeMAC(k.secret, tsText, r.Body)
		hit := false
		for _, got := range v1 {
			if hmac.Equal(got, want) {
				hit = true
			}
		}
		matched = matched || (hit && k.real)
	}
	if !matched {
		return Event{}, fmt.Errorf("%w: no v1 value in Stripe-Signature matches HMAC-SHA256 of {t}.{body} under the source's secrets", ErrSignature)
	}
	f, err := topLevelStrings(r.Body, "id", "type")
	if err != nil {
		return Event{}, err
	}
	if f["id"] == "" || f["type"] == "" {
		return Event{}, fmt.Errorf("%w: a Stripe event needs non-empty string \"id\" and \"type\"", ErrBody)
	}
	return Event{ID: f["id"], Type: f["type"]}, nil
}

// signStripe signs body as Stripe does. The event id is the body's own.
func signStripe(config json.RawMessage, secret, _ string, body []byte, now time.Time) (http.Header, []byte, error) {
	if _, err := newStripe(config); err != nil {
		return nil, nil, err
	}
	if secret == "" {
		return nil, nil, ErrNoSecret
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set(stripeHeader, "t="+ts+",v1="+hex.EncodeToString(stripeMAC(secret, ts, body)))
	return h, body, nil
}
