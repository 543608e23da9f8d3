// Stripe -> Inngest event API: every Stripe event becomes "stripe/<type>"
// (stripe/payment_intent.succeeded, ...) with the event's data.object as
// data, amount_major in major units when it has an amount, and the Stripe
// event id as the Inngest event id (functions start once per event).
function handler(webhook) {
  const { id, type, created, data } = webhook.payload;
  const obj = data?.object ?? {};
  const minor = obj.amount_received ?? obj.amount;
  webhook.payload = {
    name: `stripe/${type}`,
    id: `stripe:${id}`,
    ts: created * 1000,
    data: { ...obj, ...(typeof minor === 'number' && obj.currency ? { amount_major: toMajorUnits(minor, obj.currency) } : {}) },
  };
  return webhook;
}
