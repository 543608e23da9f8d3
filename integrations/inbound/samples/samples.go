// Package samples holds sample events for each inbound source kind, so a
// merchant can test a transform before the first real webhook arrives. The
// files are copies of the repository's testdata (which the receiver's tests
// verify), embedded in the binary.
package samples

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
)

//go:embed standard-webhooks/*.json stripe/*.json cryptomus/*.json hmac/*.json
var files embed.FS

// Sample is one event body a source of some kind might receive.
type Sample struct {
	Name      string          `json:"name"`
	EventType string          `json:"event_type"`
	Payload   json.RawMessage `json:"payload"`
}

// hmacTypes names the event type of each generic HMAC sample: GitHub and
// Shopify send it in a header (X-GitHub-Event, X-Shopify-Topic), not the body.
var hmacTypes = map[string]string{
	"github-sponsorship":  "sponsorship",
	"shopify-orders-paid": "orders/paid",
}

// For returns the samples of a source kind, sorted by name, and false for a
// kind without samples.
func For(kind string) ([]Sample, bool) {
	if !slices.Contains(Kinds(), kind) { // not a path: "." or "a/.." must not list anything
		return nil, false
	}
	entries, err := fs.ReadDir(files, kind)
	if err != nil {
		return nil, false
	}
	out := make([]Sample, 0, len(entries))
	for _, e := range entries {
		b, err := files.ReadFile(path.Join(kind, e.Name()))
		if err != nil {
			panic(fmt.Sprintf("embedded sample %s/%s: %v", kind, e.Name(), err)) // cannot happen: embedded
		}
		name := strings.TrimSuffix(e.Name(), ".json")
		out = append(out, Sample{Name: name, EventType: eventType(kind, name, b), Payload: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, true
}

// Kinds returns the source kinds that have samples, sorted.
func Kinds() []string {
	entries, _ := fs.ReadDir(files, ".")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// eventType is the type the receiver would derive for the sample: the
// envelope's "type" (Standard Webhooks, Stripe), "cryptomus." + status (as
// the Cryptomus verifier names it), or the header value a generic HMAC
// sender would send.
func eventType(kind, name string, body []byte) string {
	var env struct {
		Type   string `json:"type"`
		Status string `json:"status"`
	}
	_ = json.Unmarshal(body, &env)
	switch kind {
	case "cryptomus":
		return "cryptomus." + env.Status
	case "hmac":
		return hmacTypes[name]
	default:
		return env.Type
	}
}
