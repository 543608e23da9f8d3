// Dodo Payments -> Loops (POST /api/v1/events/send, API key as Bearer).
//
// One event per payment, refund, dispute or subscription change. The
// contact is the customer: email, and userId = the Dodo customer_id; Loops
// creates the contact if it does not exist, and firstName/lastName (split
// from the customer's name) are set on it. eventName is the Dodo type in
// camel case (payment.succeeded -> paymentSucceeded,
// subscription.plan_changed -> subscriptionPlanChanged), as Loops event
// names allow no colon or dot. eventProperties hold only strings, numbers
// and booleans, the types Loops accepts: amount in major units from the
// currency table, currency, amountFormatted ("29.99 USD") and the ids.
// Events without a customer email are skipped.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const c = data?.customer;
  if (!c?.email) {
    return null;
  }
  const eventName = type.split(/[._]/).map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  // Loops reads dates as ECMA-262 date-time strings (milliseconds, not
  // Dodo's microseconds).
  const iso = (t) => new Date(t).toISOString();
  const props = {};
  const money = (minor, name) => {
    if (minor == null || !data.currency) return;
    props[name] = toMajorUnits(minor, data.currency);
    props[name + 'Formatted'] = formatAmount(minor, data.currency);
  };
  switch (data.payload_type) {
    case 'Payment':
      money(data.total_amount, 'amount');
      Object.assign(props, { paymentId: data.payment_id, subscriptionId: data.subscription_id, paymentMethod: data.payment_method, errorMessage: data.error_message });
      break;
    case 'Refund':
      money(data.amount, 'amount');
      Object.assign(props, { refundId: data.refund_id, paymentId: data.payment_id, isPartial: data.is_partial, reason: data.reason });
      break;
    case 'Dispute':
      money(data.amount, 'amount');
      Object.assign(props, { disputeId: data.dispute_id, paymentId: data.payment_id, stage: data.dispute_stage });
      break;
    case 'Subscription':
      money(data.recurring_pre_tax_amount, 'amount');
      Object.assign(props, {
        subscriptionId: data.subscription_id, productId: data.product_id, status: data.status,
        interval: data.payment_frequency_interval, intervalCount: data.payment_frequency_count,
        nextBillingDate: data.next_billing_date ? iso(data.next_billing_date) : undefined,
      });
      break;
    default:
      return null;
  }
  if (data.currency) props.currency = data.currency;
  if (timestamp) props.occurredAt = iso(timestamp);
  for (const k of Object.keys(props)) {
    if (props[k] === undefined || props[k] === null || props[k] === '') delete props[k];
  }
  const name = String(c.name ?? '').trim();
  const cut = name.lastIndexOf(' ');
  const out = { email: c.email, userId: c.customer_id, eventName, eventProperties: props };
  if (name) {
    out.firstName = cut > 0 ? name.slice(0, cut) : name;
    if (cut > 0) out.lastName = name.slice(cut + 1);
  }
  webhook.payload = out;
  return webhook;
}
