// Stripe -> PostHog capture: payment_intent.succeeded as "purchase" (revenue
// in major units) and refund.created as "refund" (revenue negative).
// distinct_id is the Stripe customer id, else the receipt email; events
// without either are not sent. The project API key comes from the config as
// webhook.env.posthog_api_key. uuid is the Stripe object id made UUID-shaped,
// so a retried or replayed event is stored once.
function handler(webhook) {
  const { type, data, created } = webhook.payload;
  const obj = data?.object;
  const distinctId = obj?.customer ?? obj?.receipt_email;
  if (!distinctId || (type !== 'payment_intent.succeeded' && type !== 'refund.created')) {
    return null;
  }
  const amount = toMajorUnits(type === 'payment_intent.succeeded' ? (obj.amount_received ?? obj.amount) : obj.amount, obj.currency);
  const refund = type === 'refund.created';
  webhook.payload = {
    api_key: webhook.env.posthog_api_key,
    event: refund ? 'refund' : 'purchase',
    distinct_id: distinctId,
    properties: {
      [refund ? 'refund_id' : 'payment_intent_id']: obj.id,
      payment_intent_id: refund ? obj.payment_intent ?? undefined : obj.id,
      amount,
      revenue: refund ? -amount : amount,
      currency: obj.currency.toUpperCase(),
      source: 'stripe',
      ...(obj.receipt_email ? { $set: { email: obj.receipt_email } } : {}),
    },
    timestamp: new Date(created * 1000).toISOString(),
    uuid: stableUUID(`${type}:${obj.id}`),
  };
  return webhook;
}

// stableUUID: see the Dodo template.
function stableUUID(s) {
  let hex = '';
  for (const seed of [0x811c9dc5, 0x01000193, 0x9e3779b9, 0x85ebca6b]) {
    let h = seed >>> 0;
    for (let i = 0; i < s.length; i++) {
      h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    }
    hex += h.toString(16).padStart(8, '0');
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
