package inbound

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The fuzzers start from correctly signed requests and mutate body and
// signature header. Inputs are capped at fuzzMaxBody; every verifier bounds
// depth (DefaultMaxDepth here), and so does the PHP re-encoder. Their oracle is independent of the verifier: whenever
// Verify accepts, the test recomputes the MAC over exactly the bytes it was
// given and requires the header to carry it. Accepting a mutated body with
// the original signature is a failure.

func addSamples(f *testing.F, dir string, add func(body []byte)) {
	files, _ := filepath.Glob(filepath.Join("../../testdata", dir, "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

func FuzzStandardWebhooks(f *testing.F) {
	k := mustKind(f, "standard-webhooks")
	sign := func(body []byte) string {
		h, _, err := k.Sign(nil, swSecret, "msg_fuzz", body, testNow)
		if err != nil {
			f.Fatal(err)
		}
		return h.Get("webhook-signature")
	}
	f.Add([]byte(swBody), sign([]byte(swBody)))
	f.Add([]byte(`{"type":`), sign([]byte(`{"type":`)))
	f.Add([]byte(swBody), "v1,garbage v1, v2,"+sign([]byte(swBody))[3:])
	addSamples(f, "stripe", func(b []byte) { f.Add(b, sign(b)) })
	v := mustVerifier(f, "standard-webhooks", "")
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(swSecret, "whsec_"))
	ts := strconv.FormatInt(testNow.Unix(), 10)
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		if len(body) > fuzzMaxBody {
			return
		}
		h := header("webhook-id", "msg_fuzz", "webhook-timestamp", ts, "webhook-signature", sig)
		ev, err := v.Verify(Request{Header: h, Body: body}, []string{swSecret}, testNow)
		if err != nil {
			return
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte("msg_fuzz." + ts + "."))
		m.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
		if !strings.Contains(" "+sig+" ", " "+want+" ") {
			t.Fatalf("accepted body %q with signature %q; the body's real signature is %q", body, sig, want)
		}
		if ev.ID != "msg_fuzz" || ev.Type == "" {
			t.Fatalf("accepted with event %+v", ev)
		}
	})
}

func FuzzStripe(f *testing.F) {
	k := mustKind(f, "stripe")
	sign := func(body []byte) string {
		h, _, err := k.Sign(nil, stripeSecret, "", body, testNow)
		if err != nil {
			f.Fatal(err)
		}
		return h.Get("Stripe-Signature")
	}
	f.Add([]byte(stripeBody), sign([]byte(stripeBody)))
	f.Add([]byte(stripeBody), "t=1,v1=00,"+sign([]byte(stripeBody)))
	f.Add([]byte(stripeBody), strings.Replace(sign([]byte(stripeBody)), "v1=", "v0=", 1))
	addSamples(f, "stripe", func(b []byte) { f.Add(b, sign(b)) })
	v := mustVerifier(f, "stripe", "")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		if len(body) > fuzzMaxBody {
			return
		}
		_, err := v.Verify(Request{Header: header("Stripe-Signature", sig), Body: body}, []string{stripeSecret}, testNow)
		if err != nil {
			return
		}
		// Oracle: some t= in the header, with the body, must give one of
		// its v1= values.
		var ts, v1 []string
		for _, item := range strings.Split(sig, ",") {
			kv, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			switch kv {
			case "t":
				ts = append(ts, val)
			case "v1":
				v1 = append(v1, strings.ToLower(val))
			}
		}
		for _, tv := range ts {
			m := hmac.New(sha256.New, []byte(stripeSecret))
			m.Write([]byte(tv + "."))
			m.Write(body)
			want := hex.EncodeToString(m.Sum(nil))
			for _, got := range v1 {
				if got == want {
					return
				}
			}
		}
		t.Fatalf("accepted body %q with header %q, which does not sign it", body, sig)
	})
}

func FuzzHMAC(f *testing.F) {
	k := mustKind(f, "hmac")
	cfg := json.RawMessage(`{"preset":"github"}`)
	sign := func(body []byte) string {
		h, _, err := k.Sign(cfg, hmacSecret, "", body, testNow)
		if err != nil {
			f.Fatal(err)
		}
		return h.Get("X-Hub-Signature-256")
	}
	f.Add([]byte(hmacBody), sign([]byte(hmacBody)))
	f.Add([]byte("Hello, World!"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	addSamples(f, "hmac", func(b []byte) { f.Add(b, sign(b)) })
	v := mustVerifier(f, "hmac", string(cfg))
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		if len(body) > fuzzMaxBody {
			return
		}
		_, err := v.Verify(Request{Header: header("X-Hub-Signature-256", sig), Body: body}, []string{hmacSecret}, testNow)
		if err != nil {
			return
		}
		m := hmac.New(sha256.New, []byte(hmacSecret))
		m.Write(body)
		got, _ := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(sig), "sha256="))
		if !bytes.Equal(got, m.Sum(nil)) {
			t.Fatalf("accepted body %q with header %q, which does not sign it", body, sig)
		}
	})
}

// FuzzHMACConfig: any config either fails New with an error or yields a
// verifier that neither panics nor accepts an unsigned request.
func FuzzHMACConfig(f *testing.F) {
	f.Add(`{"preset":"github"}`)
	f.Add(`{"preset":"shopify","prefix":"x"}`)
	f.Add(`{"header":"X-S","algorithm":"sha512","encoding":"base64","event_id":{"json_path":"a.b"},"event_type":{"header":"T"}}`)
	f.Add(`{"header":"X-S","event_id":{"json_path":"a..b"}}`)
	f.Fuzz(func(t *testing.T, config string) {
		if len(config) > fuzzMaxBody {
			return
		}
		v, err := newHMAC(json.RawMessage(config))
		if err != nil {
			return
		}
		if _, err := v.Verify(Request{Header: header(), Body: []byte(`{"a":{"b":1}}`)}, []string{"k"}, testNow); err == nil {
			t.Fatalf("config %s accepted a request without a signature", config)
		}
	})
}

