// Dodo Payments -> DataFast: every successful payment, as it was charged.
//
// Sends each payment.succeeded with its tax-inclusive total in major units
// (toMajorUnits knows that JPY has no decimals and KWD has three), and
// transaction_id = payment_id, on which DataFast is idempotent. It does not
// tell renewals apart: a Dodo Payment alone cannot say whether it is the
// first charge of a subscription. Use the "default" template for that.
//
// Without a datafast_visitor_id (set in metadata at checkout) DataFast cannot
// attribute the payment, so it is not sent.
function handler(webhook) {
  const { type, data } = webhook.payload;
  if (type !== 'payment.succeeded') {
    return null;
  }
  const visitorId = data.metadata?.datafast_visitor_id;
  if (!visitorId) {
    console.log(`no datafast_visitor_id on ${data.payment_id}, not sent`);
    return null;
  }
  webhook.payload = {
    amount: toMajorUnits(data.total_amount, data.currency),
    currency: data.currency,
    transaction_id: data.payment_id,
    datafast_visitor_id: visitorId,
    email: data.customer?.email ?? undefined,
    name: data.customer?.name ?? undefined,
    customer_id: data.customer?.customer_id ?? undefined,
    timestamp: new Date(data.created_at).toISOString(),
  };
  return webhook;
}
