// Cryptomus -> Zapier Catch Hook: invoice status changes as one flat object.
// Cryptomus amounts are strings in major units ("15.00"): amount is that
// number in the invoice currency, payer_amount what the payer sent.
function handler(webhook) {
  const p = webhook.payload;
  if (!p.uuid || !p.status) {
    return null;
  }
  const num = (v) => (v == null || v === '' ? undefined : Number(v));
  const out = {
    event_type: `cryptomus.${p.status}`,
    invoice_id: p.uuid,
    order_id: p.order_id,
    status: p.status,
    is_final: p.is_final,
    amount: num(p.amount),
    currency: p.currency,
    payer_amount: num(p.payer_amount),
    payer_currency: p.payer_currency ?? undefined,
    merchant_amount: num(p.merchant_amount),
    network: p.network ?? undefined,
    txid: p.txid ?? undefined,
    additional_data: p.additional_data ?? undefined,
  };
  for (const k of Object.keys(out)) {
    if (out[k] === undefined || out[k] === null) delete out[k];
  }
  webhook.payload = out;
  return webhook;
}
