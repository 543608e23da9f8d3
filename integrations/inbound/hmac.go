package inbound

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"time"
)

// Generic HMAC over the raw body, with the secret's bytes as the key, in a
// configurable header, prefix, algorithm and encoding. Provider presets
// (GitHub, Shopify) only fill in the fields; anything set explicitly in the
// config overrides the preset.
//
// What the signature covers: every byte of the body, and nothing else. Not
// covered: every header (X-GitHub-Delivery, X-GitHub-Event,
// X-Shopify-Webhook-Id, X-Shopify-Topic...), and time: there is no
// timestamp, so a captured request can be replayed at will. Hence:
//
//   - The event id is taken from signed bytes only: the configured json_path,
//     or else "sha256:" + hex(SHA-256(body)). An event_id header (the presets'
//     delivery id) is not used, since anyone replaying a captured request can
//     change it. A replay with any headers is a duplicate for the dedupe
//     window (72 h by default); after that window it would be accepted again.
//     Two genuine events with byte-identical bodies count as one.
//   - The event type may come from a header (the presets' X-GitHub-Event and
//     X-Shopify-Topic: neither provider puts it in the body). It is not
//     authenticated: a replay cannot change it (the replay is a duplicate of
//     the first copy, whose type stands), but whoever holds a signed body
//     before the provider delivers it could post it first under another type.
//     Use a json_path type where the provider's body carries one.
var hmacKind = Kind{
	Name:     "hmac",
	New:      newHMAC,
	Sign:     signHMAC,
	keyBytes: func(_ json.RawMessage, secret string) (int, string, error) { return len(secret), "secret", nil },
}

// HMACConfig is the per-source config of an hmac source.
type HMACConfig struct {
	Preset    string       `json:"preset,omitempty"`     // "github" | "shopify"
	Header    string       `json:"header,omitempty"`     // header carrying the signature; required
	Prefix    string       `json:"prefix,omitempty"`     // e.g. "sha256="; stripped before decoding
	Algorithm string       `json:"algorithm,omitempty"`  // "sha256" (default) | "sha512"
	Encoding  string       `json:"encoding,omitempty"`   // "hex" (default) | "base64"
	EventID   *HMACLocator `json:"event_id,omitempty"`   // json_path; otherwise "sha256:" + hex(SHA-256(body)); a header is not signed, so not used
	EventType *HMACLocator `json:"event_type,omitempty"` // unset or empty: ""
}

// HMACLocator says where a value lives: a request header or a dotted path
// into a JSON body ("data.id"). Exactly one may be set.
type HMACLocator struct {
	Header   string `json:"header,omitempty"`
	JSONPath string `json:"json_path,omitempty"`
}

var hmacPresets = map[string]HMACConfig{
	"github": {
		Header: "X-Hub-Signature-256", Prefix: "sha256=", Algorithm: "sha256", Encoding: "hex",
		EventID:   &HMACLocator{Header: "X-GitHub-Delivery"},
		EventType: &HMACLocator{Header: "X-GitHub-Event"},
	},
	"shopify": {
		Header: "X-Shopify-Hmac-Sha256", Algorithm: "sha256", Encoding: "base64",
		EventID:   &HMACLocator{Header: "X-Shopify-Webhook-Id"},
		EventType: &HMACLocator{Header: "X-Shopify-Topic"},
	},
}

type hmacVerifier struct {
	cfg     HMACConfig
	newHash func() hash.Hash
}

func parseHMACConfig(config json.RawMessage) (*hmacVerifier, error) {
	var c HMACConfig
	if err := decodeConfig("hmac", config, &c); err != nil {
		return nil, err
	}
	if c.Preset != "" {
		p, ok := hmacPresets[c.Preset]
		if !ok {
			return nil, fmt.Errorf(`hmac config: preset %q is unknown; use "github" or "shopify", or leave it out and set header, prefix, algorithm and encoding`, c.Preset)
		}
		if c.Header == "" {
			c.Header = p.Header
		}
		if c.Prefix == "" {
			c.Prefix = p.Prefix
		}
		if c.Algorithm == "" {
			c.Algorithm = p.Algorithm
		}
		if c.Encoding == "" {
			c.Encoding = p.Encoding
		}
		if c.EventID == nil {
			c.EventID = p.EventID
		}
		if c.EventType == nil {
			c.EventType = p.EventType
		}
	}
	v := &hmacVerifier{}
	c.Header = strings.TrimSpace(c.Header)
	if c.Header == "" {
		return nil, fmt.Errorf("hmac config: header is required (the request header carrying the signature), or set a preset")
	}
	switch c.Algorithm {
	case "", "sha256":
		c.Algorithm, v.newHash = "sha256", sha256.New
	case "sha512":
		v.newHash = sha512.New
	default:
		return nil, fmt.Errorf(`hmac config: algorithm %q is not supported; use "sha256" (default) or "sha512"`, c.Algorithm)
	}
	switch c.Encoding {
	case "":
		c.Encoding = "hex"
	case "hex", "base64":
	default:
		return nil, fmt.Errorf(`hmac config: encoding %q is not supported; use "hex" (default) or "base64"`, c.Encoding)
	}
	for _, l := range []struct {
		field string
		loc   *HMACLocator
	}{{"event_id", c.EventID}, {"event_type", c.EventType}} {
		if l.loc == nil {
			continue
		}
		if l.loc.Header != "" && l.loc.JSONPath != "" {
			return nil, fmt.Errorf("hmac config: %s sets both header and json_path; set one", l.field)
		}
		if p := l.loc.JSONPath; p != "" && (strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..")) {
			return nil, fmt.Errorf("hmac config: %s.json_path %q is not a dotted path like \"data.id\"", l.field, p)
		}
	}
	v.cfg = c
	return v, nil
}

