// Cryptomus -> DataFast: paid invoices.
//
// Cryptomus sends amounts in major units, as strings ("15.00"), so the
// amount is the invoice's `amount` in its `currency`, turned into a number;
// no currency exponent applies. paid_over (the payer sent more) records the
// invoice amount too: the surplus is in the payer's currency.
// transaction_id is the invoice uuid: paid and paid_over are the two final
// states of one invoice and must not count twice.
//
// The visitor id travels in additional_data, which the merchant sets when
// creating the invoice: either a JSON object with datafast_visitor_id, or the
// bare visitor id. Without one, the payment is not sent.
function handler(webhook) {
  const p = webhook.payload;
  if (p.status !== 'paid' && p.status !== 'paid_over') {
    return null;
  }
  let visitorId;
  let extra = {};
  if (typeof p.additional_data === 'string' && p.additional_data !== '') {
    try {
      extra = JSON.parse(p.additional_data) ?? {};
      visitorId = extra.datafast_visitor_id;
    } catch (e) {
      if (/^[\w-]{8,80}$/.test(p.additional_data)) visitorId = p.additional_data;
    }
  }
  if (!visitorId) {
    console.log(`no datafast_visitor_id on invoice ${p.order_id ?? p.uuid}, not sent`);
    return null;
  }
  const amount = Number(p.amount);
  if (!Number.isFinite(amount)) {
    throw new Error(`invoice ${p.uuid}: amount ${p.amount} is not a number`);
  }
  webhook.payload = {
    amount,
    currency: p.currency,
    transaction_id: p.uuid,
    datafast_visitor_id: visitorId,
    email: extra.email ?? undefined,
    name: extra.name ?? extra.customer ?? undefined,
    customer_id: extra.customer_id ?? undefined,
  };
  return webhook;
}
