package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// maxSkew is how far a signed timestamp may be from the verifier's clock,
// either way: the Standard Webhooks libraries allow 5 minutes, and Stripe's
// own libraries default to a 300 s tolerance.
const maxSkew = 300 * time.Second

// decodeConfig strictly decodes a source's JSON config into dst. nil, empty
// and `null` leave dst at its defaults. Unknown fields are refused so a typo
// ("algoritm") is reported instead of silently ignored.
func decodeConfig(kind string, config json.RawMessage, dst any) error {
	trimmed := bytes.TrimSpace(config)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s config: %w", kind, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s config: unexpected data after the JSON object", kind)
	}
	return nil
}

// parseUnixSeconds parses a signed timestamp. Only plain digits are taken:
// strconv would also accept "+17..." or "017...", which is not how any
// provider writes it.
func parseUnixSeconds(field, s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("%w: %s must be unix seconds (1 to 18 digits)", ErrSignature, field)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: %s must be unix seconds (digits only)", ErrSignature, field)
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s must be unix seconds", ErrSignature, field)
	}
	return ts, nil
}

// checkSkew refuses a timestamp more than maxSkew away from now. The clock is
// the caller's, so tests and rotations can move it.
func checkSkew(field string, ts int64, now time.Time) error {
	limit := int64(maxSkew / time.Second)
	n := now.Unix()
	switch {
	case ts < n-limit:
		return fmt.Errorf("%w: %s is %ds in the past; at most %ds of skew is allowed (replayed or delayed request, or a wrong server clock)",
			ErrSignature, field, n-ts, limit)
	case ts > n+limit:
		return fmt.Errorf("%w: %s is %ds in the future; at most %ds of skew is allowed (check the sender's clock)",
			ErrSignature, field, ts-n, limit)
	}
	return nil
}

// nonEmpty returns the secrets worth trying, or ErrNoSecret.
func nonEmpty(secrets []string) ([]string, error) {
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoSecret
	}
	return out, nil
}

// keySlot is one MAC computation of a verification: a secret of the source,
// or a spare slot that repeats one and whose result is ignored (real false).
type keySlot struct {
	secret string
	real   bool
}

// keySlots returns the secrets to try, padded to r.KeySlots with spare slots,
// or ErrNoSecret. Verifiers compute a MAC for every slot, with no early exit,
// so the work done does not depend on which secret matched nor on how many
// secrets the source has (up to the receiver's live-secret limit).
func keySlots(r Request, secrets []string) ([]keySlot, error) {
	usable, err := nonEmpty(secrets)
	if err != nil {
		return nil, err
	}
	out := make([]keySlot, 0, max(len(usable), r.KeySlots))
	for _, s := range usable {
		out = append(out, keySlot{secret: s, real: true})
	}
	for len(out) < r.KeySlots {
		out = append(out, keySlot{secret: usable[0]})
	}
	return out, nil
}

// MinKeyBytes is the least key material a source secret may carry, for every
// scheme: a shorter HMAC key (a one-byte Standard Webhooks key, a
// one-character Stripe secret) can be guessed. It is a floor, not a tunable.
const MinKeyBytes = 16

// CheckKey refuses a secret that carries less than MinKeyBytes of key
// material under config. The message names the minimum, never the secret.
func (k Kind) CheckKey(config json.RawMessage, secret string) error {
	if k.keyBytes == nil {
		return nil
	}
	n, what, err := k.keyBytes(config, secret)
	if err != nil {
		return err
	}
	if n < MinKeyBytes {
		return fmt.Errorf("%s is %d bytes; at least %d bytes of key material are required", what, n, MinKeyBytes)
	}
	return nil
}

// JSONChecker is implemented by a Verifier whose successful Verify has
// parsed the whole body as one JSON value (topLevelStrings), so that the
// receiver need not check the body's JSON again.
type JSONChecker interface{ ChecksJSON() bool }

// ChecksJSON: Verify reads the body through topLevelStrings.
func (*standardWebhooksVerifier) ChecksJSON() bool { return true }

// ChecksJSON: Verify reads the body through topLevelStrings.
func (stripeVerifier) ChecksJSON() bool { return true }

// ChecksJSON: Verify reads the body through topLevelStrings.
func (*cryptomusVerifier) ChecksJSON() bool { return true }

// topLevelStrings reads string fields of a JSON object body. A body that is
// not a JSON object is ErrBody; a field that is absent or not a string is
// returned as "" and left for the caller to judge. It checks the whole body
// as JSON in the same single pass (topscan.go), which is why its callers'
// verifiers are JSONCheckers.
func topLevelStrings(body []byte, names ...string) (map[string]string, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: body must be a JSON object", ErrBody)
	}
	sc := topScan{b: body, names: names, got: make(map[string]string, len(names))}
	err := sc.value(0)
	if err == nil {
		sc.ws()
		if sc.i != len(body) {
			err = errTopScan
		}
	}
	if err != nil {
		// Refused: let encoding/json say why, in its words.
		var v any
		if jerr := json.Unmarshal(body, &v); jerr != nil {
			err = jerr
		}
		return nil, fmt.Errorf("%w: body is not valid JSON: %v", ErrBody, err)
	}
	return sc.got, nil
}
