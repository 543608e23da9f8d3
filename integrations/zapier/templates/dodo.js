// Dodo Payments -> Zapier Catch Hook: one flat JSON object per event, so
// every value is its own field in the Zap editor (Zapier flattens nested
// objects into awkward "data__customer__email" names otherwise).
//
// amount is in major units from the currency table (29.99 USD, 4500 JPY,
// 12.5 KWD); amount_minor is Dodo's integer and amount_formatted the text
// "29.99 USD". The customer's id and email are customer_id and
// customer_email, the fields a Zap matches a person on. Metadata keys become
// metadata_<key>. Event types other than payments, refunds, disputes and
// subscriptions are sent too, with their ids.
function handler(webhook) {
  const { type, data, timestamp, business_id } = webhook.payload;
  const d = data ?? {};
  const out = { event_type: type, timestamp, business_id };
  const money = (minor, prefix) => {
    if (minor == null || !d.currency) return;
    out[prefix] = toMajorUnits(minor, d.currency);
    out[prefix + '_minor'] = Number(minor);
    out[prefix + '_formatted'] = formatAmount(minor, d.currency);
  };
  switch (d.payload_type) {
    case 'Payment':
      money(d.total_amount, 'amount');
      if (d.tax != null) out.tax = toMajorUnits(d.tax, d.currency);
      Object.assign(out, { status: d.status, payment_method: d.payment_method, error_message: d.error_message });
      break;
    case 'Refund':
      money(d.amount, 'amount');
      Object.assign(out, { status: d.status, is_partial: d.is_partial, reason: d.reason });
      break;
    case 'Dispute':
      money(d.amount, 'amount');
      Object.assign(out, { dispute_stage: d.dispute_stage, dispute_status: d.dispute_status, remarks: d.remarks });
      break;
    case 'Subscription':
      money(d.recurring_pre_tax_amount, 'recurring_amount');
      Object.assign(out, {
        status: d.status, product_id: d.product_id, quantity: d.quantity,
        interval: d.payment_frequency_interval, interval_count: d.payment_frequency_count,
        next_billing_date: d.next_billing_date, cancel_at_next_billing_date: d.cancel_at_next_billing_date,
      });
      break;
    default:
      if (typeof d.amount === 'number') money(d.amount, 'amount');
  }
  if (d.currency) out.currency = d.currency;
  for (const k of ['payment_id', 'refund_id', 'dispute_id', 'subscription_id', 'license_key_id', 'id']) {
    if (d[k] != null) out[k === 'id' ? 'object_id' : k] = d[k];
  }
  const c = d.customer;
  out.customer_id = c?.customer_id ?? d.customer_id;
  out.customer_email = c?.email;
  out.customer_name = c?.name;
  for (const [k, v] of Object.entries(d.metadata ?? {})) {
    out['metadata_' + k.replace(/[^A-Za-z0-9_]/g, '_')] = v;
  }
  for (const k of Object.keys(out)) {
    if (out[k] === undefined || out[k] === null) delete out[k];
  }
  webhook.payload = out;
  return webhook;
}
