// Stripe -> Zapier Catch Hook: payments, refunds and disputes as one flat
// object each. Stripe amounts are in the smallest unit with lower-case
// currency codes; toMajorUnits handles both and currency is sent upper case.
function handler(webhook) {
  const { type, data, created, id: event_id } = webhook.payload;
  const obj = data?.object;
  if (!obj || !['payment_intent.succeeded', 'refund.created', 'charge.dispute.created', 'charge.dispute.closed'].includes(type)) {
    return null;
  }
  const amount = type === 'payment_intent.succeeded' ? (obj.amount_received ?? obj.amount) : obj.amount;
  const out = {
    event_type: type,
    event_id,
    timestamp: new Date(created * 1000).toISOString(),
    object_id: obj.id,
    amount: toMajorUnits(amount, obj.currency),
    amount_minor: amount,
    amount_formatted: formatAmount(amount, obj.currency),
    currency: obj.currency.toUpperCase(),
    status: obj.status,
    payment_intent: typeof obj.payment_intent === 'string' ? obj.payment_intent : undefined,
    customer_id: typeof obj.customer === 'string' ? obj.customer : undefined,
    customer_email: obj.receipt_email ?? undefined,
    reason: obj.reason ?? undefined,
  };
  for (const [k, v] of Object.entries(obj.metadata ?? {})) {
    out['metadata_' + k.replace(/[^A-Za-z0-9_]/g, '_')] = v;
  }
  for (const k of Object.keys(out)) {
    if (out[k] === undefined || out[k] === null) delete out[k];
  }
  webhook.payload = out;
  return webhook;
}
