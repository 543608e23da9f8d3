// Dodo Payments -> a Windmill script or flow, run asynchronously
// (POST /api/w/<workspace>/jobs/run/p|f/<path>, Bearer token). The body is
// the run's arguments, so your script's main (or your flow's inputs) take:
//   type            the Dodo event type, e.g. "payment.succeeded"
//   data            the Dodo object as sent (amounts in the smallest unit)
//   timestamp       when Dodo sent the event (ISO 8601)
//   amount          the amount in major units from the ISO 4217 table
//                   (29.99 for 2999 USD, 4500 for 4500 JPY), or null
//   currency        the ISO 4217 code, or null
//   customer_id, customer_email
//   event_key       type, resource id and timestamp: the same on every
//                   retry and replay of the event, for your script to dedupe
//                   on (a Windmill async run has no idempotency key)
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const minor = data?.total_amount ?? data?.amount;
  const resource = data?.payment_id ?? data?.refund_id ?? data?.dispute_id ?? data?.subscription_id ?? data?.id ?? '';
  webhook.payload = {
    type,
    data,
    timestamp,
    amount: minor != null && data?.currency ? toMajorUnits(minor, data.currency) : null,
    currency: data?.currency ?? null,
    customer_id: data?.customer?.customer_id ?? data?.customer_id ?? null,
    customer_email: data?.customer?.email ?? null,
    event_key: `${type}:${resource}:${timestamp}`,
  };
  return webhook;
}
