package httpapi_test

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Every scheme with a secret needs at least 16 bytes of key material: a
// shorter one is refused with 422 naming the field and the minimum, at
// create, at rotate, and at a config change that would shrink the current
// secret's key; nothing is saved.
func TestShortKeysRefused(t *testing.T) {
	s := newStack(t)
	tok := s.tenant("acme")
	whsec := func(n int) string {
		return "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n)))
	}
	refuse := func(label string, code int, out map[string]any, field string) {
		t.Helper()
		ecode, msg := errorOf(out)
		if code != 422 || ecode != "invalid_"+field || !strings.Contains(msg, "at least 16 bytes") {
			t.Errorf("%s: %d %v, want 422 invalid_%s naming the 16-byte minimum", label, code, out, field)
		}
	}
	cases := []struct {
		label, kind, secret string
		config              map[string]any
		ok                  bool
	}{
		{"standard-webhooks, 1-byte key", "standard-webhooks", whsec(1), nil, false},
		{"standard-webhooks, 15-byte key", "standard-webhooks", whsec(15), nil, false},
		{"standard-webhooks, 16-byte key", "standard-webhooks", whsec(16), nil, true},
		{"standard-webhooks raw, 5 bytes", "standard-webhooks", "short", map[string]any{"secret_encoding": "raw"}, false},
		{"standard-webhooks raw, 16 bytes", "standard-webhooks", "0123456789abcdef", map[string]any{"secret_encoding": "raw"}, true},
		{"stripe, 1 character", "stripe", "x", nil, false},
		{"stripe, whsec_ + 15", "stripe", "whsec_" + strings.Repeat("a", 15), nil, false},
		{"stripe, whsec_ + 16", "stripe", "whsec_" + strings.Repeat("a", 16), nil, true},
		{"hmac, 1 character", "hmac", "s", map[string]any{"preset": "github"}, false},
		{"hmac, 16 characters", "hmac", strings.Repeat("s", 16), map[string]any{"preset": "github"}, true},
		{"cryptomus, 8 characters", "cryptomus", "apikey12", nil, false},
		{"cryptomus, 16 characters", "cryptomus", strings.Repeat("c", 16), nil, true},
	}
	saved := 0
	for _, c := range cases {
		body := map[string]any{"name": c.label, "kind": c.kind, "secret": c.secret}
		if c.config != nil {
			body["config"] = c.config
		}
		code, out := s.call("POST", "/v1/sources", tok, body)
		if c.ok {
			if code != 201 {
				t.Errorf("%s: %d %v, want 201", c.label, code, out)
			}
			saved++
			continue
		}
		refuse(c.label, code, out, "secret")
	}
	if _, list := s.call("GET", "/v1/sources", tok, nil); len(list["data"].([]any)) != saved {
		t.Errorf("%d sources saved, want %d: a refused one was kept", len(list["data"].([]any)), saved)
	}

	// Rotation to a short secret is refused; the current secret stays.
	src, secret := s.source(tok)
	code, out := s.call("POST", "/v1/sources/"+src+"/rotate-secret", tok, map[string]any{"secret": whsec(4)})
	refuse("rotate to a 4-byte key", code, out, "secret")
	if code, out := s.signed(src, secret, "msg_after_refused_rotation", []byte(`{"type":"a"}`), s.clock.Now()); code != 202 {
		t.Errorf("the current secret stopped working after a refused rotation: %d %v", code, out)
	}

	// A raw secret whose base64 reading is only 15 bytes: switching the
	// source to base64 would leave a 15-byte key.
	raw := "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("r", 15)))
	rawSrc := s.mustCall(201, "POST", "/v1/sources", tok, map[string]any{"name": "raw", "kind": "standard-webhooks",
		"secret": raw, "config": map[string]any{"secret_encoding": "raw"}})["id"].(string)
	code, out = s.call("PATCH", "/v1/sources/"+rawSrc, tok, map[string]any{"config": map[string]any{"secret_encoding": "base64"}})
	refuse("patch to a config that shrinks the key", code, out, "config")
	if _, got := s.call("GET", "/v1/sources/"+rawSrc, tok, nil); !strings.Contains(toJSON(got["config"]), "raw") {
		t.Errorf("the refused config was saved: %v", got["config"])
	}
}
