package inbound

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// swMatch, which feeds the MAC the id, timestamp and body without copying
// the body, agrees with the library's VerifyIgnoringTimestamp on every shape
// of webhook-signature header.
func TestSwMatchAgreesWithLibrary(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	wh, _ := standardwebhooks.NewWebhookRaw(key)
	body := []byte(`{"type":"payment.succeeded","data":{"x":1}}`)
	ts := time.Unix(1764637200, 0)
	good, err := wh.Sign("msg_1", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := wh.Sign("msg_2", ts, body)
	for _, sig := range []string{
		good, other, good + " " + other, other + " " + good, "v2," + good[3:], good + ",extra",
		"  " + good + "  ", "v1", "v1,", "", "v1," + good[3:len(good)-1], other + " v1 " + good,
	} {
		h := http.Header{}
		h.Set("webhook-id", "msg_1")
		h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		h.Set("webhook-signature", sig)
		want := wh.VerifyIgnoringTimestamp(body, h) == nil
		if got := swMatch(key, "msg_1", ts.Unix(), body, sig); got != want {
			t.Errorf("signature header %q: swMatch %v, library %v", sig, got, want)
		}
	}
}
