// Cryptomus -> Mixpanel Import API: paid and paid_over invoices as
// "Purchase". Cryptomus amounts are already in major units (a decimal
// string in the invoice currency). Cryptomus knows no customer, so the
// checkout must put one in the invoice's additional_data as JSON,
// {"customer_id": "...", "email": "..."}; invoices without either are not
// sent. Cryptomus callbacks carry no time, so time is when hookshift sends;
// $insert_id (invoice uuid and status) still makes a repeated callback count
// once within Mixpanel's deduplication window.
function handler(webhook) {
  const p = webhook.payload;
  if (p.status !== 'paid' && p.status !== 'paid_over') {
    return null;
  }
  let extra = {};
  try {
    extra = JSON.parse(p.additional_data ?? '') ?? {};
  } catch (e) {
    extra = {};
  }
  const distinctId = extra.customer_id ?? extra.email;
  if (!distinctId) {
    console.log(`invoice ${p.order_id ?? p.uuid}: no customer_id or email in additional_data, not sent`);
    return null;
  }
  const amount = Number(p.amount);
  if (!Number.isFinite(amount)) {
    throw new Error(`invoice ${p.uuid}: amount ${p.amount} is not a number`);
  }
  webhook.payload = [{
    event: 'Purchase',
    properties: {
      time: Date.now(),
      distinct_id: String(distinctId),
      $insert_id: stableHex(`cryptomus:${p.uuid}:${p.status}`),
      order_id: p.order_id,
      invoice_uuid: p.uuid,
      amount,
      revenue: amount,
      currency: p.currency,
      email: extra.email ?? undefined,
      source: 'cryptomus',
    },
  }];
  return webhook;
}

// stableHex: see the Dodo template.
function stableHex(s) {
  let hex = '';
  for (const seed of [0x811c9dc5, 0x01000193, 0x9e3779b9, 0x85ebca6b]) {
    let h = seed >>> 0;
    for (let i = 0; i < s.length; i++) {
      h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    }
    hex += h.toString(16).padStart(8, '0');
  }
  return hex;
}
