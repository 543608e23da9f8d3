package queue

import (
	"bytes"
	"encoding/json"
	"strings"
)

// RedactPayload renders a task payload for the operator UI (asynqmon):
// indented JSON with secret-looking fields removed and the customer's email,
// name and phone masked. Operators see what an event is without seeing who.
func RedactPayload(taskType string, payload []byte) string {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "(payload is not JSON; hidden)"
	}
	out, err := json.MarshalIndent(redact(v, ""), "", "  ")
	if err != nil {
		return "(payload hidden)"
	}
	return string(out)
}

// redact walks a decoded JSON value; parent is the key holding it.
func redact(v any, parent string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			t[k] = redactField(strings.ToLower(k), strings.ToLower(parent), val)
		}
		return t
	case []any:
		for i := range t {
			t[i] = redact(t[i], parent)
		}
		return t
	default:
		return v
	}
}

func redactField(key, parent string, v any) any {
	s, isString := v.(string)
	switch {
	case isSecretKey(key):
		return "[redacted]"
	case !isString:
		return redact(v, key)
	case strings.Contains(key, "email"):
		return maskEmail(s)
	case strings.Contains(key, "phone"):
		return maskTail(s, 2)
	case key == "customer_name" || key == "full_name" || key == "cardholder_name" ||
		(key == "name" && (strings.Contains(parent, "customer") || strings.Contains(parent, "billing"))):
		return firstRune(s)
	}
	return v
}

func isSecretKey(k string) bool {
	if k == "sign" || k == "signature" {
		return true
	}
	for _, w := range []string{"secret", "token", "password", "api_key", "apikey", "authorization", "write_key", "webhook_url"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

func maskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return "***"
	}
	return firstRune(s) + s[at:]
}

func maskTail(s string, keep int) string {
	if len(s) <= keep {
		return "***"
	}
	return "***" + s[len(s)-keep:]
}

// firstRune keeps the first character and masks the rest: "A***".
func firstRune(s string) string {
	for _, r := range s {
		return string(r) + "***"
	}
	return ""
}
