// Dodo Payments -> HubSpot deal upsert (POST
// /crm/v3/objects/deals/batch/upsert on the destination's host).
//
// Before using it, create a deal property with internal name
// dodo_payment_id, type single-line text, "Require unique values" on
// (Settings → Properties → Deal properties). Deals are upserted on it, so
// a payment is one deal however often it is retried or replayed.
//
// payment.succeeded: a closed-won deal in the default pipeline, amount in
// major units from the currency table, deal_currency_code the payment's
// currency (it must be one of the account's currencies), closedate the
// payment's time. Other events are skipped.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  webhook.url = webhook.url.replace(/\/crm\/v3\/objects\/[^/]+\/batch\/upsert\/?$/, '/crm/v3/objects/deals/batch/upsert');
  const who = data?.customer?.name || data?.customer?.email || data?.customer?.customer_id || 'customer';
  if (type !== 'payment.succeeded' || !data?.payment_id) {
    return null;
  }
  const properties = {
    dealname: `${who}: ${formatAmount(data.total_amount, data.currency)}${data.subscription_id ? ' (subscription)' : ''}`,
    amount: toMajorUnits(data.total_amount, data.currency),
    deal_currency_code: data.currency,
    // HubSpot dates are ISO 8601 with milliseconds (or epoch ms); Dodo's
    // timestamps carry microseconds.
    closedate: new Date(data.created_at ?? timestamp).toISOString(),
    pipeline: 'default',
    dealstage: 'closedwon',
  };
  webhook.payload = { inputs: [{ idProperty: 'dodo_payment_id', id: data.payment_id, properties: { ...properties, dodo_payment_id: data.payment_id } }] };
  return webhook;
}
