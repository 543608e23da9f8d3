package inbound

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// These fuzzers reach the parsers that run after a signature matched (the
// fuzzers in fuzz_test.go mutate signed requests, so they mostly stop at the
// signature): each signs the fuzzed body itself, then verifies it under a
// small depth limit. Inputs are bounded in size; depth is bounded by the
// limit under test. Their oracle: no panic, a body deeper than the limit is
// always a DepthError, and an accepted event carries the identity the body
// (never an unsigned header) gives it.

const (
	fuzzMaxBody  = 64 << 10
	fuzzMaxDepth = 16
)

// seedBodies adds every provider sample and a few nesting shapes.
func seedBodies(f *testing.F) {
	for _, dir := range []string{"dodo", "stripe", "cryptomus", "hmac"} {
		addSamples(f, dir, func(b []byte) { f.Add(b) })
	}
	for _, s := range []string{
		`{"type":"t","id":"i","uuid":"u","status":"paid","a":` + strings.Repeat("[", fuzzMaxDepth-1) + strings.Repeat("]", fuzzMaxDepth-1) + `}`,
		`{"type":"t","id":"i","a":` + strings.Repeat("[", fuzzMaxDepth) + strings.Repeat("]", fuzzMaxDepth) + `}`,
		`{"type":"[[[[","id":"\"{{{{","uuid":"u","status":"s"}`,
		`{"a":` + strings.Repeat(`{"a":`, 100),
	} {
		f.Add([]byte(s))
	}
}

// checkDepthOutcome fails t if a body deeper than the fuzz limit was not
// refused as such, and reports whether it was refused for its depth.
func checkDepthOutcome(t *testing.T, body []byte, err error) bool {
	t.Helper()
	var de *DepthError
	if CheckDepth(body, fuzzMaxDepth) != nil {
		if !errors.As(err, &de) {
			t.Fatalf("body deeper than %d levels: got %v, want a DepthError", fuzzMaxDepth, err)
		}
		return true
	}
	if errors.As(err, &de) {
		t.Fatalf("body within %d levels refused for its depth: %v", fuzzMaxDepth, err)
	}
	return false
}

// topLevel decodes a body's top-level string fields the way the oracle sees
// them: only a JSON object, and only string values.
func topLevel(body []byte, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var s string
	_ = json.Unmarshal(m[name], &s)
	return s
}

func FuzzSignedStandardWebhooks(f *testing.F) {
	seedBodies(f)
	k, v := mustKind(f, "standard-webhooks"), mustVerifier(f, "standard-webhooks", "")
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > fuzzMaxBody {
			return
		}
		h, b, err := k.Sign(nil, swSecret, "msg_fuzz", body, testNow)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := v.Verify(Request{Header: h, Body: b, MaxDepth: fuzzMaxDepth, KeySlots: 3}, []string{swSecret}, testNow)
		if checkDepthOutcome(t, b, err) || err != nil {
			return
		}
		if ev.ID != "msg_fuzz" || ev.Type == "" || ev.Type != topLevel(b, "type") {
			t.Fatalf("accepted %q as %+v", b, ev)
		}
	})
}

func FuzzSignedStripe(f *testing.F) {
	seedBodies(f)
	k, v := mustKind(f, "stripe"), mustVerifier(f, "stripe", "")
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > fuzzMaxBody {
			return
		}
		h, b, err := k.Sign(nil, stripeSecret, "", body, testNow)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := v.Verify(Request{Header: h, Body: b, MaxDepth: fuzzMaxDepth, KeySlots: 3}, []string{stripeSecret}, testNow)
		if checkDepthOutcome(t, b, err) || err != nil {
			return
		}
		if ev.ID == "" || ev.ID != topLevel(b, "id") || ev.Type != topLevel(b, "type") {
			t.Fatalf("accepted %q as %+v", b, ev)
		}
	})
}

func FuzzSignedCryptomus(f *testing.F) {
	seedBodies(f)
	k, v := mustKind(f, "cryptomus"), mustVerifier(f, "cryptomus", "")
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > fuzzMaxBody {
			return
		}
		_, b, err := k.Sign(nil, cryptomusKey, "", body, testNow)
		if err != nil {
			return // not a JSON object Cryptomus could have signed
		}
		ev, err := v.Verify(Request{Body: b, MaxDepth: fuzzMaxDepth, KeySlots: 3}, []string{cryptomusKey}, testNow)
		if checkDepthOutcome(t, b, err) {
			return
		}
		if errors.Is(err, ErrSignature) {
			t.Fatalf("Sign's own output %q refused: %v", b, err)
		}
		if err == nil && ev.ID != topLevel(b, "uuid")+":"+topLevel(b, "status") {
			t.Fatalf("accepted %q as %+v", b, ev)
		}
	})
}

func FuzzSignedHMACJSONPath(f *testing.F) {
	seedBodies(f)
	cfg := json.RawMessage(`{"header":"X-Sig","event_id":{"json_path":"data.id"},"event_type":{"json_path":"type"}}`)
	k, v := mustKind(f, "hmac"), mustVerifier(f, "hmac", string(cfg))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > fuzzMaxBody {
			return
		}
		h, b, err := k.Sign(cfg, hmacSecret, "", body, testNow)
		if err != nil {
			t.Fatal(err)
		}
		h.Set("X-GitHub-Delivery", "unsigned") // must never matter
		ev, err := v.Verify(Request{Header: h, Body: b, MaxDepth: fuzzMaxDepth, KeySlots: 3}, []string{hmacSecret}, testNow)
		if checkDepthOutcome(t, b, err) || err != nil {
			return
		}
		sum := sha256.Sum256(b)
		want := "sha256:" + hex.EncodeToString(sum[:])
		var parsed any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if dec.Decode(&parsed) == nil {
			if id := locate(&HMACLocator{JSONPath: "data.id"}, nil, parsed); id != "" {
				want = id
			}
		}
		if ev.ID != want {
			t.Fatalf("accepted %q with id %q, want %q (from the signed body only)", b, ev.ID, want)
		}
	})
}

// FuzzCheckDepth: on valid JSON, the pre-scan agrees with the nesting the
// standard tokenizer sees (allowed at the real depth, refused one below);
// on any input it never panics.
func FuzzCheckDepth(f *testing.F) {
	seedBodies(f)
	f.Add([]byte(`"\\"`))
	f.Add([]byte(`[{"a\"[":["]"]}]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > fuzzMaxBody {
			return
		}
		_ = CheckDepth(in, fuzzMaxDepth)
		if !json.Valid(in) {
			return
		}
		depth, deepest := 0, 0
		dec := json.NewDecoder(bytes.NewReader(in))
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch tok {
			case json.Delim('['), json.Delim('{'):
				depth++
				deepest = max(deepest, depth)
			case json.Delim(']'), json.Delim('}'):
				depth--
			}
		}
		if deepest > 0 && CheckDepth(in, deepest) != nil {
			t.Fatalf("%q nests %d levels but is refused at %d", in, deepest, deepest)
		}
		if deepest > 1 && CheckDepth(in, deepest-1) == nil {
			t.Fatalf("%q nests %d levels but is allowed at %d", in, deepest, deepest-1)
		}
	})
}
