package inbound

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Cryptomus payment callbacks (https://doc.cryptomus.com/payments/webhook).
// There is no signature header and no timestamp: the JSON body carries
// `sign`, the MD5 hex of base64(body without "sign", re-encoded as PHP's
// json_encode does; see phpJSONWithout) followed by the merchant's payment
// API key. Replays are only stopped by the event-id dedupe, so an optional
// allow-list of Cryptomus' sending IPs is offered on top.
//
// The event id is uuid + ":" + status: each status change of an invoice is
// its own event, a repeat of the same status is a duplicate.
//
// What the signature covers: the meaning of the body (every value, every key
// and the order of keys), not its bytes: whitespace and escaping may differ
// from what was signed. The event id and type are read from the signed body.
// Not covered: any header, and time (there is no timestamp, so only the
// dedupe window and allowed_ips stop a replay).
//
// The body is re-encoded before the signature can be checked, so its nesting
// is bounded first (CheckDepth): that work is done for unauthenticated
// callers.
var cryptomusKind = Kind{
	Name:     "cryptomus",
	New:      newCryptomus,
	Sign:     signCryptomus,
	keyBytes: func(_ json.RawMessage, secret string) (int, string, error) { return len(secret), "API key", nil },
}

// CryptomusConfig is the per-source config of a cryptomus source.
type CryptomusConfig struct {
	// AllowedIPs, when set, lists the IPs or CIDRs callbacks may come from;
	// any other peer is refused as ErrSignature.
	AllowedIPs []string `json:"allowed_ips,omitempty"`
}

type cryptomusVerifier struct {
	allowed []netip.Prefix
}

func newCryptomus(config json.RawMessage) (Verifier, error) {
	var c CryptomusConfig
	if err := decodeConfig("cryptomus", config, &c); err != nil {
		return nil, err
	}
	v := &cryptomusVerifier{}
	for i, s := range c.AllowedIPs {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
		}
		if err != nil || p.Addr().Zone() != "" {
			return nil, fmt.Errorf("cryptomus config: allowed_ips[%d] %q is not an IP address or CIDR", i, s)
		}
		v.allowed = append(v.allowed, p.Masked())
	}
	return v, nil
}

func (v *cryptomusVerifier) ipAllowed(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	for _, p := range v.allowed {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// cryptomusSign returns MD5(base64(signed) + apiKey).
func cryptomusSign(signed []byte, apiKey string) [md5.Size]byte {
	return md5.Sum([]byte(base64.StdEncoding.EncodeToString(signed) + apiKey))
}

// cryptomusPrefix hashes base64(signed), the part of the signed text every
// key shares, once per request; each key then costs one clone of the MD5
// state and a few bytes.
func cryptomusPrefix(signed []byte) (hash.Cloner, error) {
	h, ok := md5.New().(hash.Cloner)
	if !ok {
		return nil, errors.New("md5 state cannot be cloned")
	}
	enc := base64.NewEncoder(base64.StdEncoding, h)
	_, _ = enc.Write(signed) // a hash never fails a write
	_ = enc.Close()
	return h, nil
}

func (v *cryptomusVerifier) Verify(r Request, secrets []string, _ time.Time) (Event, error) {
	if err := CheckDepth(r.Body, r.MaxDepth); err != nil {
		return Event{}, err
	}
	if len(v.allowed) > 0 && !v.ipAllowed(r.RemoteIP) {
		peer := "unknown"
		if r.RemoteIP.IsValid() {
			peer = r.RemoteIP.String()
		}
		return Event{}, fmt.Errorf("%w: peer IP %s is not in the source's allowed_ips", ErrSignature, peer)
	}
	signed, sign, found, err := phpJSONWithout(r.Body, "sign", r.MaxDepth)
	if err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBody, err)
	}
	if !found {
		return Event{}, fmt.Errorf("%w: body has no \"sign\" field; Cryptomus puts the MD5 hex signature there", ErrSignature)
	}
	got, err := hex.DecodeString(sign)
	if err != nil || len(got) != md5.Size {
		return Event{}, fmt.Errorf("%w: \"sign\" must be 32 hex digits (an MD5)", ErrSignature)
	}
	keys, err := keySlots(r, secrets)
	if err != nil {
		return Event{}, err
	}
	prefix, err := cryptomusPrefix(signed)
	if err != nil {
		return Event{}, err
	}
	matched := 0
	for _, k := range keys { // every slot, no early exit
		h, err := prefix.Clone()
		if err != nil {
			return Event{}, fmt.Errorf("cryptomus: clone md5 state: %w", err)
		}
		_, _ = io.WriteString(h, k.secret)
		mask := 0
		if k.real {
			mask = 1
		}
		matched |= subtle.ConstantTimeCompare(got, h.Sum(nil)) & mask
	}
	if matched != 1 {
		return Event{}, fmt.Errorf("%w: \"sign\" does not match MD5(base64(PHP json_encode of the body without sign) + API key) under the source's keys", ErrSignature)
	}
	f, err := topLevelStrings(r.Body, "uuid", "status")
	if err != nil {
		return Event{}, err
	}
	if f["uuid"] == "" || f["status"] == "" {
		return Event{}, fmt.Errorf("%w: a Cryptomus callback needs non-empty string \"uuid\" and \"status\"", ErrBody)
	}
	return Event{ID: f["uuid"] + ":" + f["status"], Type: "cryptomus." + f["status"]}, nil
}

// signCryptomus signs body as Cryptomus does and returns the body to send:
// the PHP re-encoding with "sign" appended last, as Cryptomus sends it. A
// "sign" already in body is replaced. The event id is the body's own.
func signCryptomus(config json.RawMessage, secret, _ string, body []byte, _ time.Time) (http.Header, []byte, error) {
	if _, err := newCryptomus(config); err != nil {
		return nil, nil, err
	}
	if secret == "" {
		return nil, nil, ErrNoSecret
	}
	signed, _, _, err := phpJSONWithout(body, "sign", MaxDepthCeiling) // a sender's tool, not the receive path
	if err != nil {
		return nil, nil, fmt.Errorf("cryptomus sign: %w", err)
	}
	sum := cryptomusSign(signed, secret)
	out := make([]byte, 0, len(signed)+48)
	if string(signed) == "[]" {
		out = append(out, '{')
	} else {
		out = append(out, signed[:len(signed)-1]...)
		out = append(out, ',')
	}
	out = append(out, `"sign":"`+hex.EncodeToString(sum[:])+`"}`...)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return h, out, nil
}
