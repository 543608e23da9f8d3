// Stripe -> Mixpanel Import API: payment_intent.succeeded as "Purchase"
// (revenue in major units) and refund.created as "Refund" (revenue
// negative). distinct_id is the Stripe customer id, else the receipt email;
// events without either are not sent. $insert_id is derived from the Stripe
// object id, so a retried or replayed event counts once.
function handler(webhook) {
  const { type, data, created } = webhook.payload;
  const obj = data?.object;
  const distinctId = obj?.customer ?? obj?.receipt_email;
  if (!distinctId || (type !== 'payment_intent.succeeded' && type !== 'refund.created')) {
    return null;
  }
  const refund = type === 'refund.created';
  const amount = toMajorUnits(refund ? obj.amount : (obj.amount_received ?? obj.amount), obj.currency);
  webhook.payload = [{
    event: refund ? 'Refund' : 'Purchase',
    properties: {
      time: created * 1000,
      distinct_id: distinctId,
      $insert_id: stableHex(`${type}:${obj.id}`),
      [refund ? 'refund_id' : 'payment_intent_id']: obj.id,
      amount,
      revenue: refund ? -amount : amount,
      currency: obj.currency.toUpperCase(),
      email: obj.receipt_email ?? undefined,
      source: 'stripe',
    },
  }];
  return webhook;
}

// stableHex: see the Dodo template.
function stableHex(s) {
  let hex = '';
  for (const seed of [0x811c9dc5, 0x01000193, 0x9e3779b9, 0x85ebca6b]) {
    let h = seed >>> 0;
    for (let i = 0; i < s.length; i++) {
      h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    }
    hex += h.toString(16).padStart(8, '0');
  }
  return hex;
}
