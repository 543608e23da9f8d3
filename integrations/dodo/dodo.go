// Package dodo names the Dodo Payments event types once, for every
// integration whose default template renders them (slack, discord, segment),
// so adding a type the templates handle is one line here.
package dodo

// Events returns the Dodo Payments event types the default chat and
// analytics templates render: payments, refunds, disputes and subscription
// changes. Dodo sends more (credit.*, license_key.*, the other dispute and
// subscription states); a merchant adds them to a destination's filter.
// A fresh slice each call, so no caller can change another's defaults.
func Events() []string {
	return []string{
		"payment.succeeded", "payment.failed",
		"refund.succeeded", "refund.failed",
		"dispute.opened", "dispute.won", "dispute.lost",
		"subscription.active", "subscription.renewed", "subscription.plan_changed", "subscription.on_hold",
		"subscription.cancelled", "subscription.failed", "subscription.expired",
	}
}
