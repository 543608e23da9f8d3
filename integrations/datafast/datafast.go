// Package datafast is the DataFast revenue-analytics destination: payments
// posted to /api/v1/payments with a Bearer API key. DataFast is idempotent on
// transaction_id, so retries and replays never count a payment twice.
package datafast

import (
	"encoding/json"
	"net/http"

	"github.com/hookshift/hookshift/integrations/outbound"
)

// DefaultURL is DataFast's payments endpoint.
const DefaultURL = "https://datafa.st/api/v1/payments"

// Spec is the DataFast integration.
var Spec = outbound.Spec{
	Name:        "datafast",
	Title:       "DataFast",
	Description: "Revenue attribution: send each payment to DataFast with the visitor id from checkout.",
	DefaultURL:  DefaultURL,
	Auth:        "bearer",
	Fields: []outbound.Field{
		{Name: "api_key", Label: "API key", Secret: true, Required: true, Description: "DataFast API key (Settings → API)."},
	},
	DefaultEventTypes: []string{"payment.succeeded", "refund.succeeded"},
	Authorize: func(cfg map[string]string, h http.Header) {
		if k := cfg["api_key"]; k != "" {
			h.Set("Authorization", "Bearer "+k)
		}
	},
	ErrorMessage: errorMessage,
}

// errorMessage reads DataFast's {"status":"error","error":{"code","message"}}.
func errorMessage(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		return ""
	}
	if e.Error.Code != "" {
		return e.Error.Code + ": " + e.Error.Message
	}
	return e.Error.Message
}
