// Dodo Payments -> Segment Track (POST /v1/track, write key as Basic auth).
//
// userId is the Dodo customer_id; events without a customer are skipped.
// The event name comes from the type: payment.succeeded is "Payment
// Succeeded", subscription.plan_changed is "Subscription Plan Changed".
// Money is in major units (toMajorUnits knows JPY has no decimals and KWD
// three); "revenue" is set on successful payments only, so Segment's revenue
// reports count each payment once.
//
// messageId makes retries and replays idempotent at Segment: it is built from
// the event type, the resource id and the event's own timestamp, which Dodo
// repeats unchanged when it resends an event.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const userId = data?.customer?.customer_id ?? data?.customer_id;
  if (!userId) {
    return null;
  }
  const id = data.payment_id ?? data.refund_id ?? data.dispute_id ?? data.subscription_id ?? data.transaction_id ?? data.id;
  const event = type.split(/[._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
  const money = (minor) => (minor == null ? undefined : toMajorUnits(minor, data.currency));

  const properties = { currency: data.currency ?? undefined };
  switch (data.payload_type) {
    case 'Payment':
      Object.assign(properties, {
        payment_id: data.payment_id,
        amount: money(data.total_amount),
        tax: money(data.tax),
        subscription_id: data.subscription_id ?? undefined,
        payment_method: data.payment_method ?? undefined,
        status: data.status,
      });
      if (type === 'payment.succeeded') properties.revenue = properties.amount;
      if (data.error_message) properties.error = data.error_message;
      break;
    case 'Refund':
      Object.assign(properties, { refund_id: data.refund_id, payment_id: data.payment_id, amount: money(data.amount), is_partial: data.is_partial, reason: data.reason ?? undefined });
      break;
    case 'Dispute':
      Object.assign(properties, { dispute_id: data.dispute_id, payment_id: data.payment_id, amount: money(data.amount), stage: data.dispute_stage, status: data.dispute_status });
      break;
    case 'Subscription':
      Object.assign(properties, {
        subscription_id: data.subscription_id,
        product_id: data.product_id,
        status: data.status,
        recurring_amount: money(data.recurring_pre_tax_amount),
        interval: data.payment_frequency_interval,
        interval_count: data.payment_frequency_count,
        next_billing_date: data.next_billing_date ?? undefined,
      });
      break;
    default:
      Object.assign(properties, { id, amount: typeof data.amount === 'number' ? money(data.amount) : undefined });
  }

  webhook.payload = {
    userId,
    event,
    properties,
    timestamp,
    messageId: `${type}:${id}:${Date.parse(timestamp)}`,
    context: { traits: { email: data.customer?.email ?? undefined, name: data.customer?.name ?? undefined } },
  };
  return webhook;
}
