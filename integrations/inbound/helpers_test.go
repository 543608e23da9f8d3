package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

// testNow is the verifier clock of every test: fixed, so vectors are stable.
var testNow = time.Unix(1_767_225_600, 0) // 2026-01-01T00:00:00Z

func mustKind(t testing.TB, name string) Kind {
	t.Helper()
	k, ok := Lookup(name)
	if !ok {
		t.Fatalf("kind %q is not registered", name)
	}
	return k
}

func mustVerifier(t testing.TB, name, config string) Verifier {
	t.Helper()
	var raw json.RawMessage
	if config != "" {
		raw = json.RawMessage(config)
	}
	v, err := mustKind(t, name).New(raw)
	if err != nil {
		t.Fatalf("%s.New(%s): %v", name, config, err)
	}
	return v
}

func hmacSHA256(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// wantErr checks err against the sentinel want (nil means success expected).
func wantErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error = %v, want %v", err, want)
	}
}
