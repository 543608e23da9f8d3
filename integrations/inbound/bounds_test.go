package inbound

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheckDepth(t *testing.T) {
	cases := []struct {
		body string
		max  int
		ok   bool
	}{
		{`{}`, 1, true},
		{`{"a":{}}`, 1, false},
		{`{"a":[1,{"b":2}]}`, 3, true},
		{`{"a":[1,{"b":2}]}`, 2, false},
		{`[[[]],[[]]]`, 3, true}, // siblings do not add up
		{`{"s":"[[[[{{{{"}`, 1, true},
		{`{"s":"\"[[[["}`, 1, true}, // an escaped quote does not end the string
		{`{"s":"\\"}`, 1, true},     // an escaped backslash does not escape the quote
		{`{"s":"\\",  "a":[[1]]}`, 2, false},
		{`]]]]{"a":{}}`, 1, false}, // stray closers do not buy depth
		{strings.Repeat("[", 64) + strings.Repeat("]", 64), 0, true},
		{strings.Repeat("[", 65), 0, false}, // 0: DefaultMaxDepth
		{"not json at all", 1, true},
	}
	for _, tc := range cases {
		err := CheckDepth([]byte(tc.body), tc.max)
		if tc.ok != (err == nil) {
			t.Errorf("CheckDepth(%.40q, %d) = %v, want ok=%v", tc.body, tc.max, err, tc.ok)
		}
		var de *DepthError
		if err != nil && (!errors.Is(err, ErrBody) || !errors.As(err, &de)) {
			t.Errorf("CheckDepth error %v is not an ErrBody DepthError", err)
		}
	}
	want := "JSON nested deeper than 3 levels; at most 3 are accepted"
	if err := CheckDepth([]byte(`[[[[]]]]`), 3); err == nil || err.Error() != want {
		t.Errorf("message = %v, want %q", err, want)
	}
}

// The PHP re-encoder refuses depth on its own too (a second guard behind the
// pre-scan), and accepts the limit itself.
func TestPHPJSONDepth(t *testing.T) {
	at := `{"a":` + strings.Repeat("[", 7) + strings.Repeat("]", 7) + `}`
	if _, _, _, err := phpJSONWithout([]byte(at), "sign", 8); err != nil {
		t.Fatalf("8 levels refused at a limit of 8: %v", err)
	}
	if _, _, _, err := phpJSONWithout([]byte(at), "sign", 7); !errors.Is(err, ErrBody) {
		t.Fatalf("8 levels at a limit of 7: %v, want a depth error", err)
	}
	e := phpEncoder{in: []byte(`[[[1]]]`), maxDepth: 2}
	if _, err := e.value(0); err == nil || !strings.Contains(err.Error(), "nested deeper than 2") {
		t.Fatalf("encoder without the pre-scan: %v, want its own depth error", err)
	}
}

// Every verifier refuses a too-deep body first, signed or not, before it
// looks at the signature or parses anything.
func TestEveryVerifierChecksDepthFirst(t *testing.T) {
	deep := []byte(`{"a":` + strings.Repeat("[", 1000))
	for _, tc := range []struct{ kind, config string }{
		{"standard-webhooks", ""}, {"stripe", ""}, {"cryptomus", ""}, {"hmac", `{"preset":"github"}`},
		{"hmac", `{"header":"X-S","event_id":{"json_path":"a.b"}}`},
	} {
		v := mustVerifier(t, tc.kind, tc.config)
		_, err := v.Verify(Request{Header: header(), Body: deep, MaxDepth: 10}, []string{"k"}, testNow)
		var de *DepthError
		if !errors.As(err, &de) || de.Max != 10 {
			t.Errorf("%s %s: %v, want a DepthError at 10", tc.kind, tc.config, err)
		}
	}
	if k := SearchKeys([]byte(`{"uuid":"u1","a":` + strings.Repeat("[", MaxDepthCeiling+1) + `}`)); len(k.PaymentIDs) != 0 {
		t.Errorf("SearchKeys read a body deeper than the ceiling: %+v", k)
	}
}

