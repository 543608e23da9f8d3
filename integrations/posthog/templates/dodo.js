// Dodo Payments -> PostHog capture (POST /i/v0/e/ on your region's host).
//
// PostHog wants the project API key in the body: hookshift gives the one in
// the destination's config to this script as webhook.env.posthog_api_key.
//
// distinct_id is the Dodo customer_id (the email when there is none), and
// $set keeps the person's email and name on their PostHog profile. Events:
//   payment.succeeded   "purchase", revenue in major units (toMajorUnits
//                       knows JPY has no decimals and KWD three)
//   payment.failed      "payment_failed"
//   refund.succeeded    "refund", revenue negative, so a revenue sum nets it
//   subscription.*      "subscription_active", "subscription_renewed", ...
//                       with the plan's recurring amount
// Other events (disputes, license keys, credits) are not sent.
//
// uuid is derived from the event (type, resource id, timestamp), which Dodo
// repeats unchanged when it resends it; with the same timestamp, PostHog
// stores a retried or replayed event once.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const customer = data?.customer ?? {};
  const distinctId = customer.customer_id ?? data?.customer_id ?? customer.email;
  if (!distinctId) {
    return null;
  }
  const money = (minor) => (minor == null ? undefined : toMajorUnits(minor, data.currency));

  let event;
  let properties;
  if (type === 'payment.succeeded' || type === 'payment.failed') {
    event = type === 'payment.succeeded' ? 'purchase' : 'payment_failed';
    properties = {
      payment_id: data.payment_id,
      amount: money(data.total_amount),
      currency: data.currency,
      tax: money(data.tax),
      subscription_id: data.subscription_id ?? undefined,
      payment_method: data.payment_method ?? undefined,
      error: data.error_message ?? undefined,
    };
    if (type === 'payment.succeeded') properties.revenue = properties.amount;
  } else if (type === 'refund.succeeded') {
    if (data.amount == null) {
      console.log(`refund ${data.refund_id} has no amount, not sent`);
      return null;
    }
    event = 'refund';
    properties = { refund_id: data.refund_id, payment_id: data.payment_id, amount: money(data.amount), revenue: -money(data.amount), currency: data.currency, is_partial: data.is_partial, reason: data.reason ?? undefined };
  } else if (type.startsWith('subscription.')) {
    event = type.replace('.', '_');
    properties = {
      subscription_id: data.subscription_id,
      product_id: data.product_id,
      status: data.status,
      recurring_amount: money(data.recurring_pre_tax_amount),
      currency: data.currency,
      interval: data.payment_frequency_interval,
      next_billing_date: data.next_billing_date ?? undefined,
    };
  } else {
    return null;
  }
  const id = data.payment_id ?? data.refund_id ?? data.subscription_id;
  properties.$set = { email: customer.email ?? undefined, name: customer.name ?? undefined };
  properties.source = 'dodo';

  webhook.payload = {
    api_key: webhook.env.posthog_api_key,
    event,
    distinct_id: distinctId,
    properties,
    timestamp,
    uuid: stableUUID(`${type}:${id}:${timestamp}`),
  };
  return webhook;
}

// stableUUID turns a string into a UUID-shaped id (version 8: custom), the
// same for the same string: four FNV-1a hashes with different seeds.
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
