// Stripe -> a Windmill script or flow: the run's arguments are type, data
// (the event's data.object), created (unix seconds), amount in major units
// (or null), currency (upper case, or null), customer_id and event_key (the
// Stripe event id, for your script to dedupe on).
function handler(webhook) {
  const { id, type, created, data } = webhook.payload;
  const obj = data?.object ?? {};
  const minor = obj.amount_received ?? obj.amount;
  webhook.payload = {
    type,
    data: obj,
    created,
    amount: typeof minor === 'number' && obj.currency ? toMajorUnits(minor, obj.currency) : null,
    currency: obj.currency ? obj.currency.toUpperCase() : null,
    customer_id: obj.customer ?? null,
    event_key: id,
  };
  return webhook;
}
