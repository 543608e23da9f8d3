// Dodo Payments -> DataFast: refunds.
//
// Each refund.succeeded is sent with refunded: true and the refunded amount
// in major units. transaction_id is the refund_id, not the payment_id:
// DataFast is idempotent on transaction_id, so reusing the payment's id
// would be answered "duplicate" and the refund dropped, and each partial
// refund of one payment has its own refund_id. Refund metadata rarely carries
// the visitor id; customer_id and email let DataFast match the customer.
function handler(webhook) {
  const { type, data } = webhook.payload;
  if (type !== 'refund.succeeded') {
    return null;
  }
  if (data.amount == null) {
    console.log(`refund ${data.refund_id} has no amount, not sent`);
    return null;
  }
  const visitorId = data.metadata?.datafast_visitor_id;
  webhook.payload = {
    amount: toMajorUnits(data.amount, data.currency),
    currency: data.currency,
    transaction_id: data.refund_id,
    ...(visitorId ? { datafast_visitor_id: visitorId } : {}),
    email: data.customer?.email ?? undefined,
    name: data.customer?.name ?? undefined,
    customer_id: data.customer?.customer_id ?? undefined,
    refunded: true,
    timestamp: new Date(data.created_at).toISOString(),
  };
  return webhook;
}
