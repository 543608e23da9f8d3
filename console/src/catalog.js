// What the console knows about event types per source kind, to offer them
// as checkboxes when a destination is created. The server accepts any type.

/** EVENT_TYPES lists each source kind's known event types. */
export const EVENT_TYPES = {
  "standard-webhooks": [
    "payment.succeeded", "payment.failed", "payment.processing", "payment.cancelled",
    "refund.succeeded", "refund.failed",
    "dispute.opened", "dispute.expired", "dispute.accepted", "dispute.cancelled", "dispute.challenged", "dispute.won", "dispute.lost",
    "subscription.active", "subscription.updated", "subscription.on_hold", "subscription.renewed", "subscription.plan_changed",
    "subscription.cancelled", "subscription.failed", "subscription.expired", "subscription.paused", "subscription.unpaused",
    "license_key.created", "credit.added", "credit.deducted", "credit.balance_low",
  ],
  stripe: [
    "payment_intent.succeeded", "payment_intent.payment_failed", "charge.succeeded", "charge.refunded", "refund.created",
    "charge.dispute.created", "charge.dispute.closed", "checkout.session.completed", "invoice.paid", "invoice.payment_failed",
    "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
  ],
  cryptomus: ["cryptomus.paid", "cryptomus.paid_over", "cryptomus.wrong_amount", "cryptomus.process", "cryptomus.fail", "cryptomus.cancel", "cryptomus.refund_paid"],
  hmac: [],
};

let catalog = null;
/** integrations returns the catalog (GET /v1/integrations), fetched once. */
export async function integrations(api) {
  if (!catalog) catalog = (await api("GET", "/v1/integrations")).data;
  return catalog;
}
