package inbound

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

const (
	swSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swSecret2 = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	swBody    = `{"business_id":"bus_1","type":"payment.succeeded","timestamp":"2026-01-01T00:00:00Z","data":{"payload_type":"Payment","payment_id":"pay_1","total_amount":2999,"currency":"USD"}}`
)

// swHandSign computes a signature independently of the library and of Sign.
func swHandSign(t *testing.T, key []byte, id string, ts int64, body string) string {
	t.Helper()
	return "v1," + base64.StdEncoding.EncodeToString(hmacSHA256(key, id, ".", strconv.FormatInt(ts, 10), ".", body))
}

func swKey(t *testing.T, secret string) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestStandardWebhooksVerify(t *testing.T) {
	now := testNow.Unix()
	ts := strconv.FormatInt(now, 10)
	good := swHandSign(t, swKey(t, swSecret), "msg_1", now, swBody)
	otherKey := swHandSign(t, []byte("not the key"), "msg_1", now, swBody)
	cases := []struct {
		name    string
		header  []string
		body    string
		secrets []string
		want    error
	}{
		{"valid", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", good}, swBody, []string{swSecret}, nil},
		{"valid without whsec_ prefix", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", good}, swBody, []string{strings.TrimPrefix(swSecret, "whsec_")}, nil},
		{"second of several signatures", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", otherKey + " v2,abc " + good}, swBody, []string{swSecret}, nil},
		{"rotation: second secret", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", good}, swBody, []string{swSecret2, swSecret}, nil},
		{"rotation: undecodable old secret skipped", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", good}, swBody, []string{"whsec_%%%", swSecret}, nil},
		{"300s old is allowed", []string{"webhook-id", "msg_1", "webhook-timestamp", strconv.FormatInt(now-300, 10), "webhook-signature", swHandSign(t, swKey(t, swSecret), "msg_1", now-300, swBody)}, swBody, []string{swSecret}, nil},
		{"tampered body", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", good}, strings.Replace(swBody, "2999", "9999", 1), []string{swSecret}, ErrSignature},
		{"tampered id", []string{"webhook-id", "msg_2", "webhook-timestamp", ts, "webhook-signature", good}, swBody, []string{swSecret}, ErrSignature},
		{"wrong secret", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", good}, swBody, []string{swSecret2}, ErrSignature},
		{"stale timestamp", []string{"webhook-id", "msg_1", "webhook-timestamp", strconv.FormatInt(now-301, 10), "webhook-signature", swHandSign(t, swKey(t, swSecret), "msg_1", now-301, swBody)}, swBody, []string{swSecret}, ErrSignature},
		{"future timestamp", []string{"webhook-id", "msg_1", "webhook-timestamp", strconv.FormatInt(now+301, 10), "webhook-signature", swHandSign(t, swKey(t, swSecret), "msg_1", now+301, swBody)}, swBody, []string{swSecret}, ErrSignature},
		{"signed timestamp with plus sign", []string{"webhook-id", "msg_1", "webhook-timestamp", "+" + ts, "webhook-signature", good}, swBody, []string{swSecret}, ErrSignature},
		{"missing webhook-id", []string{"webhook-timestamp", ts, "webhook-signature", good}, swBody, []string{swSecret}, ErrSignature},
		{"missing webhook-timestamp", []string{"webhook-id", "msg_1", "webhook-signature", good}, swBody, []string{swSecret}, ErrSignature},
		{"missing webhook-signature", []string{"webhook-id", "msg_1", "webhook-timestamp", ts}, swBody, []string{swSecret}, ErrSignature},
		{"unsigned malformed body", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", good}, `{"type":`, []string{swSecret}, ErrSignature},
		{"signed malformed body", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", swHandSign(t, swKey(t, swSecret), "msg_1", now, `{"type":`)}, `{"type":`, []string{swSecret}, ErrBody},
		{"signed body without type", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", swHandSign(t, swKey(t, swSecret), "msg_1", now, `{"data":{}}`)}, `{"data":{}}`, []string{swSecret}, ErrBody},
		{"signed array body", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", swHandSign(t, swKey(t, swSecret), "msg_1", now, `[1]`)}, `[1]`, []string{swSecret}, ErrBody},
		{"no secrets", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", good}, swBody, nil, ErrNoSecret},
		{"only undecodable secrets", []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", good}, swBody, []string{"whsec_%%%"}, ErrNoSecret},
	}
	v := mustVerifier(t, "standard-webhooks", "")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := v.Verify(Request{Header: header(tc.header...), Body: []byte(tc.body)}, tc.secrets, testNow)
			wantErr(t, err, tc.want)
			if tc.want == nil && (ev.ID != "msg_1" || ev.Type != "payment.succeeded") {
				t.Fatalf("event = %+v", ev)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(swSecret, "whsec_")) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestStandardWebhooksRawSecret(t *testing.T) {
	const secret = "plain-string-secret"
	now := testNow.Unix()
	hdr := header("webhook-id", "msg_raw", "webhook-timestamp", strconv.FormatInt(now, 10),
		"webhook-signature", swHandSign(t, []byte(secret), "msg_raw", now, swBody))
	raw := mustVerifier(t, "standard-webhooks", `{"secret_encoding":"raw"}`)
	if _, err := raw.Verify(Request{Header: hdr, Body: []byte(swBody)}, []string{secret}, testNow); err != nil {
		t.Fatalf("raw secret: %v", err)
	}
	// The default (base64) source must not accept it: the encoding is per
	// source, never guessed.
	b64 := mustVerifier(t, "standard-webhooks", `{}`)
	if _, err := b64.Verify(Request{Header: hdr, Body: []byte(swBody)}, []string{secret}, testNow); err == nil {
		t.Fatal("base64 source accepted a raw-secret signature")
	}
	// And Sign honours the option.
	h, body, err := mustKind(t, "standard-webhooks").Sign(json.RawMessage(`{"secret_encoding":"raw"}`), secret, "msg_raw", []byte(swBody), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Verify(Request{Header: h, Body: body}, []string{secret}, testNow); err != nil {
		t.Fatalf("raw Sign→Verify: %v", err)
	}
}

func TestStandardWebhooksSignRoundTrip(t *testing.T) {
	k := mustKind(t, "standard-webhooks")
	secret, err := k.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") || len(swKey(t, secret)) != 32 {
		t.Fatalf("NewSecret = %q, want whsec_ + base64 of 32 bytes", secret)
	}
	h, body, err := k.Sign(nil, secret, "msg_rt", []byte(swBody), testNow)
	if err != nil {
		t.Fatal(err)
	}
	// Independent vector: the header Sign wrote is the hand-computed one.
	if got, want := h.Get("webhook-signature"), swHandSign(t, swKey(t, secret), "msg_rt", testNow.Unix(), swBody); got != want {
		t.Fatalf("Sign signature = %q, want %q", got, want)
	}
	v := mustVerifier(t, "standard-webhooks", "")
	ev, err := v.Verify(Request{Header: h, Body: body}, []string{secret}, testNow.Add(299e9))
	if err != nil || ev.ID != "msg_rt" || ev.Type != "payment.succeeded" {
		t.Fatalf("Verify = %+v, %v", ev, err)
	}
	// An empty id is generated.
	h, _, err = k.Sign(nil, secret, "", []byte(swBody), testNow)
	if err != nil || !strings.HasPrefix(h.Get("webhook-id"), "msg_") {
		t.Fatalf("Sign with empty id: %v, webhook-id %q", err, h.Get("webhook-id"))
	}
}

func TestStandardWebhooksConfig(t *testing.T) {
	k := mustKind(t, "standard-webhooks")
	for _, tc := range []struct{ config, wantInErr string }{
		{`{"secret_encoding":"hex"}`, "secret_encoding"},
		{`{"secret_encodng":"raw"}`, "secret_encodng"},
		{`[]`, "standard-webhooks config"},
	} {
		if _, err := k.New(json.RawMessage(tc.config)); err == nil || !strings.Contains(err.Error(), tc.wantInErr) {
			t.Errorf("New(%s) = %v, want an error naming %q", tc.config, err, tc.wantInErr)
		}
	}
	for _, ok := range []string{``, `null`, `{}`, `{"secret_encoding":"base64"}`, `{"secret_encoding":"raw"}`} {
		if _, err := k.New(json.RawMessage(ok)); err != nil {
			t.Errorf("New(%s): %v", ok, err)
		}
	}
}
