package inbound

import (
	"encoding/json"
	"strings"

	"github.com/hookshift/hookshift/store"
)

// Bounds on what is taken from a payload: key values become index entries in
// Redis, so a hostile or odd payload must not make an event expensive.
const (
	maxKeyLen     = 200
	maxPaymentIDs = 3
)

// envelope holds the fields SearchKeys reads from the three provider shapes:
//
//   - Dodo: data.customer.{customer_id,email}, data.customer_id (credit
//     ledger, license keys) and data.payment_id (payments, refunds, disputes,
//     license keys).
//   - Stripe: data.object with customer (an id, or the expanded customer),
//     receipt_email / billing_details.email / customer_email /
//     customer_details.email, and payment_intent and charge ids; a charge's or
//     payment intent's own id is a payment id too.
//   - Cryptomus: uuid (the invoice) and order_id (the merchant's order) are
//     both payment ids; callbacks carry no customer or email.
type envelope struct {
	Data struct {
		// Dodo
		PaymentID  json.RawMessage `json:"payment_id"`
		CustomerID json.RawMessage `json:"customer_id"`
		Customer   *struct {
			CustomerID json.RawMessage `json:"customer_id"`
			Email      json.RawMessage `json:"email"`
		} `json:"customer"`
		// Stripe
		Object *struct {
			ID              json.RawMessage `json:"id"`
			Object          json.RawMessage `json:"object"`
			Customer        json.RawMessage `json:"customer"`
			ReceiptEmail    json.RawMessage `json:"receipt_email"`
			CustomerEmail   json.RawMessage `json:"customer_email"`
			PaymentIntent   json.RawMessage `json:"payment_intent"`
			Charge          json.RawMessage `json:"charge"`
			BillingDetails  *emailOnly      `json:"billing_details"`
			CustomerDetails *emailOnly      `json:"customer_details"`
		} `json:"object"`
	} `json:"data"`
	// Cryptomus
	UUID    json.RawMessage `json:"uuid"`
	OrderID json.RawMessage `json:"order_id"`
}

// emailOnly is a Stripe sub-object read for its email.
type emailOnly struct {
	Email json.RawMessage `json:"email"`
}

// SearchKeys extracts the customer id, customer email and payment ids of a
// Dodo, Stripe or Cryptomus event body. It never fails: a body of another
// shape, or a field of an unexpected JSON type, yields empty keys. Values
// longer than 200 bytes are ignored. The email is lower case, and the
// payment ids distinct, at most maxPaymentIDs. The result is the store's own
// type: what the event log indexes is what is extracted here. A body nested
// deeper than MaxDepthCeiling (more than the receiver can be configured to
// accept) yields empty keys before anything is decoded.
func SearchKeys(body []byte) store.SearchKeys {
	if CheckDepth(body, MaxDepthCeiling) != nil {
		return store.SearchKeys{}
	}
	var e envelope
	if json.Unmarshal(body, &e) != nil {
		return store.SearchKeys{}
	}
	var k store.SearchKeys
	addPayment := func(raw json.RawMessage) {
		id := str(raw)
		if id == "" || len(k.PaymentIDs) == maxPaymentIDs {
			return
		}
		for _, have := range k.PaymentIDs {
			if have == id {
				return
			}
		}
		k.PaymentIDs = append(k.PaymentIDs, id)
	}
	d := e.Data
	if c := d.Customer; c != nil {
		k.CustomerID, k.Email = str(c.CustomerID), str(c.Email)
	}
	k.CustomerID = first(k.CustomerID, str(d.CustomerID))
	addPayment(d.PaymentID)

	if o := d.Object; o != nil {
		k.CustomerID = first(k.CustomerID, str(o.Customer), expandedID(o.Customer))
		k.Email = first(k.Email, str(o.ReceiptEmail), str(o.CustomerEmail))
		if o.BillingDetails != nil {
			k.Email = first(k.Email, str(o.BillingDetails.Email))
		}
		if o.CustomerDetails != nil {
			k.Email = first(k.Email, str(o.CustomerDetails.Email))
		}
		// The payment intent first: every charge, refund and dispute of one
		// payment shares it, so it finds the whole story.
		addPayment(o.PaymentIntent)
		switch str(o.Object) {
		case "payment_intent", "charge":
			addPayment(o.ID)
		}
		addPayment(o.Charge)
	}

	addPayment(e.UUID)
	addPayment(e.OrderID)
	k.Email = NormalizeEmail(k.Email)
	return k
}

// NormalizeEmail is how SearchKeys writes an email; a search applies it to
// the email it looks for.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// str returns a JSON string's value, or "" for any other JSON value and for
// strings over maxKeyLen.
func str(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	s = strings.TrimSpace(s)
	if len(s) > maxKeyLen {
		return ""
	}
	return s
}

// expandedID is the id of an expanded Stripe object (`"customer": {"id": ...}`).
func expandedID(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '{' {
		return ""
	}
	var o struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return ""
	}
	return str(o.ID)
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
