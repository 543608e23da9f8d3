// Dodo Payments -> Customer.io Track API v2 (POST /api/v2/entity, site id
// and Track API key as Basic auth): one person event per Dodo event.
//
// The person is identified by the Dodo customer_id (identifiers.id), or by
// email when there is no customer_id. Events:
//   payment.succeeded   "purchase", revenue in major units (toMajorUnits
//                       knows JPY has no decimals and KWD three)
//   payment.failed      "payment_failed"
//   refund.succeeded    "refund"
//   subscription.*      "subscription_active", "subscription_renewed", ...
// Other events (disputes, license keys, credits) are not sent.
//
// id is a ULID made from the event (its timestamp, then a hash of type,
// resource id and timestamp), which Dodo repeats unchanged when it resends
// an event: Customer.io deduplicates events on it, so retries and replays
// trigger a campaign once.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const customer = data?.customer ?? {};
  const customerId = customer.customer_id ?? data?.customer_id;
  const identifiers = customerId ? { id: customerId } : (customer.email ? { email: customer.email } : null);
  if (!identifiers) {
    return null;
  }
  const money = (minor) => (minor == null ? undefined : toMajorUnits(minor, data.currency));

  let name;
  let attributes;
  if (type === 'payment.succeeded' || type === 'payment.failed') {
    name = type === 'payment.succeeded' ? 'purchase' : 'payment_failed';
    attributes = {
      payment_id: data.payment_id,
      amount: money(data.total_amount),
      currency: data.currency,
      subscription_id: data.subscription_id ?? undefined,
      error: data.error_message ?? undefined,
    };
    if (type === 'payment.succeeded') attributes.revenue = attributes.amount;
  } else if (type === 'refund.succeeded') {
    name = 'refund';
    attributes = { refund_id: data.refund_id, payment_id: data.payment_id, amount: money(data.amount), currency: data.currency, is_partial: data.is_partial, reason: data.reason ?? undefined };
  } else if (type.startsWith('subscription.')) {
    name = type.replace('.', '_');
    attributes = {
      subscription_id: data.subscription_id,
      product_id: data.product_id,
      status: data.status,
      recurring_amount: money(data.recurring_pre_tax_amount),
      currency: data.currency,
      next_billing_date: data.next_billing_date ?? undefined,
    };
  } else {
    return null;
  }
  const resource = data.payment_id ?? data.refund_id ?? data.subscription_id;
  const ms = Date.parse(timestamp);
  webhook.payload = {
    type: 'person',
    identifiers,
    action: 'event',
    id: stableULID(ms, `${type}:${resource}:${timestamp}`),
    name,
    timestamp: Math.floor(ms / 1000),
    attributes: { ...attributes, email: customer.email ?? undefined },
  };
  return webhook;
}

// stableULID is a ULID (26 Crockford base32 characters: 48 bits of
// milliseconds, then 80 bits) whose second part is a hash of s instead of
// random, so the same event always gets the same id.
function stableULID(ms, s) {
  const abc = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let time = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) {
    time = abc[t % 32] + time;
  }
  let hex = '';
  for (const seed of [0x811c9dc5, 0x01000193, 0x9e3779b9, 0x85ebca6b]) {
    let h = seed >>> 0;
    for (let i = 0; i < s.length; i++) {
      h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    }
    hex += h.toString(16).padStart(8, '0');
  }
  let rest = '';
  for (let i = 0; i < 16; i++) {
    rest += abc[parseInt(hex.slice(i * 2, i * 2 + 2), 16) & 31];
  }
  return time + rest;
}
