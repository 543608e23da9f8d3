package inbound

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	stripeSecret  = "whsec_test_5f1c0e8d1a4a4e9f0b3c7d5e2a9b14aa"
	stripeSecret2 = "whsec_test_rotated_0b3c7d5e2a9b14aa5f1c0e8d"
	stripeBody    = `{"id":"evt_1","object":"event","type":"refund.created","data":{"object":{"id":"re_1","amount":1500}}}`
)

func stripeHandSig(secret string, ts int64, body string) string {
	return hex.EncodeToString(hmacSHA256([]byte(secret), strconv.FormatInt(ts, 10), ".", body))
}

func TestStripeVerify(t *testing.T) {
	now := testNow.Unix()
	tsHdr := func(ts int64, sigs ...string) []string {
		h := "t=" + strconv.FormatInt(ts, 10)
		for _, s := range sigs {
			h += "," + s
		}
		return []string{"Stripe-Signature", h}
	}
	good := "v1=" + stripeHandSig(stripeSecret, now, stripeBody)
	wrong := "v1=" + stripeHandSig("whsec_other", now, stripeBody)
	cases := []struct {
		name    string
		header  []string
		body    string
		secrets []string
		want    error
	}{
		{"valid", tsHdr(now, good), stripeBody, []string{stripeSecret}, nil},
		{"v0 ignored, v1 matches", tsHdr(now, "v0="+stripeHandSig(stripeSecret, now, stripeBody), good), stripeBody, []string{stripeSecret}, nil},
		{"two v1, only the second matches", tsHdr(now, wrong, good), stripeBody, []string{stripeSecret}, nil},
		{"malformed v1 then good v1", tsHdr(now, "v1=zz", good), stripeBody, []string{stripeSecret}, nil},
		{"rotation: second secret", tsHdr(now, good), stripeBody, []string{stripeSecret2, stripeSecret}, nil},
		{"spaces after commas", []string{"Stripe-Signature", "t=" + strconv.FormatInt(now, 10) + ", " + good}, stripeBody, []string{stripeSecret}, nil},
		{"tampered body", tsHdr(now, good), strings.Replace(stripeBody, "1500", "15000", 1), []string{stripeSecret}, ErrSignature},
		{"wrong secret", tsHdr(now, good), stripeBody, []string{stripeSecret2}, ErrSignature},
		{"t does not match the signed t", tsHdr(now+1, good), stripeBody, []string{stripeSecret}, ErrSignature},
		{"stale timestamp", tsHdr(now-301, "v1="+stripeHandSig(stripeSecret, now-301, stripeBody)), stripeBody, []string{stripeSecret}, ErrSignature},
		{"future timestamp", tsHdr(now+301, "v1="+stripeHandSig(stripeSecret, now+301, stripeBody)), stripeBody, []string{stripeSecret}, ErrSignature},
		{"only v0", tsHdr(now, "v0="+stripeHandSig(stripeSecret, now, stripeBody)), stripeBody, []string{stripeSecret}, ErrSignature},
		{"no t", []string{"Stripe-Signature", good}, stripeBody, []string{stripeSecret}, ErrSignature},
		{"two t", tsHdr(now, "t=1", good), stripeBody, []string{stripeSecret}, ErrSignature},
		{"missing header", nil, stripeBody, []string{stripeSecret}, ErrSignature},
		{"unsigned malformed body", tsHdr(now, good), `{"id":`, []string{stripeSecret}, ErrSignature},
		{"signed malformed body", tsHdr(now, "v1="+stripeHandSig(stripeSecret, now, `{"id":`)), `{"id":`, []string{stripeSecret}, ErrBody},
		{"signed body without id", tsHdr(now, "v1="+stripeHandSig(stripeSecret, now, `{"type":"x"}`)), `{"type":"x"}`, []string{stripeSecret}, ErrBody},
		{"signed body with numeric id", tsHdr(now, "v1="+stripeHandSig(stripeSecret, now, `{"id":1,"type":"x"}`)), `{"id":1,"type":"x"}`, []string{stripeSecret}, ErrBody},
		{"no secrets", tsHdr(now, good), stripeBody, []string{""}, ErrNoSecret},
	}
	v := mustVerifier(t, "stripe", "")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := v.Verify(Request{Header: header(tc.header...), Body: []byte(tc.body)}, tc.secrets, testNow)
			wantErr(t, err, tc.want)
			if tc.want == nil && (ev.ID != "evt_1" || ev.Type != "refund.created") {
				t.Fatalf("event = %+v", ev)
			}
			if err != nil && strings.Contains(err.Error(), stripeSecret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestStripeSamples(t *testing.T) {
	files, err := filepath.Glob("../../testdata/stripe/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("stripe samples: %v, %d files", err, len(files))
	}
	k := mustKind(t, "stripe")
	v := mustVerifier(t, "stripe", "")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			h, out, err := k.Sign(nil, stripeSecret, "", body, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if want := "t=" + strconv.FormatInt(testNow.Unix(), 10) + ",v1=" + stripeHandSig(stripeSecret, testNow.Unix(), string(body)); h.Get("Stripe-Signature") != want {
				t.Fatalf("Sign header = %q, want %q", h.Get("Stripe-Signature"), want)
			}
			ev, err := v.Verify(Request{Header: h, Body: out}, []string{stripeSecret}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			wantType := strings.TrimSuffix(filepath.Base(f), ".json")
			if ev.Type != wantType || !strings.HasPrefix(ev.ID, "evt_") {
				t.Fatalf("event = %+v, want type %s and an evt_ id", ev, wantType)
			}
		})
	}
}

func TestStripeConfig(t *testing.T) {
	if _, err := mustKind(t, "stripe").New([]byte(`{"tolerance":600}`)); err == nil || !strings.Contains(err.Error(), "tolerance") {
		t.Fatalf("unknown field not refused by name: %v", err)
	}
}
