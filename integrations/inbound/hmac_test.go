package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

const (
	hmacSecret  = "It's a Secret to Everybody"
	hmacSecret2 = "rotated secret"
	hmacBody    = `{"id":"ord_1","type":"order.paid","data":{"id":42,"ref":"r-1"}}`
)

func TestHMACVerify(t *testing.T) {
	// Independent vectors: GitHub's documented example
	// (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries)
	// signs "Hello, World!" with "It's a Secret to Everybody".
	const ghDocSig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	shopifySig := base64.StdEncoding.EncodeToString(hmacSHA256([]byte(hmacSecret), hmacBody))
	m512 := hmac.New(sha512.New, []byte(hmacSecret))
	m512.Write([]byte(hmacBody))
	sig512 := hex.EncodeToString(m512.Sum(nil))
	ghSig := "sha256=" + hex.EncodeToString(hmacSHA256([]byte(hmacSecret), hmacBody))
	bodySum := sha256.Sum256([]byte(hmacBody))
	hashID := "sha256:" + hex.EncodeToString(bodySum[:])
	docSum := sha256.Sum256([]byte("Hello, World!"))
	docID := "sha256:" + hex.EncodeToString(docSum[:])

	cases := []struct {
		name, config string
		header       []string
		body         string
		secrets      []string
		want         error
		wantEvent    Event
	}{
		{name: "github doc vector", config: `{"preset":"github"}`, body: "Hello, World!",
			header:  []string{"X-Hub-Signature-256", ghDocSig, "X-GitHub-Delivery", "d-1", "X-GitHub-Event", "ping"},
			secrets: []string{hmacSecret}, wantEvent: Event{ID: docID, Type: "ping"}},
		{name: "github", config: `{"preset":"github"}`, body: hmacBody,
			header:  []string{"X-Hub-Signature-256", ghSig, "X-GitHub-Delivery", "d-1", "X-GitHub-Event", "sponsorship"},
			secrets: []string{hmacSecret}, wantEvent: Event{ID: hashID, Type: "sponsorship"}},
		{name: "github, rotation", config: `{"preset":"github"}`, body: hmacBody,
			header:  []string{"X-Hub-Signature-256", ghSig, "X-GitHub-Delivery", "d-1"},
			secrets: []string{hmacSecret2, hmacSecret}, wantEvent: Event{ID: hashID}},
		{name: "github, upper-case hex", config: `{"preset":"github"}`, body: hmacBody,
			header:  []string{"X-Hub-Signature-256", "sha256=" + strings.ToUpper(ghSig[7:]), "X-GitHub-Delivery", "d-1"},
			secrets: []string{hmacSecret}, wantEvent: Event{ID: hashID}},
		{name: "github, no delivery header: body hash", config: `{"preset":"github"}`, body: hmacBody,
			header:  []string{"X-Hub-Signature-256", ghSig},
			secrets: []string{hmacSecret}, wantEvent: Event{ID: hashID}},
		{name: "github, tampered body", config: `{"preset":"github"}`, body: hmacBody + " ",
			header: []string{"X-Hub-Signature-256", ghSig}, secrets: []string{hmacSecret}, want: ErrSignature},
		{name: "github, wrong secret", config: `{"preset":"github"}`, body: hmacBody,
			header: []string{"X-Hub-Signature-256", ghSig}, secrets: []string{hmacSecret2}, want: ErrSignature},
		{name: "github, missing prefix", config: `{"preset":"github"}`, body: hmacBody,
			header: []string{"X-Hub-Signature-256", ghSig[7:]}, secrets: []string{hmacSecret}, want: ErrSignature},
		{name: "github, missing header", config: `{"preset":"github"}`, body: hmacBody,
			header: []string{"X-Hub-Signature", "sha1=00"}, secrets: []string{hmacSecret}, want: ErrSignature},
		{name: "shopify", config: `{"preset":"shopify"}`, body: hmacBody,
			header:  []string{"X-Shopify-Hmac-Sha256", shopifySig, "X-Shopify-Webhook-Id", "w-1", "X-Shopify-Topic", "orders/paid"},
			secrets: []string{hmacSecret}, wantEvent: Event{ID: hashID, Type: "orders/paid"}},
		{name: "shopify, hex is not base64", config: `{"preset":"shopify"}`, body: hmacBody,
			header: []string{"X-Shopify-Hmac-Sha256", ghSig[7:]}, secrets: []string{hmacSecret}, want: ErrSignature},
		{name: "sha512 with json paths", config: `{"header":"X-Signature","algorithm":"sha512","event_id":{"json_path":"data.id"},"event_type":{"json_path":"type"}}`, body: hmacBody,
			header: []string{"X-Signature", sig512}, secrets: []string{hmacSecret}, wantEvent: Event{ID: "42", Type: "order.paid"}},
		{name: "json path missing: body hash", config: `{"header":"X-Signature","algorithm":"sha512","event_id":{"json_path":"data.nope"}}`, body: hmacBody,
			header: []string{"X-Signature", sig512}, secrets: []string{hmacSecret}, wantEvent: Event{ID: hashID}},
		{name: "json path on a signed non-JSON body", config: `{"header":"X-Signature","event_id":{"json_path":"id"}}`, body: "a=1",
			header: []string{"X-Signature", hex.EncodeToString(hmacSHA256([]byte(hmacSecret), "a=1"))}, secrets: []string{hmacSecret}, want: ErrBody},
		{name: "no secrets", config: `{"preset":"github"}`, body: hmacBody,
			header: []string{"X-Hub-Signature-256", ghSig}, want: ErrNoSecret},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := mustVerifier(t, "hmac", tc.config)
			ev, err := v.Verify(Request{Header: header(tc.header...), Body: []byte(tc.body)}, tc.secrets, testNow)
			wantErr(t, err, tc.want)
			if tc.want == nil && ev != tc.wantEvent {
				t.Fatalf("event = %+v, want %+v", ev, tc.wantEvent)
			}
			if err != nil && strings.Contains(err.Error(), hmacSecret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestHMACSamples(t *testing.T) {
	k := mustKind(t, "hmac")
	// The presets' delivery-id headers are not signed: the id is the body's
	// hash (id "" below), whatever id the sender puts in the header.
	for _, tc := range []struct{ file, config, id string }{
		{"github-sponsorship.json", `{"preset":"github"}`, ""},
		{"shopify-orders-paid.json", `{"preset":"shopify"}`, ""},
		{"shopify-orders-paid.json", `{"header":"X-Sig","prefix":"v1=","encoding":"base64","event_id":{"json_path":"id"},"event_type":{"json_path":"financial_status"}}`, "5817421234567"},
	} {
		t.Run(tc.file+" "+tc.config, func(t *testing.T) {
			body, err := os.ReadFile("../../testdata/hmac/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			h, out, err := k.Sign(json.RawMessage(tc.config), hmacSecret, "delivery-1", body, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if tc.id == "" {
				sum := sha256.Sum256(out)
				tc.id = "sha256:" + hex.EncodeToString(sum[:])
			}
			ev, err := mustVerifier(t, "hmac", tc.config).Verify(Request{Header: h, Body: out}, []string{hmacSecret}, testNow)
			if err != nil || ev.ID != tc.id {
				t.Fatalf("Sign→Verify = %+v, %v; want id %s", ev, err, tc.id)
			}
		})
	}
}

func TestHMACConfig(t *testing.T) {
	k := mustKind(t, "hmac")
	for _, tc := range []struct{ config, wantInErr string }{
		{``, "header is required"},
		{`{"preset":"gitlab"}`, `preset "gitlab"`},
		{`{"header":"X-Sig","algorithm":"md5"}`, `algorithm "md5"`},
		{`{"header":"X-Sig","encoding":"base32"}`, `encoding "base32"`},
		{`{"header":"X-Sig","event_id":{"header":"A","json_path":"b"}}`, "event_id"},
		{`{"header":"X-Sig","event_type":{"json_path":"a..b"}}`, "event_type.json_path"},
		{`{"header":"X-Sig","event_id":{"path":"id"}}`, `"path"`},
		{`{"header":"X-Sig","algoritm":"sha512"}`, "algoritm"},
	} {
		if _, err := k.New(json.RawMessage(tc.config)); err == nil || !strings.Contains(err.Error(), tc.wantInErr) {
			t.Errorf("New(%s) = %v, want an error naming %q", tc.config, err, tc.wantInErr)
		}
	}
	// A preset is a starting point: explicit fields override it.
	v, err := parseHMACConfig(json.RawMessage(`{"preset":"github","header":"X-Hub-Signature-512","prefix":"sha512=","algorithm":"sha512"}`))
	if err != nil || v.cfg.Header != "X-Hub-Signature-512" || v.cfg.Encoding != "hex" || v.cfg.EventID.Header != "X-GitHub-Delivery" {
		t.Fatalf("preset override = %+v, %v", v, err)
	}
}

func TestRegistry(t *testing.T) {
	want := []string{"cryptomus", "hmac", "standard-webhooks", "stripe"}
	if got := Kinds(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Kinds() = %v, want %v", got, want)
	}
	for _, name := range want {
		k, ok := Lookup(name)
		if !ok || k.Name != name || k.New == nil || k.Sign == nil {
			t.Fatalf("Lookup(%q) = %+v, %v", name, k, ok)
		}
		if (k.NewSecret != nil) != (name == "standard-webhooks") {
			t.Errorf("%s: NewSecret set = %v", name, k.NewSecret != nil)
		}
	}
	if _, ok := Lookup("svix"); ok {
		t.Fatal("Lookup of an unknown kind succeeded")
	}
}
