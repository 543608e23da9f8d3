package inbound

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	cryptomusKey  = "test-api-key"
	cryptomusKey2 = "rotated-api-key"
	// cryptomusPHP is, by hand, what PHP's
	// json_encode($data, JSON_UNESCAPED_UNICODE) writes for cryptomusBody.
	cryptomusPHP  = `{"type":"payment","uuid":"u-1","order_id":"ord\/1","amount":"15.00","status":"paid","additional_data":"Café – 東京 https:\/\/shop.example.com\/o\/1"}`
	cryptomusBody = `{"type":"payment","uuid":"u-1","order_id":"ord/1","amount":"15.00","status":"paid","additional_data":"Café – 東京 https://shop.example.com/o/1"}`
)

func cryptomusHandSign(key, php string) string {
	sum := md5.Sum([]byte(base64.StdEncoding.EncodeToString([]byte(php)) + key))
	return hex.EncodeToString(sum[:])
}

// withSign appends "sign" to a JSON object's text, as Cryptomus sends it.
func withSign(body, sign string) string {
	body = strings.TrimSpace(body)
	return body[:len(body)-1] + `,"sign":"` + sign + `"}`
}

func TestCryptomusVerify(t *testing.T) {
	good := cryptomusHandSign(cryptomusKey, cryptomusPHP)
	reordered := `{"uuid":"u-1","type":"payment","order_id":"ord/1","amount":"15.00","status":"paid","additional_data":"Café – 東京 https://shop.example.com/o/1"}`
	escapedInput := `{"type":"payment","uuid":"u-1","order_id":"ord\/1","amount":"15.00","status":"paid","additional_data":"Caf\u00e9 \u2013 \u6771\u4eac https:\/\/shop.example.com\/o\/1"}`
	noStatus := `{"type":"payment","uuid":"u-1"}`
	cases := []struct {
		name    string
		config  string
		body    string
		ip      string
		secrets []string
		want    error
	}{
		{name: "valid (hand-computed vector)", body: withSign(cryptomusBody, good), secrets: []string{cryptomusKey}},
		{name: "valid with escaped slashes and \\u escapes in transit", body: withSign(escapedInput, good), secrets: []string{cryptomusKey}},
		{name: "valid with sign first and whitespace", body: `{ "sign": "` + good + `",` + "\n" + cryptomusBody[1:], secrets: []string{cryptomusKey}},
		{name: "upper-case hex sign", body: withSign(cryptomusBody, strings.ToUpper(good)), secrets: []string{cryptomusKey}},
		{name: "rotation: second key", body: withSign(cryptomusBody, good), secrets: []string{cryptomusKey2, cryptomusKey}},
		{name: "keys re-ordered", body: withSign(reordered, good), secrets: []string{cryptomusKey}, want: ErrSignature},
		{name: "tampered amount", body: withSign(strings.Replace(cryptomusBody, "15.00", "150.00", 1), good), secrets: []string{cryptomusKey}, want: ErrSignature},
		{name: "tampered status", body: withSign(strings.Replace(cryptomusBody, `"paid"`, `"paid_over"`, 1), good), secrets: []string{cryptomusKey}, want: ErrSignature},
		{name: "wrong key", body: withSign(cryptomusBody, good), secrets: []string{cryptomusKey2}, want: ErrSignature},
		{name: "missing sign", body: cryptomusBody, secrets: []string{cryptomusKey}, want: ErrSignature},
		{name: "sign not hex", body: withSign(cryptomusBody, "zz"), secrets: []string{cryptomusKey}, want: ErrSignature},
		{name: "not JSON", body: "uuid=u-1&sign=" + good, secrets: []string{cryptomusKey}, want: ErrBody},
		{name: "signed body without status", body: withSign(noStatus, cryptomusHandSign(cryptomusKey, noStatus)), secrets: []string{cryptomusKey}, want: ErrBody},
		{name: "allow-list: allowed IP", config: `{"allowed_ips":["91.227.144.54"]}`, ip: "91.227.144.54", body: withSign(cryptomusBody, good), secrets: []string{cryptomusKey}},
		{name: "allow-list: CIDR, IPv4-mapped peer", config: `{"allowed_ips":["10.0.0.0/8","2001:db8::/32"]}`, ip: "::ffff:10.1.2.3", body: withSign(cryptomusBody, good), secrets: []string{cryptomusKey}},
		{name: "allow-list: IPv6 CIDR", config: `{"allowed_ips":["10.0.0.0/8","2001:db8::/32"]}`, ip: "2001:db8::1", body: withSign(cryptomusBody, good), secrets: []string{cryptomusKey}},
		{name: "allow-list: other IP", config: `{"allowed_ips":["91.227.144.54"]}`, ip: "91.227.144.55", body: withSign(cryptomusBody, good), secrets: []string{cryptomusKey}, want: ErrSignature},
		{name: "allow-list: unknown peer", config: `{"allowed_ips":["91.227.144.54"]}`, body: withSign(cryptomusBody, good), secrets: []string{cryptomusKey}, want: ErrSignature},
		{name: "no keys", body: withSign(cryptomusBody, good), want: ErrNoSecret},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := mustVerifier(t, "cryptomus", tc.config)
			var ip netip.Addr
			if tc.ip != "" {
				ip = netip.MustParseAddr(tc.ip)
			}
			ev, err := v.Verify(Request{Header: header(), Body: []byte(tc.body), RemoteIP: ip}, tc.secrets, testNow)
			wantErr(t, err, tc.want)
			if tc.want == nil && (ev.ID != "u-1:paid" || ev.Type != "cryptomus.paid") {
				t.Fatalf("event = %+v", ev)
			}
			if err != nil && strings.Contains(err.Error(), cryptomusKey) {
				t.Fatalf("error leaks the key: %v", err)
			}
		})
	}
}

