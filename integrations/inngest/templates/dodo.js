// Dodo Payments -> Inngest event API (POST /e/<event key>): every Dodo event
// becomes the Inngest event "dodo/<type>" (dodo/payment.succeeded,
// dodo/subscription.renewed, ...) that your functions trigger on.
//
// data is the Dodo object as sent, plus amount_major: the amount in major
// units from the ISO 4217 table (29.99 for 2999 USD, 4500 for 4500 JPY).
// user carries the customer's id and email. id makes retries and replays
// idempotent: Inngest starts functions once per event id (for 24 hours);
// it is built from the type, the resource id and the event's timestamp,
// which Dodo repeats unchanged when it resends an event.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const resource = data?.payment_id ?? data?.refund_id ?? data?.dispute_id ?? data?.subscription_id ?? data?.license_key_id ?? data?.id ?? '';
  const minor = data?.total_amount ?? data?.amount;
  const customer = data?.customer;
  webhook.payload = {
    name: `dodo/${type}`,
    id: `dodo:${type}:${resource}:${timestamp}`,
    ts: Date.parse(timestamp),
    data: {
      ...data,
      ...(minor != null && data?.currency ? { amount_major: toMajorUnits(minor, data.currency) } : {}),
    },
    ...(customer ? { user: { external_id: customer.customer_id ?? undefined, email: customer.email ?? undefined } } : {}),
  };
  return webhook;
}