func newHMAC(config json.RawMessage) (Verifier, error) {
	return parseHMACConfig(config)
}

func (v *hmacVerifier) mac(secret string, body []byte) []byte {
	m := hmac.New(v.newHash, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

func (v *hmacVerifier) encode(sum []byte) string {
	if v.cfg.Encoding == "base64" {
		return base64.StdEncoding.EncodeToString(sum)
	}
	return hex.EncodeToString(sum)
}

func (v *hmacVerifier) Verify(r Request, secrets []string, _ time.Time) (Event, error) {
	if err := CheckDepth(r.Body, r.MaxDepth); err != nil {
		return Event{}, err
	}
	c := v.cfg
	expect := fmt.Sprintf("%s%s of HMAC-%s over the raw body", c.Prefix, c.Encoding, strings.ToUpper(c.Algorithm))
	h := strings.TrimSpace(r.Header.Get(c.Header))
	if h == "" {
		return Event{}, fmt.Errorf("%w: missing %s header; expected %s", ErrSignature, c.Header, expect)
	}
	enc, ok := strings.CutPrefix(h, c.Prefix)
	if !ok {
		return Event{}, fmt.Errorf("%w: %s header does not start with %q; expected %s", ErrSignature, c.Header, c.Prefix, expect)
	}
	var got []byte
	var err error
	if c.Encoding == "base64" {
		got, err = base64.StdEncoding.DecodeString(enc)
	} else {
		got, err = hex.DecodeString(enc)
	}
	if err != nil || len(got) != v.newHash().Size() {
		return Event{}, fmt.Errorf("%w: %s header is not %s", ErrSignature, c.Header, expect)
	}
	keys, err := keySlots(r, secrets)
	if err != nil {
		return Event{}, err
	}
	matched := false
	for _, k := range keys { // every slot, no early exit
		ok := hmac.Equal(got, v.mac(k.secret, r.Body))
		matched = matched || (ok && k.real)
	}
	if !matched {
		return Event{}, fmt.Errorf("%w: %s does not match HMAC-%s of the body under the source's secrets", ErrSignature, c.Header, strings.ToUpper(c.Algorithm))
	}
	// Only the signed body may name the event: see the kind's doc.
	idPath := c.EventID != nil && c.EventID.JSONPath != ""
	var parsed any
	needJSON := idPath || (c.EventType != nil && c.EventType.JSONPath != "")
	if needJSON {
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.UseNumber()
		if err := dec.Decode(&parsed); err != nil || dec.More() {
			return Event{}, fmt.Errorf("%w: body must be JSON to read the configured json_path", ErrBody)
		}
	}
	ev := Event{Type: locate(c.EventType, r.Header, parsed)}
	if idPath {
		ev.ID = locate(c.EventID, r.Header, parsed)
	}
	if ev.ID == "" {
		sum := sha256.Sum256(r.Body)
		ev.ID = "sha256:" + hex.EncodeToString(sum[:])
	}
	return ev, nil
}

// locate reads a configured value; absent, null or non-scalar values are "".
func locate(l *HMACLocator, h http.Header, body any) string {
	switch {
	case l == nil:
		return ""
	case l.Header != "":
		return strings.TrimSpace(h.Get(l.Header))
	case l.JSONPath != "":
		cur := body
		for part := range strings.SplitSeq(l.JSONPath, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return ""
			}
			cur = m[part]
		}
		switch x := cur.(type) {
		case string:
			return x
		case json.Number:
			return x.String()
		}
	}
	return ""
}

// signHMAC signs body under config. id, when given, goes in the event_id
// header if the config reads the id from a header.
func signHMAC(config json.RawMessage, secret, id string, body []byte, _ time.Time) (http.Header, []byte, error) {
	v, err := parseHMACConfig(config)
	if err != nil {
		return nil, nil, err
	}
	if secret == "" {
		return nil, nil, ErrNoSecret
	}
	h := http.Header{}
	h.Set(v.cfg.Header, v.cfg.Prefix+v.encode(v.mac(secret, body)))
	if id != "" && v.cfg.EventID != nil && v.cfg.EventID.Header != "" {
		h.Set(v.cfg.EventID.Header, id)
	}
	return h, body, nil
}
