package generic

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

var testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// A request signed by Spec.Sign verifies with the Standard Webhooks library,
// as a merchant's endpoint would check it.
func TestSignVerifiesWithStandardWebhooks(t *testing.T) {
	body := []byte(`{"type":"payment.succeeded","data":{"payment_id":"pay_1"}}`)
	var got http.Header
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		buf := new(bytes.Buffer)
		_, _ = buf.ReadFrom(r.Body)
		gotBody = buf.Bytes()
	}))
	defer srv.Close()

	cfg := map[string]string{SigningSecretField: testSecret}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if err := Spec.Sign(cfg, "evt_1:dst_1", time.Now(), body, req.Header); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(gotBody, got); err != nil {
		t.Fatalf("Verify: %v (headers %v)", err, got)
	}
	if got.Get("webhook-id") != "evt_1:dst_1" {
		t.Errorf("webhook-id = %q", got.Get("webhook-id"))
	}
	if !strings.HasPrefix(got.Get("webhook-signature"), "v1,") {
		t.Errorf("webhook-signature = %q", got.Get("webhook-signature"))
	}

	// Any change to the body, or another secret, fails verification.
	if err := wh.Verify(append(gotBody, ' '), got); err == nil {
		t.Error("a changed body verified")
	}
	other, _ := standardwebhooks.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-of-32-bytes-long!")))
	if err := other.Verify(gotBody, got); err == nil {
		t.Error("another secret verified")
	}
}

// A stale timestamp is refused by the receiver: each attempt must be signed
// afresh with the send time.
func TestSignUsesTheGivenTime(t *testing.T) {
	body := []byte(`{}`)
	h := http.Header{}
	ts := time.Now().Add(-10 * time.Minute)
	if err := Sign(map[string]string{SigningSecretField: testSecret}, "m1", ts, body, h); err != nil {
		t.Fatal(err)
	}
	wh, _ := standardwebhooks.NewWebhook(testSecret)
	if err := wh.Verify(body, h); err == nil {
		t.Fatal("a 10-minute-old signature verified")
	}
	if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
		t.Fatalf("signature itself is wrong: %v", err)
	}
}

func TestSignWithoutSecretAddsNothing(t *testing.T) {
	h := http.Header{}
	if err := Sign(map[string]string{}, "m1", time.Now(), []byte(`{}`), h); err != nil {
		t.Fatal(err)
	}
	if len(h) != 0 {
		t.Fatalf("headers added without a secret: %v", h)
	}
}

func TestValidateSigningSecret(t *testing.T) {
	cases := []struct {
		secret string
		ok     bool
	}{
		{"", true},
		{testSecret, true},
		{"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 64)), true},
		{"whsec_", false},
		{"whsec_" + base64.StdEncoding.EncodeToString([]byte("short")), false},
		{"whsec_not base64!!", false},
		{"0123456789abcdef0123456789abcdef", false},
	}
	for _, tc := range cases {
		err := Spec.Validate(map[string]string{SigningSecretField: tc.secret})
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tc.secret, err, tc.ok)
		}
		if err != nil && tc.secret != "" && strings.Contains(err.Error(), strings.TrimPrefix(tc.secret, "whsec_")) && len(tc.secret) > 6 {
			t.Errorf("error quotes the secret: %v", err)
		}
		if !tc.ok {
			h := http.Header{}
			if Sign(map[string]string{SigningSecretField: tc.secret}, "m", time.Now(), nil, h) == nil {
				t.Errorf("Sign accepted %q", tc.secret)
			}
		}
	}
}

func TestAuthorizeBearer(t *testing.T) {
	h := http.Header{}
	Spec.Authorize(map[string]string{"bearer_token": "tok"}, h)
	if h.Get("Authorization") != "Bearer tok" {
		t.Fatalf("Authorization = %q", h.Get("Authorization"))
	}
}
