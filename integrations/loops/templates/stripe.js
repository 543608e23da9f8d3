// Stripe -> Loops (POST /api/v1/events/send): paymentSucceeded for a
// PaymentIntent and refundCreated for a refunded charge, for the receipt
// email's contact (userId = the Stripe customer when there is one). Stripe
// amounts are in the smallest unit with lower-case currency codes;
// toMajorUnits and formatAmount handle both.
function handler(webhook) {
  const { type, data } = webhook.payload;
  const obj = data?.object;
  let email, eventName, minor, props;
  if (type === 'payment_intent.succeeded') {
    email = obj.receipt_email;
    eventName = 'paymentSucceeded';
    minor = obj.amount_received ?? obj.amount;
    props = { paymentIntentId: obj.id };
  } else if (type === 'charge.refunded') {
    email = obj.billing_details?.email ?? obj.receipt_email;
    eventName = 'refundCreated';
    const latest = obj.refunds?.data?.[0];
    minor = latest ? latest.amount : obj.amount_refunded - (data.previous_attributes?.amount_refunded ?? 0);
    props = { chargeId: obj.id, refundId: latest?.id };
  } else {
    return null;
  }
  if (!email) {
    return null;
  }
  Object.assign(props, { amount: toMajorUnits(minor, obj.currency), amountFormatted: formatAmount(minor, obj.currency), currency: obj.currency.toUpperCase() });
  for (const k of Object.keys(props)) {
    if (props[k] == null) delete props[k];
  }
  const out = { email, eventName, eventProperties: props };
  if (typeof obj.customer === 'string') out.userId = obj.customer;
  webhook.payload = out;
  return webhook;
}
