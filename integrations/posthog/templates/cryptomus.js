// Cryptomus -> PostHog capture: paid and paid_over invoices as "purchase".
// Cryptomus amounts are already in major units (a decimal string in the
// invoice currency). Cryptomus knows no customer, so the checkout must put
// one in the invoice's additional_data as JSON, {"customer_id": "...",
// "email": "..."}; invoices without either are not sent. uuid is derived
// from the invoice uuid and status, so a repeated callback is stored once.
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
  webhook.payload = {
    api_key: webhook.env.posthog_api_key,
    event: 'purchase',
    distinct_id: String(distinctId),
    properties: {
      order_id: p.order_id,
      invoice_uuid: p.uuid,
      amount,
      revenue: amount,
      currency: p.currency,
      payer_currency: p.payer_currency ?? undefined,
      network: p.network ?? undefined,
      source: 'cryptomus',
      ...(extra.email ? { $set: { email: extra.email } } : {}),
    },
    uuid: stableUUID(`cryptomus:${p.uuid}:${p.status}`),
  };
  return webhook;
}

// stableUUID: see the Dodo template.
function stableUUID(s) {
  let hex = '';
  for (const seed of [0x811c9dc5, 0x01000193, 0x9e3779b9, 0x85ebca6b]) {
    let h = seed >>> 0;
    for (let i = 0; i < s.length; i++) {
      h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    }
    hex += h.toString(16).padStart(8, '0');
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