// Spare key slots cost work but never accept: a verifier padded to five slots
// accepts exactly what it accepts unpadded, and its refusal reads the same
// whatever the number of secrets.
func TestKeySlots(t *testing.T) {
	r := Request{KeySlots: 3}
	got, err := keySlots(r, []string{"a", "", "b"})
	if err != nil || len(got) != 3 || !got[0].real || !got[1].real || got[2].real || got[2].secret != "a" {
		t.Fatalf("keySlots = %+v, %v; want a, b and one spare", got, err)
	}
	got, _ = keySlots(Request{KeySlots: 1}, []string{"a", "b"})
	if len(got) != 2 {
		t.Fatalf("keySlots dropped a secret: %+v", got)
	}
	if _, err := keySlots(r, []string{""}); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("no usable secret: %v", err)
	}

	k := mustKind(t, "stripe")
	v := mustVerifier(t, "stripe", "")
	h, body, _ := k.Sign(nil, stripeSecret, "", []byte(stripeBody), testNow)
	for _, slots := range []int{0, 5} {
		if _, err := v.Verify(Request{Header: h, Body: body, KeySlots: slots}, []string{"whsec_other-0123456789abcdef", stripeSecret}, testNow); err != nil {
			t.Errorf("%d slots: signed request refused: %v", slots, err)
		}
	}
	var msgs []string
	for _, secrets := range [][]string{{"whsec_other-0123456789abcdef"}, {"whsec_a-0123456789abcdef", "whsec_b-0123456789abcdef", "whsec_c-0123456789abcdef"}} {
		_, err := v.Verify(Request{Header: h, Body: body, KeySlots: 3}, secrets, testNow)
		if !errors.Is(err, ErrSignature) {
			t.Fatalf("forged: %v", err)
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] {
		t.Errorf("refusal depends on the number of secrets: %q vs %q", msgs[0], msgs[1])
	}
}

// The hashed-once Cryptomus prefix gives the same signature as hashing the
// whole text per key.
func TestCryptomusPrefixMatchesDirectSign(t *testing.T) {
	signed := []byte(`{"uuid":"u","status":"paid"}`)
	p, err := cryptomusPrefix(signed)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"key-one-0123456789", "key-two-0123456789"} {
		h, _ := p.Clone()
		h.Write([]byte(key))
		want := cryptomusSign(signed, key)
		if string(h.Sum(nil)) != string(want[:]) {
			t.Errorf("prefix hash differs from MD5(base64(body)+key) for %s", key)
		}
	}
}

func TestCheckKey(t *testing.T) {
	b64 := func(n int) string { return "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, n)) }
	for _, tc := range []struct {
		kind, config, secret string
		ok                   bool
	}{
		{"standard-webhooks", "", b64(1), false},
		{"standard-webhooks", "", b64(15), false},
		{"standard-webhooks", "", b64(16), true},
		{"standard-webhooks", `{"secret_encoding":"raw"}`, "0123456789abcde", false},
		{"standard-webhooks", `{"secret_encoding":"raw"}`, "0123456789abcdef", true},
		{"stripe", "", "x", false},
		{"stripe", "", "whsec_0123456789abcde", false},
		{"stripe", "", "whsec_0123456789abcdef", true},
		{"hmac", `{"preset":"github"}`, "0123456789abcde", false},
		{"hmac", `{"preset":"github"}`, "0123456789abcdef", true},
		{"cryptomus", "", "short-api-key", false},
		{"cryptomus", "", "a-long-enough-api-key", true},
	} {
		var cfg json.RawMessage
		if tc.config != "" {
			cfg = json.RawMessage(tc.config)
		}
		err := mustKind(t, tc.kind).CheckKey(cfg, tc.secret)
		if tc.ok != (err == nil) {
			t.Errorf("%s %s %q: %v, want ok=%v", tc.kind, tc.config, tc.secret, err, tc.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "at least 16 bytes") || strings.Contains(err.Error(), tc.secret)) {
			t.Errorf("%s: message %q must name the minimum and not the secret", tc.kind, err)
		}
	}
}

// The PHP re-encoding runs before the signature is checked, so what it costs
// per member is what an unauthenticated caller can spend. Its allocations do
// not grow with the number of members, values or small objects (the
// json.Decoder-based encoder it replaced made ~12 per `{"b":1}`).
func TestPHPJSONAllocationsDoNotGrowWithMembers(t *testing.T) {
	for name, body := range map[string][]byte{
		"small objects":   []byte(`{"a":[` + strings.Repeat(`{"b":1,"c":"x\/y"},`, 50000) + `{}]}`),
		"escaped strings": []byte(`{"a":[` + strings.Repeat(`"\u00e9\u2028",`, 50000) + `""]}`),
		"escaped keys":    []byte(`{"a":[` + strings.Repeat(`{"\u0061":1,"\u0062":2},`, 50000) + `{}]}`),
	} {
		allocs := testing.AllocsPerRun(1, func() {
			if _, _, _, err := phpJSONWithout(body, "sign", 0); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 64 {
			t.Errorf("%s (%d bytes): %.0f allocations, want at most 64 whatever the size", name, len(body), allocs)
		}
	}
}