// cryptomusSigned maps each sign the fuzzer was seeded with to the value it
// signs, decoded generically. Accepting a body is only right if its sign is
// one of these and the body, minus sign, means the same: same values, same
// top-level key order.
type cryptomusSignedValue struct {
	value any
	keys  []string
}

func decodeForOracle(body []byte) (any, []string, string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil, nil, "", false
	}
	sign, _ := m["sign"].(string)
	delete(m, "sign")
	// Top-level key order, from the token stream.
	var keys []string
	dec = json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, nil, "", false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, "", false
		}
		if k, _ := tok.(string); k != "sign" {
			keys = append(keys, k)
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return nil, nil, "", false
		}
	}
	return normalizeEmpty(m), keys, sign, true
}

// normalizeEmpty applies PHP's {} → [] so the oracle compares meaning.
func normalizeEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return []any{}
		}
		for k, e := range x {
			x[k] = normalizeEmpty(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeEmpty(e)
		}
	}
	return v
}

func FuzzCryptomus(f *testing.F) {
	k := mustKind(f, "cryptomus")
	signed := map[string]cryptomusSignedValue{}
	seed := func(body []byte) {
		_, out, err := k.Sign(nil, cryptomusKey, "", body, testNow)
		if err != nil {
			f.Fatal(err)
		}
		val, keys, sign, ok := decodeForOracle(out)
		if !ok {
			f.Fatalf("seed %s does not decode", out)
		}
		signed[sign] = cryptomusSignedValue{val, keys}
		f.Add(out)
		f.Add([]byte(withSign(string(body), sign)))
	}
	seed([]byte(cryptomusBody))
	seed([]byte(`{"uuid":"u","status":"paid","x":{},"y":[1.50,"\u2028 \/ é"]}`))
	addSamples(f, "cryptomus", seed)
	v := mustVerifier(f, "cryptomus", "")
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > fuzzMaxBody {
			return
		}
		ev, err := v.Verify(Request{Body: body}, []string{cryptomusKey}, testNow)
		if err != nil {
			return
		}
		val, keys, sign, ok := decodeForOracle(body)
		if !ok {
			t.Fatalf("accepted a body the oracle cannot decode: %q", body)
		}
		want, known := signed[strings.ToLower(sign)]
		if !known {
			t.Fatalf("accepted a sign nobody computed: %q", body)
		}
		if !reflect.DeepEqual(val, want.value) || !reflect.DeepEqual(keys, want.keys) {
			t.Fatalf("accepted %q, whose content differs from what its sign covers", body)
		}
		if ev.ID == "" || !strings.HasPrefix(ev.Type, "cryptomus.") {
			t.Fatalf("accepted with event %+v", ev)
		}
	})
}

// FuzzPHPJSON: the re-encoder never panics, agrees with the reference
// encoder, and what it writes is valid JSON with the same meaning, a fixed
// point of itself, and free of unescaped "/".
func FuzzPHPJSON(f *testing.F) {
	for _, s := range []string{
		cryptomusBody, `{"a":{},"b":[{}],"sign":"x"}`, `{"s":"\u2028\u0000\ud83d\ude80 \/ \"\\"}`,
		`{"n":[1,-0.5e10,1E+2]}`, `{"a":{"a":{"a":[[[]]]}}}`, `{"":"","sign":""}`,
		`{"a":` + strings.Repeat("[", DefaultMaxDepth-1) + strings.Repeat("]", DefaultMaxDepth-1) + `}`,
		`{"s":"\ud800\u0041 \udc00 \ud83d\ude80 \ud83d\ud83d\ude80","k\u0061":1,"ka":2}`,
		`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"e":11}`,
		` { "sign" : "x\/y" , "n" : -1.5E+3 , "t" : true } `,
		`{"a":` + strings.Repeat("[", DefaultMaxDepth) + strings.Repeat("]", DefaultMaxDepth) + `}`,
	} {
		f.Add([]byte(s))
	}
	addSamples(f, "cryptomus", func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > fuzzMaxBody {
			return
		}
		out, sign, found, err := phpJSONWithout(in, "sign", 0)
		// Differential: the byte-level encoder agrees with the
		// json.Decoder-based reference on output, sign and refusal.
		rout, rsign, rfound, rerr := phpJSONReference(in, "sign", 0)
		if (err == nil) != (rerr == nil) || !bytes.Equal(out, rout) || sign != rsign || found != rfound {
			t.Fatalf("%q: encoder gives %q %q %v %v; reference gives %q %q %v %v", in, out, sign, found, err, rout, rsign, rfound, rerr)
		}
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q from %q", out, in)
		}
		for i := 0; i < len(out); i++ {
			if out[i] == '\\' {
				i++
			} else if out[i] == '/' {
				t.Fatalf("unescaped / in %q", out)
			}
		}
		again, _, _, err := phpJSONWithout(out, "sign", 0)
		if string(out) != "[]" && (err != nil || !bytes.Equal(again, out)) {
			t.Fatalf("not a fixed point: %q → %q (%v)", out, again, err)
		}
		in2, _, _ := decodeForOracleValue(in)
		out2, _, _ := decodeForOracleValue(out)
		if !reflect.DeepEqual(in2, out2) {
			t.Fatalf("meaning changed: %q → %q", in, out)
		}
	})
}

// decodeForOracleValue decodes any JSON value with sign removed at the top
// and PHP's {} → [] applied.
func decodeForOracleValue(b []byte) (any, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false, err
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "sign")
	}
	return normalizeEmpty(v), true, nil
}