func TestCryptomusSamples(t *testing.T) {
	files, err := filepath.Glob("../../testdata/cryptomus/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("cryptomus samples: %v, %d files", err, len(files))
	}
	k := mustKind(t, "cryptomus")
	v := mustVerifier(t, "cryptomus", "")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			pretty, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var fields struct{ UUID, Status string }
			if err := json.Unmarshal(pretty, &fields); err != nil {
				t.Fatal(err)
			}
			want := Event{ID: fields.UUID + ":" + fields.Status, Type: "cryptomus." + fields.Status}
			_, signed, err := k.Sign(nil, cryptomusKey, "", pretty, testNow)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := v.Verify(Request{Body: signed}, []string{cryptomusKey}, testNow)
			if err != nil || ev != want {
				t.Fatalf("Sign→Verify = %+v, %v; want %+v", ev, err, want)
			}
			// The pretty-printed file with the same sign added still
			// verifies: the sign covers the PHP re-encoding, not the bytes.
			var s struct{ Sign string }
			_ = json.Unmarshal(signed, &s)
			ev, err = v.Verify(Request{Body: []byte(withSign(string(pretty), s.Sign))}, []string{cryptomusKey}, testNow)
			if err != nil || ev != want {
				t.Fatalf("pretty body = %+v, %v", ev, err)
			}
		})
	}
}

// TestCryptomusVectorFromOtherEncoder pins one sample against a sign computed
// outside Go (Python: json.dumps(d, ensure_ascii=False, separators=(",", ":"))
// with "/" replaced by "\/", base64, + key, MD5), so Sign and Verify cannot
// share one mistake.
func TestCryptomusVectorFromOtherEncoder(t *testing.T) {
	body, err := os.ReadFile("../../testdata/cryptomus/paid_over.json")
	if err != nil {
		t.Fatal(err)
	}
	_, signed, err := mustKind(t, "cryptomus").Sign(nil, cryptomusKey, "", body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"sign":"26e91031e47a3efcc6aaa54dd709eda4"}`; !strings.HasSuffix(string(signed), want) {
		t.Fatalf("signed body ends %q, want %q", signed[len(signed)-50:], want)
	}
}

func TestCryptomusConfig(t *testing.T) {
	k := mustKind(t, "cryptomus")
	for _, tc := range []struct{ config, wantInErr string }{
		{`{"allowed_ips":["91.227.144.54","nope"]}`, "allowed_ips[1]"},
		{`{"allowed_ips":["10.0.0.0/33"]}`, "allowed_ips[0]"},
		{`{"allowed_ips":"91.227.144.54"}`, "allowed_ips"},
		{`{"allowed_ip":["91.227.144.54"]}`, "allowed_ip"},
	} {
		if _, err := k.New(json.RawMessage(tc.config)); err == nil || !strings.Contains(err.Error(), tc.wantInErr) {
			t.Errorf("New(%s) = %v, want an error naming %q", tc.config, err, tc.wantInErr)
		}
	}
}
