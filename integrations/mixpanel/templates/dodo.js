// Dodo Payments -> Mixpanel Import API (POST /import?strict=1, the project
// token as Basic-auth user name; the body is an array of events).
//
// distinct_id is the Dodo customer_id (the email when there is none).
// Events:
//   payment.succeeded   "Purchase", revenue in major units (toMajorUnits
//                       knows JPY has no decimals and KWD three)
//   payment.failed      "Payment Failed"
//   refund.succeeded    "Refund", revenue negative, so a revenue sum nets it
//   subscription.*      "Subscription Active", "Subscription Renewed", ...
// Other events (disputes, license keys, credits) are not sent.
//
// time is the event's own timestamp in milliseconds, and $insert_id is
// derived from the event (type, resource id, timestamp), which Dodo repeats
// unchanged when it resends it: Mixpanel keeps one event per
// (event, distinct_id, time, $insert_id), so retries and replays count once.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const customer = data?.customer ?? {};
  const distinctId = customer.customer_id ?? data?.customer_id ?? customer.email;
  if (!distinctId) {
    return null;
  }
  const money = (minor) => (minor == null ? undefined : toMajorUnits(minor, data.currency));
  const title = (s) => s.split(/[._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');

  let event;
  let properties;
  if (type === 'payment.succeeded' || type === 'payment.failed') {
    event = type === 'payment.succeeded' ? 'Purchase' : 'Payment Failed';
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
    event = 'Refund';
    properties = { refund_id: data.refund_id, payment_id: data.payment_id, amount: money(data.amount), revenue: -money(data.amount), currency: data.currency, is_partial: data.is_partial, reason: data.reason ?? undefined };
  } else if (type.startsWith('subscription.')) {
    event = title(type);
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
  Object.assign(properties, {
    time: Date.parse(timestamp),
    distinct_id: distinctId,
    $insert_id: stableHex(`${type}:${id}:${timestamp}`),
    email: customer.email ?? undefined,
    source: 'dodo',
  });
  webhook.payload = [{ event, properties }];
  return webhook;
}

// stableHex turns a string into 32 hex digits, the same for the same string
// (four FNV-1a hashes with different seeds): a valid $insert_id (at most 36
// letters, digits or dashes).
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
