package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `hookshift transform test` runs a script offline (no server, no Redis),
// prints the resulting request, and exits non-zero with the line on error.
func TestTransformTestCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.js")
	bad := filepath.Join(dir, "bad.js")
	_ = os.WriteFile(good, []byte("function handler(w) {\n  w.payload = { id: w.payload.data.payment_id, k: w.env.K, u: w.url };\n  return w;\n}"), 0o600)
	_ = os.WriteFile(bad, []byte("function handler(w) {\n  console.log('x');\n  return w.payload.data.missing.field;\n}"), 0o600)
	event := filepath.Join("..", "..", "testdata", "dodo", "payment.succeeded.usd.json")

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"transform", "test", "--code", good, "--event", event, "--url", "https://x.example/h", "--env", "K=v1"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res struct {
		Cancel  bool
		Method  string
		URL     string
		Payload map[string]string
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not JSON: %s", out.String())
	}
	if !strings.Contains(out.String(), `"headers": {}`) || !strings.Contains(out.String(), `"logs": []`) {
		t.Fatalf("empty headers or logs are not {} and []: %s", out.String())
	}
	if res.Method != "POST" || res.URL != "https://x.example/h" || res.Payload["k"] != "v1" || !strings.HasPrefix(res.Payload["id"], "pay_") {
		t.Fatalf("result = %+v", res)
	}

	out.Reset()
	errb.Reset()
	code = run(context.Background(), []string{"transform", "test", "--code", bad, "--event", event}, &out, &errb)
	if code == 0 {
		t.Fatal("a throwing script exited 0")
	}
	if !strings.Contains(errb.String(), bad+":3:") || !strings.Contains(errb.String(), "console: x") {
		t.Fatalf("stderr = %q, want the file, line 3 and the console output", errb.String())
	}
}
