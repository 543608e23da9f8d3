// Dodo Payments -> DataFast: payments, subscription renewals and refunds.
//
// DataFast is idempotent on transaction_id, so every id below is the same on
// each retry, replay or duplicate of an event, and DataFast counts it once.
//
// Renewals. A Dodo Payment does not say whether it is the first charge of a
// subscription or a renewal: both arrive as payment.succeeded with a
// subscription_id. The signal is the subscription event Dodo sends together
// with the charge: subscription.active with the first one and
// subscription.renewed with each renewal. So:
//   - payment.succeeded without a subscription_id is a one-time purchase:
//     sent with transaction_id = payment_id and renewal: false.
//   - payment.succeeded with a subscription_id is not sent: the subscription
//     event that comes with it records that charge, once.
//   - subscription.active records the first charge (renewal: false), or a
//     free trial (amount 0, is_free_trial: true) when the plan has one.
//   - subscription.renewed records a renewal (renewal: true).
//   Subscription records use transaction_id = subscription_id + ':' +
//   previous_billing_date, the start of the period just paid for, and the
//   amount recurring_pre_tax_amount: a Subscription carries no tax-inclusive
//   total. Charges Dodo sends without such an event (plan-change prorations,
//   on-demand charges) are not recorded; use the "payments" template to
//   record every charge without the renewal flag.
//
// Refunds. refund.succeeded is sent with refunded: true, the refunded amount
// and transaction_id = refund_id: reusing the payment's id would make
// DataFast answer "duplicate" and drop the refund, and each partial refund
// has its own id. Refund metadata rarely carries the visitor id, so refunds
// are sent without one if need be; customer_id and email let DataFast match
// them to the customer.
//
// Without a datafast_visitor_id (set in metadata at checkout) DataFast cannot
// attribute a payment, so payments without one are not sent.
function handler(webhook) {
  const { type, data } = webhook.payload;
  const visitorId = data?.metadata?.datafast_visitor_id;
  const customer = {
    email: data?.customer?.email ?? undefined,
    name: data?.customer?.name ?? undefined,
    customer_id: data?.customer?.customer_id ?? undefined,
  };

  if (type === 'refund.succeeded') {
    if (data.amount == null) {
      console.log(`refund ${data.refund_id} has no amount, not sent`);
      return null;
    }
    webhook.payload = {
      amount: toMajorUnits(data.amount, data.currency),
      currency: data.currency,
      transaction_id: data.refund_id,
      ...(visitorId ? { datafast_visitor_id: visitorId } : {}),
      ...customer,
      refunded: true,
      timestamp: new Date(data.created_at).toISOString(),
    };
    return webhook;
  }

  if (!visitorId) {
    console.log(`no datafast_visitor_id on ${data?.payment_id ?? data?.subscription_id ?? type}, not sent`);
    return null;
  }

  if (type === 'payment.succeeded') {
    if (data.subscription_id != null) {
      console.log(`${data.payment_id} is a charge of ${data.subscription_id}: recorded from its subscription event`);
      return null;
    }
    webhook.payload = {
      amount: toMajorUnits(data.total_amount, data.currency),
      currency: data.currency,
      transaction_id: data.payment_id,
      datafast_visitor_id: visitorId,
      ...customer,
      renewal: false,
      timestamp: new Date(data.created_at).toISOString(),
    };
    return webhook;
  }

  if (type === 'subscription.active' || type === 'subscription.renewed') {
    const renewal = type === 'subscription.renewed';
    const trial = !renewal && data.trial_period_days > 0;
    webhook.payload = {
      amount: trial ? 0 : toMajorUnits(data.recurring_pre_tax_amount, data.currency),
      currency: data.currency,
      transaction_id: `${data.subscription_id}:${data.previous_billing_date}`,
      datafast_visitor_id: visitorId,
      ...customer,
      renewal,
      ...(trial ? { is_free_trial: true } : {}),
      timestamp: new Date(data.previous_billing_date).toISOString(),
    };
    return webhook;
  }

  return null;
}
