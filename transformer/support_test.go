package transformer

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// dodoEvent loads a sample event from testdata/dodo.
func dodoEvent(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "dodo", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventInput is the Input a DataFast destination gives the script.
func eventInput(t testing.TB, name string) Input {
	t.Helper()
	raw := dodoEvent(t, name)
	var env struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	return Input{
		Method:    "POST",
		URL:       "https://datafa.st/api/v1/payments",
		EventType: env.Type,
		Payload:   raw,
		Env:       map[string]string{"DATAFAST_API_KEY": "df_test_key", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXX"},
	}
}

func run(t testing.TB, e *Engine, code string, in Input) (Result, error) {
	t.Helper()
	return e.Run(context.Background(), Script{TenantID: "tenant_a", Code: code}, in)
}

func mustRun(t testing.TB, e *Engine, code string, in Input) Result {
	t.Helper()
	res, err := run(t, e, code, in)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// scriptError asserts err is a *Error of kind.
func scriptError(t testing.TB, err error, kind string) *Error {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("want *Error of kind %q, got %v", kind, err)
	}
	if se.Kind != kind {
		t.Fatalf("want kind %q, got %q: %v", kind, se.Kind, se)
	}
	return se
}

func decode(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("payload %s: %v", raw, err)
	}
	return m
}

func simpleInput(payload string) Input {
	return Input{Method: "POST", URL: "https://example.com/hook", EventType: "payment.succeeded", Payload: json.RawMessage(payload)}
}
